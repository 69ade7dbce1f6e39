/**
 * `registryAvro()`: Avro in the Confluent wire format through a schema registry.
 * @module
 */

import {
  ConfigError,
  cascadeChannel,
  DiagnosticChannels,
  optionKeys,
  rejectUnknownKeys,
  requireInteger,
} from '@cascade/core';
import type avro from 'avsc';
import { type AvroValue, parseSchema } from './avro-serde.js';
import { InvalidSchemaError, SchemaIncompatibleError, SchemaNotFoundError } from './errors.js';
import type { AvroSchema } from './infer-avro.js';
import { parseWithReferences } from './internal/avro-references.js';
import { decodeAvro, deserializationError, encodeAvro, messageOf } from './internal/codec.js';
import { diagnoseIncompatibility } from './internal/diagnose-incompatibility.js';
import { LoadingCache } from './internal/lru-cache.js';
import type { SchemaRegistryOptions } from './options.js';
import { type SchemaReference, SchemaRegistry } from './schema-registry.js';
import { type SubjectNameStrategy, subjectName } from './subject-strategy.js';
import type { Serde, SerdeContext } from './types.js';

/** The Confluent wire format: magic byte 0, then the schema id as a 4-byte big-endian integer. */
export const WireFormat = { magicByte: 0, headerBytes: 5 } as const;

/** Options of {@link registryAvro}. */
export interface RegistryAvroOptions<S extends AvroSchema = AvroSchema> {
  /** A shared {@link SchemaRegistry} (recommended: caches are per client), or options to create one. */
  readonly registry: SchemaRegistry | SchemaRegistryOptions;
  /**
   * The Avro schema of the values (declare it `as const` to infer the value type). It is the
   * writer's schema when serializing (unless `useLatestVersion` or `schemaId` pick another) and
   * the reader's schema when deserializing: data written with other versions is resolved to it.
   * @default undefined (only with `schemaId` or `useLatestVersion`; values are then read with the writer's schema)
   */
  readonly schema?: S;
  /** Named types the schema uses that are registered under other subjects. @default [] */
  readonly references?: readonly SchemaReference[];
  /**
   * Which subject the schema is registered under: `'topic'` (`<topic>-value`, `<topic>-key`),
   * `'record'` (`com.acme.Order`), `'topic-record'` (`<topic>-com.acme.Order`), or a function.
   * @default 'topic'
   */
  readonly subjectNameStrategy?: SubjectNameStrategy;
  /**
   * Register the schema under its subject on first use when it is not there yet (after a
   * compatibility check against the subject's latest version). Never changes the subject's
   * compatibility level.
   * @default true (false when `useLatestVersion` or `schemaId` is set)
   */
  readonly autoRegister?: boolean;
  /** Serialize with the subject's latest registered schema instead of `schema`. @default false */
  readonly useLatestVersion?: boolean;
  /** Serialize with this registered schema id. @default undefined */
  readonly schemaId?: number;
  /** Entries in the serde's caches (writers per subject, readers per writer id). @default 1000 */
  readonly cacheCapacity?: number;
}

/** The keys of {@link RegistryAvroOptions}. */
export const registryAvroOptionKeys = optionKeys<RegistryAvroOptions>({
  registry: true,
  schema: true,
  references: true,
  subjectNameStrategy: true,
  autoRegister: true,
  useLatestVersion: true,
  schemaId: true,
  cacheCapacity: true,
});

/** {@link RegistryAvroOptions} after validation and defaults. */
export interface ResolvedRegistryAvroOptions {
  readonly registry: SchemaRegistry;
  readonly schema: unknown;
  readonly localType: avro.Type | undefined;
  readonly recordName: string | undefined;
  readonly references: readonly SchemaReference[];
  readonly subjectNameStrategy: SubjectNameStrategy;
  readonly mode: 'auto-register' | 'lookup' | 'latest' | 'schema-id';
  readonly schemaId: number | undefined;
  readonly cacheCapacity: number;
}

/** Validates `input` and applies defaults. Throws {@link ConfigError} naming the bad field. */
export function resolveRegistryAvroOptions(input: RegistryAvroOptions): ResolvedRegistryAvroOptions {
  if (typeof input === 'object' && input !== null) rejectUnknownKeys('', input, registryAvroOptionKeys);
  if (typeof input !== 'object' || input === null || input.registry === undefined) {
    throw new ConfigError('registry', 'registryAvro needs a registry (a SchemaRegistry or its options).');
  }
  const { useLatestVersion = false, schemaId } = input;
  if (schemaId !== undefined) requireInteger('schemaId', schemaId, 0, 2 ** 31 - 1);
  if (useLatestVersion && schemaId !== undefined) {
    throw new ConfigError('schemaId', 'set either schemaId or useLatestVersion, not both.');
  }
  if (input.autoRegister === true && (useLatestVersion || schemaId !== undefined)) {
    throw new ConfigError(
      'autoRegister',
      `cannot register a schema while serializing with ${useLatestVersion ? 'the latest version' : 'a fixed schema id'}; turn autoRegister off.`,
    );
  }
  if (input.schema === undefined && !useLatestVersion && schemaId === undefined) {
    throw new ConfigError('schema', 'give the Avro schema, or set useLatestVersion or schemaId.');
  }
  const strategy = input.subjectNameStrategy ?? 'topic';
  if (typeof strategy !== 'function' && !['topic', 'record', 'topic-record'].includes(strategy)) {
    throw new ConfigError('subjectNameStrategy', `expected 'topic', 'record', 'topic-record' or a function.`);
  }
  const references = input.references ?? [];
  const schema = schemaValue(input.schema);
  // A schema with references is parsed once its referenced types are fetched (on first use).
  const localType = schema !== undefined && references.length === 0 ? parseSchema(schema) : undefined;
  const recordName = schema === undefined ? undefined : topLevelName(schema);
  if (strategy !== 'topic' && typeof strategy !== 'function' && recordName === undefined) {
    throw new ConfigError(
      'subjectNameStrategy',
      `the ${strategy} strategy needs a schema with a named top-level type.`,
    );
  }
  return {
    registry: input.registry instanceof SchemaRegistry ? input.registry : new SchemaRegistry(input.registry),
    schema,
    localType,
    recordName,
    references,
    subjectNameStrategy: strategy,
    mode: useLatestVersion
      ? 'latest'
      : schemaId !== undefined
        ? 'schema-id'
        : (input.autoRegister ?? true)
          ? 'auto-register'
          : 'lookup',
    schemaId,
    cacheCapacity: requireInteger('cacheCapacity', input.cacheCapacity ?? 1_000, 1),
  };
}

/** The schema as a JSON value: schema text (e.g. an .avsc file's content) is parsed. */
function schemaValue(schema: unknown): unknown {
  if (typeof schema !== 'string' || !/^\s*[[{"]/.test(schema)) return schema;
  try {
    return JSON.parse(schema) as unknown;
  } catch {
    throw new ConfigError('schema', 'the schema text is not valid JSON.');
  }
}

function topLevelName(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const { name, namespace } = schema as { name?: unknown; namespace?: unknown };
  if (typeof name !== 'string') return undefined;
  return name.includes('.') || typeof namespace !== 'string' || namespace === ''
    ? name
    : `${namespace}.${name}`;
}

/** A registry-backed Avro serde, with its registry exposed for sharing and inspection. */
export interface RegistryAvroSerde<T> extends Serde<T> {
  /** The registry client the serde uses. */
  readonly registry: SchemaRegistry;
  /** The subject for a topic and side, by the serde's strategy. */
  subjectFor(topic: string, isKey: boolean): string;
}

function exportSchema(type: avro.Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}

/** The reader's schema cannot resolve the writer's (internal; surfaces as a DeserializationError). */
class UnreadableWriterError extends Error {}

interface Writer {
  readonly id: number;
  readonly type: avro.Type;
}

interface Reading {
  readonly type: avro.Type;
  readonly resolver: avro.Resolver | undefined;
}

/**
 * A serde for Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id,
 * Avro binary): byte-compatible with Java's `KafkaAvroSerializer`/`KafkaAvroDeserializer`.
 *
 * Serializing looks the schema's id up under its subject on first use (registering it after a
 * compatibility check when `autoRegister` is on), then encodes synchronously from cache.
 * Deserializing fetches the writer's schema by id on first sight and resolves it to `schema`
 * (evolution both ways, with defaults); resolvers are cached per writer id. Concurrent first uses
 * share one registry round trip per key.
 *
 * Errors: {@link SerializationError} (names the field), {@link DeserializationError} (with
 * `reason`: a poison pill), {@link SchemaIncompatibleError}, {@link SchemaNotFoundError},
 * {@link RegistryUnavailableError} (retriable), {@link RegistryAuthError}.
 *
 * @throws {ConfigError} on contradictory options; {@link InvalidSchemaError} on an invalid schema.
 * @example
 * ```ts
 * const registry = new SchemaRegistry({ url: 'http://localhost:8081' });
 * const orderSchema = {
 *   type: 'record', name: 'Order', namespace: 'com.acme',
 *   fields: [{ name: 'id', type: 'string' }, { name: 'total', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } }],
 * } as const;
 * const orders = registryAvro({ registry, schema: orderSchema }); // Serde<{ id: string; total: string }>
 * const bytes = await orders.serialize({ id: 'o-1', total: '19.99' }, { topic: 'orders', headers: {}, isKey: false });
 * ```
 */
export function registryAvro<T = undefined, const S extends AvroSchema = AvroSchema>(
  options: RegistryAvroOptions<S>,
): RegistryAvroSerde<AvroValue<T, S>> {
  const resolved = resolveRegistryAvroOptions(options);
  const { registry, mode } = resolved;
  const writers = new LoadingCache<string, Writer>(resolved.cacheCapacity);
  const readings = new LoadingCache<number, Reading>(resolved.cacheCapacity);
  let local: Promise<avro.Type> | undefined;

  // The subject of the last (topic, side): records of one topic come in runs.
  let last = { topic: '', isKey: false, subject: '' };
  const subjectFor = (topic: string, isKey: boolean): string => {
    if (topic === last.topic && isKey === last.isKey && last.subject !== '') return last.subject;
    const subject = subjectName(resolved.subjectNameStrategy, {
      topic,
      isKey,
      recordName: resolved.recordName,
    });
    last = { topic, isKey, subject };
    return subject;
  };

  const localType = (): Promise<avro.Type> => {
    if (resolved.localType !== undefined) return Promise.resolve(resolved.localType);
    local ??= parseWithReferences(registry, resolved.schema, resolved.references, {}).catch(
      (error: unknown) => {
        local = undefined;
        throw error;
      },
    );
    return local;
  };

  const writerType = async (id: number, subject?: string): Promise<avro.Type> => {
    const definition = await registry.getSchemaById(id);
    if ((definition.schemaType ?? 'AVRO') !== 'AVRO') {
      throw new InvalidSchemaError(`Schema id ${id} is a ${definition.schemaType} schema, not Avro.`, {
        schemaId: id,
      });
    }
    return parseWithReferences(registry, definition.schema, definition.references ?? [], {
      subject,
      schemaId: id,
    });
  };

  const loadWriter = async (subject: string): Promise<Writer> => {
    if (mode === 'schema-id') {
      const id = resolved.schemaId as number;
      return { id, type: await writerType(id, subject) };
    }
    if (mode === 'latest') {
      const latest = await registry.getSubjectVersion(subject, 'latest');
      return { id: latest.id, type: await writerType(latest.id, subject) };
    }
    const type = await localType();
    try {
      const id = await registry.getOrRegisterId(
        subject,
        { schema: JSON.stringify(resolved.schema), references: resolved.references },
        { autoRegister: mode === 'auto-register' },
      );
      return { id, type };
    } catch (error) {
      if (!(error instanceof SchemaIncompatibleError) || error.reasons.length > 0) throw error;
      throw new SchemaIncompatibleError(subject, await diagnoseIncompatibility(registry, subject, type), {
        cause: error,
      });
    }
  };

  const encode = (writer: Writer, value: unknown, context: SerdeContext, subject: string): Buffer => {
    const out = encodeAvro(writer.type, value, WireFormat.headerBytes, context, {
      subject,
      schemaId: writer.id,
    });
    out[0] = WireFormat.magicByte;
    out.writeInt32BE(writer.id, 1);
    return out;
  };

  const loadReading = async (id: number): Promise<Reading> => {
    const writer = await writerType(id);
    if (resolved.schema === undefined) return { type: writer, resolver: undefined };
    const reader = await localType();
    // Same schema, logical types and their attributes included (avsc's equals() compares the
    // canonical form, which drops them: decimal(10,2) would equal decimal(10,3)).
    if (exportSchema(reader) === exportSchema(writer)) return { type: reader, resolver: undefined };
    try {
      return { type: reader, resolver: reader.createResolver(writer) };
    } catch (error) {
      throw new UnreadableWriterError(messageOf(error), { cause: error });
    }
  };

  const readError = (error: unknown, id: number, context: SerdeContext): unknown => {
    if (error instanceof SchemaNotFoundError && error.schemaId === id) {
      return deserializationError(
        'unknown-schema-id',
        `schema id ${id} is not in registry ${registry.url} (was the subject deleted, or the record written against another registry?).`,
        context,
        { schemaId: id },
        error,
      );
    }
    if (error instanceof InvalidSchemaError && error.schemaId === id) {
      return deserializationError(
        'incompatible-schema',
        `the writer's schema (id ${id}) cannot be used: ${error.message}`,
        context,
        { schemaId: id },
        error,
      );
    }
    if (error instanceof UnreadableWriterError) {
      return deserializationError(
        'incompatible-schema',
        `the reader's schema cannot read data written with schema id ${id} (${messageOf(error)}).`,
        context,
        { schemaId: id },
        error,
      );
    }
    return error;
  };

  const serialize = (value: AvroValue<T, S>, context: SerdeContext): Buffer | Promise<Buffer> => {
    const subject = subjectFor(context.topic, context.isKey);
    const writer = writers.peek(subject);
    if (writer !== undefined) return encode(writer, value, context, subject);
    return writers
      .get(subject, () => loadWriter(subject))
      .then((loaded) => encode(loaded, value, context, subject));
  };

  const deserialize = (bytes: Buffer, context: SerdeContext): AvroValue<T, S> | Promise<AvroValue<T, S>> => {
    if (bytes.length === 0) {
      throw deserializationError('truncated', 'the payload is empty (expected a 5-byte header).', context);
    }
    if (bytes[0] !== WireFormat.magicByte) {
      throw deserializationError(
        'bad-magic-byte',
        `the first byte is ${bytes[0]}, not the magic byte 0 of the Confluent wire format (not written by a registry serializer?).`,
        context,
      );
    }
    if (bytes.length < WireFormat.headerBytes) {
      throw deserializationError(
        'truncated',
        `the payload has ${bytes.length} bytes, fewer than the 5-byte header.`,
        context,
      );
    }
    const id = bytes.readInt32BE(1);
    const reading = readings.peek(id);
    if (reading !== undefined) {
      return decodeAvro(reading.type, bytes, WireFormat.headerBytes, reading.resolver, context, {
        schemaId: id,
      }) as AvroValue<T, S>;
    }
    return readings
      .get(id, () => loadReading(id))
      .then(
        (loaded) =>
          decodeAvro(loaded.type, bytes, WireFormat.headerBytes, loaded.resolver, context, {
            schemaId: id,
          }) as AvroValue<T, S>,
        (error: unknown) => {
          throw readError(error, id, context);
        },
      );
  };

  const serializeChannel = cascadeChannel<object>(DiagnosticChannels.schemaSerialize);
  const deserializeChannel = cascadeChannel<object>(DiagnosticChannels.schemaDeserialize);
  return {
    registry,
    subjectFor,
    serialize(value, context) {
      if (!serializeChannel.hasSubscribers) return serialize(value, context);
      return serializeChannel.tracePromise(async () => serialize(value, context), {
        serde: 'registry-avro',
        topic: context.topic,
        isKey: context.isKey,
      });
    },
    deserialize(bytes, context) {
      if (!deserializeChannel.hasSubscribers) return deserialize(bytes, context);
      return deserializeChannel.tracePromise(async () => deserialize(bytes, context), {
        serde: 'registry-avro',
        topic: context.topic,
        isKey: context.isKey,
      });
    },
  };
}
