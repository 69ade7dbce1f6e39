/**
 * `@cascade/schema`: typed serdes, and Avro through a Confluent-compatible schema registry.
 *
 * @example
 * ```ts
 * import { avro, json, string } from '@cascade/schema';
 *
 * const order = {
 *   type: 'record', name: 'Order', namespace: 'com.acme',
 *   fields: [{ name: 'id', type: 'string' }, { name: 'quantity', type: 'long' }],
 * } as const;
 * const serdes = { key: string(), value: avro(order) }; // value: Serde<{ id: string; quantity: bigint }>
 * const bytes = await serdes.value.serialize({ id: 'o-1', quantity: 2n }, { topic: 'orders', headers: {}, isKey: false });
 * ```
 * @module
 */

export { type AvroSerde, type AvroValue, avro } from './avro-serde.js';
export { bytes } from './bytes-serde.js';
export { type AvroSourceFile, type GeneratedModule, generateAvroTypes } from './codegen.js';
export {
  DeserializationError,
  type DeserializationErrorOptions,
  type DeserializationFailure,
  DeserializationFailures,
  InvalidSchemaError,
  type RecordLocation,
  RegistryAuthError,
  RegistryRequestError,
  RegistryUnavailableError,
  type SchemaErrorCode,
  SchemaErrorCodes,
  SchemaIncompatibleError,
  SchemaNotFoundError,
  SerializationError,
  type SerializationErrorOptions,
} from './errors.js';
export type { AvroPrimitiveName, AvroSchema, AvroSchemaObject, InferAvro } from './infer-avro.js';
export { type JsonSerdeOptions, json } from './json-serde.js';
export {
  type RegistryAuth,
  type RegistryRetryOptions,
  type RegistryTlsOptions,
  type ResolvedSchemaRegistryOptions,
  resolveSchemaRegistryOptions,
  type SchemaRegistryOptions,
} from './options.js';
export {
  type RegistryAvroOptions,
  type RegistryAvroSerde,
  type ResolvedRegistryAvroOptions,
  registryAvro,
  resolveRegistryAvroOptions,
  WireFormat,
} from './registry-avro.js';
export {
  type CompatibilityResult,
  type GetIdOptions,
  type RegistryCallOptions,
  type SchemaDefinition,
  type SchemaReference,
  SchemaRegistry,
  type SubjectVersion,
} from './schema-registry.js';
export { string } from './string-serde.js';
export {
  type SubjectNameContext,
  type SubjectNameFunction,
  SubjectNameStrategies,
  type SubjectNameStrategy,
  subjectName,
} from './subject-strategy.js';
export type { Headers, HeaderValue, Serde, SerdeContext, SerdeType } from './types.js';
