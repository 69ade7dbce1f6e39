/**
 * The plain Avro serde (no registry, no header).
 * @module
 */

import type { Type as AvroType } from 'avsc';
import { InvalidSchemaError } from './errors.js';
import type { AvroSchema, InferAvro } from './infer-avro.js';
import { createAvroType } from './internal/avro-type.js';
import { decodeAvro, encodeAvro, messageOf } from './internal/codec.js';
import type { Serde } from './types.js';

/** A serde that also exposes the avsc type it uses (for tests, tooling and benchmarks). */
export interface AvroSerde<T> extends Serde<T> {
  /** The parsed avsc type of the schema (with Cascade's `bigint` long and logical types). */
  readonly type: AvroType;
}

/** The value type of an Avro serde: `T` when given explicitly, else inferred from the schema. */
export type AvroValue<T, S> = [T] extends [undefined] ? InferAvro<S> : T;

/**
 * Parses an Avro schema with Cascade's representations, or throws {@link InvalidSchemaError}.
 * @internal
 */
export function parseSchema(schema: unknown, what = 'the schema'): AvroType {
  try {
    return createAvroType(schema);
  } catch (error) {
    throw new InvalidSchemaError(
      `${what} is not a valid Avro schema: ${messageOf(error)}. Fix the schema.`,
      {},
      {
        cause: error,
      },
    );
  }
}

/**
 * A serde for plain Avro binary with a fixed schema: no registry, no header, the writer and the
 * reader share the schema. Declare the schema `as const` and the value type is inferred
 * ({@link InferAvro}); or pass the type: `avro<Order>(schema)`.
 *
 * Representations: `long` → `bigint`, `timestamp-millis` → `Date`, `date` → `'YYYY-MM-DD'`,
 * `decimal` → decimal string, `uuid` → string (see docs/schema.md).
 *
 * @throws {InvalidSchemaError} when `schema` is not valid Avro.
 * @example
 * ```ts
 * const schema = {
 *   type: 'record', name: 'Ping', fields: [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }],
 * } as const;
 * const ping = avro(schema); // Serde<{ at: Date }>
 * const bytes = await ping.serialize({ at: new Date() }, { topic: 'pings', headers: {}, isKey: false });
 * ```
 */
export function avro<T = undefined, const S extends AvroSchema = AvroSchema>(
  schema: S,
): AvroSerde<AvroValue<T, S>> {
  const type = parseSchema(schema);
  return {
    type,
    serialize: (value, context) => encodeAvro(type, value, 0, context),
    deserialize: (bytes, context) => decodeAvro(type, bytes, 0, undefined, context) as AvroValue<T, S>,
  };
}
