/**
 * Builds avsc types the Cascade way: `bigint` longs, Cascade's logical types, unions unwrapped
 * where avsc can tell the branches apart ('auto'), and helpers that turn avsc's validation into
 * a field path and an expected type.
 * @module
 */

import avro from 'avsc';
import { bigintLongType } from './bigint-long.js';
import { decodeMarkingUnrepresentable, logicalTypes, UnrepresentableValueError } from './logical-types.js';

type AvroType = avro.Type;

/** Options of {@link createAvroType}. */
export interface CreateAvroTypeOptions {
  /**
   * Named types already known (from schema references), by full name. The named types the
   * schema defines are added to it, so it can be passed on to a schema that references them.
   */
  readonly namedTypes?: Record<string, AvroType>;
}

/** The logical type being built, while avsc builds its underlying type. */
let buildingLogicalType: string | undefined;

function typeHook(schema: unknown, opts: object): AvroType | undefined {
  if (schema === 'long') return bigintLongType;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const { type, logicalType } = schema as { type?: unknown; logicalType?: unknown };
  if (buildingLogicalType === undefined && typeof logicalType === 'string') {
    const logical = logicalTypes[logicalType];
    if (logical !== undefined && typeof type === 'string' && logical.underlying.includes(type)) {
      buildingLogicalType = logicalType;
      try {
        return new logical.type(schema as avro.Schema, opts);
      } catch {
        // An invalid logical type (e.g. decimal without precision) is read as its underlying
        // type, as the Avro specification mandates.
      } finally {
        buildingLogicalType = undefined;
      }
    }
  }
  // timestamp-millis sits on avsc's own (number) long: milliseconds fit in 2^53 for any Date,
  // and its long is faster than a bigint one.
  if (buildingLogicalType === 'timestamp-millis') return undefined;
  return type === 'long' ? bigintLongType : undefined;
}

/**
 * Parses an Avro schema (object or JSON text) into an avsc type. Throws avsc's error when the
 * schema is invalid.
 */
export function createAvroType(schema: unknown, options: CreateAvroTypeOptions = {}): AvroType {
  // Registry schema text is JSON (`{...}`, `[...]`, `"string"`); a bare name is a type name.
  const parsed =
    typeof schema === 'string' && /^\s*[[{"]/.test(schema) ? (JSON.parse(schema) as unknown) : schema;
  return avro.Type.forSchema(parsed as avro.Schema, {
    registry: options.namedTypes ?? {},
    typeHook: typeHook as (schema: avro.Schema, opts: unknown) => AvroType | undefined,
    wrapUnions: 'auto',
  });
}

/** What is wrong with a value, as found by avsc's validation. */
export interface InvalidValue {
  readonly fieldPath: string;
  readonly expectedType: string;
  readonly actual: string;
}

/** Finds the first invalid part of `value` for `type`, or `undefined` when it is valid. */
export function findInvalid(type: AvroType, value: unknown): InvalidValue | undefined {
  let found: InvalidValue | undefined;
  type.isValid(value, {
    errorHook(path: string[], inner: unknown, innerType: AvroType) {
      found ??= {
        fieldPath: formatPath(path),
        expectedType: describeType(innerType),
        actual: describeValue(inner),
      };
    },
  });
  return found;
}

/**
 * The path of the field holding a value that `decode` (which threw an
 * {@link UnrepresentableValueError}) cannot represent: `decode` runs again with such values
 * marked, and `type`'s validation finds the mark. `''` for the root or when it is not found.
 * Only runs on that failure, never on the hot path.
 */
export function findUnrepresentable(type: AvroType, decode: () => unknown): string {
  let found: string | undefined;
  try {
    const value = decodeMarkingUnrepresentable(decode);
    type.isValid(value, {
      errorHook(path: string[], inner: unknown) {
        if (inner instanceof UnrepresentableValueError) found ??= formatPath(path);
      },
    });
  } catch {
    // Another failure in the same bytes: name no field.
  }
  return found ?? '';
}

function formatPath(path: readonly string[]): string {
  let out = '';
  for (const part of path) {
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

/** A short description of an avsc type: `long`, `record com.acme.Order`, `enum Status (A | B)`. */
export function describeType(type: AvroType): string {
  const name = type.typeName;
  if (name === 'abstract:long') return 'long (bigint)';
  if (name.startsWith('logical:')) {
    const logical = name.slice('logical:'.length);
    const shape: Record<string, string> = {
      'timestamp-millis': 'a Date (timestamp-millis)',
      date: "a 'YYYY-MM-DD' date string, years after 9999 as '+10000-01-01' and before 0000 as '-0001-01-01' (date)",
      'time-millis': 'an int number of milliseconds after midnight, 0 to 86399999 (time-millis)',
      'time-micros': 'a bigint of microseconds after midnight, 0n to 86399999999n (time-micros)',
      uuid: 'a UUID string (uuid)',
    };
    if (logical === 'decimal') {
      const { precision, scale } = type as unknown as { precision: number; scale: number };
      return `a decimal string with at most ${precision} digits and ${scale} after the point (decimal(${precision},${scale}))`;
    }
    return shape[logical] ?? logical;
  }
  if (name === 'enum') {
    const symbols = (type as avro.types.EnumType).symbols.map((s) => `"${s}"`).join(' | ');
    return `enum ${type.name ?? ''} (${symbols})`;
  }
  if (name === 'record' || name === 'error') return `record ${type.name ?? ''}`;
  if (name === 'fixed')
    return `fixed ${type.name ?? ''} of ${(type as avro.types.FixedType).size} bytes (Buffer)`;
  if (name === 'union:unwrapped' || name === 'union:wrapped') {
    const types = (type as unknown as { types: AvroType[] }).types;
    return `one of ${types.map((t) => describeType(t)).join(' | ')}`;
  }
  if (name === 'bytes') return 'bytes (Buffer)';
  if (name === 'int') return 'int (32-bit integer)';
  return name;
}

/** A short description of a value, never its content beyond a few characters. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined (missing)';
  if (typeof value === 'string')
    return value.length > 20 ? `string "${value.slice(0, 20)}..."` : `string "${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (Buffer.isBuffer(value)) return `Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid Date' : 'Date';
  return typeof value;
}
