/**
 * The errors of `@cascade/schema`. Each has a stable `code` and a `retriable` flag, so a consumer
 * tells a poison pill (`retriable: false`: never retry, dead-letter it) from a transient failure
 * (`retriable: true`: the registry is down, try again later) by a property, not by a message.
 *
 * @example
 * ```ts
 * import { isRetriable } from '@cascade/core';
 * import { DeserializationError } from '@cascade/schema';
 *
 * try {
 *   value = await serde.deserialize(bytes, ctx);
 * } catch (error) {
 *   if (isRetriable(error)) throw error; // registry outage: retry the record later
 *   if (error instanceof DeserializationError) deadLetter(error.reason); // poison pill
 * }
 * ```
 * @module
 */

import { brandErrorClass, CascadeError, type CascadeErrorOptions, redactText } from '@cascade/core';

/** The codes of the errors declared in `@cascade/schema`. */
export const SchemaErrorCodes = {
  Serialization: 'CASCADE_SERDE_SERIALIZE',
  Deserialization: 'CASCADE_SERDE_DESERIALIZE',
  SchemaIncompatible: 'CASCADE_SCHEMA_INCOMPATIBLE',
  SchemaNotFound: 'CASCADE_SCHEMA_NOT_FOUND',
  InvalidSchema: 'CASCADE_SCHEMA_INVALID',
  RegistryUnavailable: 'CASCADE_REGISTRY_UNAVAILABLE',
  RegistryAuth: 'CASCADE_REGISTRY_AUTH',
  RegistryRequest: 'CASCADE_REGISTRY_REQUEST',
} as const;

/** One of {@link SchemaErrorCodes}. */
export type SchemaErrorCode = (typeof SchemaErrorCodes)[keyof typeof SchemaErrorCodes];

/** Where a record being (de)serialized belongs, when known. Carried by serde errors. */
export interface RecordLocation {
  readonly topic?: string | undefined;
  readonly partition?: number | undefined;
  readonly offset?: string | undefined;
  readonly isKey?: boolean | undefined;
}

function where(location: RecordLocation): string {
  const parts: string[] = [];
  if (location.topic !== undefined) parts.push(`topic ${location.topic}`);
  if (location.partition !== undefined) parts.push(`partition ${location.partition}`);
  if (location.offset !== undefined) parts.push(`offset ${location.offset}`);
  if (location.isKey !== undefined) parts.push(location.isKey ? 'key' : 'value');
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** Options of {@link SerializationError}. */
export interface SerializationErrorOptions extends RecordLocation, CascadeErrorOptions {
  /** The path of the offending field from the root, e.g. `items[2].price`; `''` for the root. */
  readonly fieldPath: string;
  /** The type the field should have had, e.g. `long`, `"PENDING" | "PAID"`, `record Order`. */
  readonly expectedType: string;
  /** What was found instead, described briefly (never the whole value). */
  readonly actual?: string;
  /** The registry subject, when the serde is registry-backed. */
  readonly subject?: string | undefined;
  /** The schema id the value was being written with, when known. */
  readonly schemaId?: number | undefined;
}

/**
 * A value does not fit the serde's type (a wrong field type, a missing field, a bad enum symbol).
 * Names the offending field path and the expected type. Never retriable: the same value fails again.
 */
export class SerializationError extends CascadeError {
  readonly code = SchemaErrorCodes.Serialization;
  readonly fieldPath: string;
  readonly expectedType: string;
  readonly topic: string | undefined;
  readonly isKey: boolean | undefined;
  readonly subject: string | undefined;
  readonly schemaId: number | undefined;

  constructor(options: SerializationErrorOptions) {
    const field = options.fieldPath === '' ? 'the value' : `field ${options.fieldPath}`;
    const actual = options.actual === undefined ? '' : `, got ${options.actual}`;
    super(
      `Cannot serialize${where(options)}: ${field} should be ${options.expectedType}${actual}. Fix the value before sending it.`,
      false,
      options,
    );
    this.fieldPath = options.fieldPath;
    this.expectedType = options.expectedType;
    this.topic = options.topic;
    this.isKey = options.isKey;
    this.subject = options.subject;
    this.schemaId = options.schemaId;
  }
}
brandErrorClass(SerializationError, '@cascade/schema');

/** Why bytes could not be deserialized: see {@link DeserializationError.reason}. */
export const DeserializationFailures = {
  /** The first byte is not the Confluent magic byte 0: not written by a registry serializer. */
  badMagicByte: 'bad-magic-byte',
  /** Fewer bytes than the header or the encoded value needs. */
  truncated: 'truncated',
  /** The schema id in the header is not in the registry. */
  unknownSchemaId: 'unknown-schema-id',
  /** The body does not decode with the writer's schema (corrupt bytes, trailing bytes, bad JSON/UTF-8). */
  corruptPayload: 'corrupt-payload',
  /**
   * The value decoded but does not fit the reader's type: a failed `validate`, or a logical value
   * with no exact JavaScript representation (a `timestamp-millis` beyond a `Date`; `fieldPath` names it).
   */
  invalidValue: 'invalid-value',
  /** The reader's schema cannot read the writer's (e.g. a reader field without default is missing). */
  incompatibleSchema: 'incompatible-schema',
} as const;

/** One of {@link DeserializationFailures}. */
export type DeserializationFailure = (typeof DeserializationFailures)[keyof typeof DeserializationFailures];

/** Options of {@link DeserializationError}. */
export interface DeserializationErrorOptions extends RecordLocation, CascadeErrorOptions {
  readonly reason: DeserializationFailure;
  /** What happened, one sentence without the location (added from the location fields). */
  readonly detail: string;
  readonly schemaId?: number | undefined;
  readonly subject?: string | undefined;
  /** The path of the offending field from the root (`items[2].at`, `''` for the root), when known. */
  readonly fieldPath?: string | undefined;
}

/**
 * Bytes that cannot be turned into a value: a poison pill. `reason` says which of bad magic byte,
 * truncated payload, unknown schema id, corrupt payload, invalid value or incompatible schema; the topic, partition and
 * offset are carried when the caller gave them. Never retriable (a registry outage while looking
 * up the schema is a {@link RegistryUnavailableError} instead, which is).
 */
export class DeserializationError extends CascadeError {
  readonly code = SchemaErrorCodes.Deserialization;
  readonly reason: DeserializationFailure;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: string | undefined;
  readonly isKey: boolean | undefined;
  readonly schemaId: number | undefined;
  readonly subject: string | undefined;
  /**
   * The path of the offending field from the root, e.g. `items[2].at` (`''` for the root), when
   * known: set for a logical value with no JavaScript representation (reason `'invalid-value'`).
   */
  readonly fieldPath: string | undefined;

  constructor(options: DeserializationErrorOptions) {
    super(
      `Cannot deserialize${where(options)}: ${options.detail} The record cannot be read as is; dead-letter it.`,
      false,
      options,
    );
    this.reason = options.reason;
    this.topic = options.topic;
    this.partition = options.partition;
    this.offset = options.offset;
    this.isKey = options.isKey;
    this.schemaId = options.schemaId;
    this.subject = options.subject;
    this.fieldPath = options.fieldPath;
  }
}
brandErrorClass(DeserializationError, '@cascade/schema');

/**
 * The registry refused a schema as incompatible with the subject's existing versions under the
 * subject's compatibility level. Carries the subject and the registry's reasons. Not retriable:
 * change the schema (add defaults, keep field types) or the subject's compatibility level.
 */
export class SchemaIncompatibleError extends CascadeError {
  readonly code = SchemaErrorCodes.SchemaIncompatible;
  readonly subject: string;
  /**
   * The registry's reasons, as it worded them (may be empty when it gave none), with any
   * credentials it echoed removed.
   */
  readonly reasons: readonly string[];

  constructor(subject: string, reasons: readonly string[], options?: CascadeErrorOptions) {
    const redacted = reasons.map((reason) => redactText(reason));
    const because = redacted.length === 0 ? '' : ` Reasons: ${redacted.join('; ')}.`;
    super(
      `Schema is incompatible with the latest version of subject ${subject}.${because} Make the change compatible (e.g. give new fields defaults) or register it under another subject.`,
      false,
      options,
    );
    this.subject = subject;
    this.reasons = redacted;
  }
}
brandErrorClass(SchemaIncompatibleError, '@cascade/schema');

/**
 * A schema the serde needs is not in the registry: a fixed schema id that does not exist, a
 * subject with no versions under `useLatestVersion`, or a schema not registered under its subject
 * when `autoRegister` is off. Not retriable: register the schema first.
 */
export class SchemaNotFoundError extends CascadeError {
  readonly code = SchemaErrorCodes.SchemaNotFound;
  readonly subject: string | undefined;
  readonly schemaId: number | undefined;

  constructor(
    message: string,
    context: { subject?: string | undefined; schemaId?: number | undefined },
    options?: CascadeErrorOptions,
  ) {
    super(message, false, options);
    this.subject = context.subject;
    this.schemaId = context.schemaId;
  }
}
brandErrorClass(SchemaNotFoundError, '@cascade/schema');

/** A schema that is not valid Avro (or that the registry rejects as invalid). Not retriable. */
export class InvalidSchemaError extends CascadeError {
  readonly code = SchemaErrorCodes.InvalidSchema;
  readonly subject: string | undefined;
  readonly schemaId: number | undefined;

  constructor(
    message: string,
    context: { subject?: string | undefined; schemaId?: number | undefined } = {},
    options?: CascadeErrorOptions,
  ) {
    super(message, false, options);
    this.subject = context.subject;
    this.schemaId = context.schemaId;
  }
}
brandErrorClass(InvalidSchemaError, '@cascade/schema');

/**
 * The schema registry could not be reached, timed out or answered 5xx/429, on every attempt.
 * Retriable: the same call may succeed once the registry is back. `url` never holds credentials.
 */
export class RegistryUnavailableError extends CascadeError {
  readonly code = SchemaErrorCodes.RegistryUnavailable;
  /** The registry URL (credentials removed). */
  readonly url: string;
  /** How many attempts were made. */
  readonly attempts: number;

  constructor(
    url: string,
    operation: string,
    attempts: number,
    detail: string,
    options?: CascadeErrorOptions,
  ) {
    super(
      `Schema registry ${url} is unavailable: ${operation} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${redactText(detail)}). Check that the registry is up and reachable; the operation can be retried.`,
      true,
      options,
    );
    this.url = url;
    this.attempts = attempts;
  }
}
brandErrorClass(RegistryUnavailableError, '@cascade/schema');

/**
 * The registry refused the credentials (HTTP 401) or the permission (HTTP 403). Not retriable:
 * fix the registry's `auth` option. The credentials are never part of the message.
 */
export class RegistryAuthError extends CascadeError {
  readonly code = SchemaErrorCodes.RegistryAuth;
  readonly url: string;
  readonly status: number;

  constructor(url: string, operation: string, status: number, options?: CascadeErrorOptions) {
    super(
      `Schema registry ${url} refused ${operation} with HTTP ${status} (${status === 401 ? 'unauthenticated' : 'forbidden'}). Check the registry auth option and the principal's permissions.`,
      false,
      options,
    );
    this.url = url;
    this.status = status;
  }
}
brandErrorClass(RegistryAuthError, '@cascade/schema');

/**
 * The registry answered an error Cascade does not map to a more specific class (e.g. HTTP 422
 * with an unexpected error code). Carries the registry's `error_code`. Not retriable. The
 * registry's message is quoted with any credentials it echoed (an `Authorization` header, a
 * `Basic`/`Bearer` token, URL user info, a `password=` parameter) replaced by `[redacted]`.
 */
export class RegistryRequestError extends CascadeError {
  readonly code = SchemaErrorCodes.RegistryRequest;
  readonly url: string;
  readonly status: number;
  /** The registry's `error_code`, when it sent one (e.g. 42201). */
  readonly registryErrorCode: number | undefined;

  constructor(
    url: string,
    operation: string,
    status: number,
    registryErrorCode: number | undefined,
    registryMessage: string,
    options?: CascadeErrorOptions,
  ) {
    const codeText = registryErrorCode === undefined ? '' : ` error_code ${registryErrorCode}`;
    super(
      `Schema registry ${url} refused ${operation}: HTTP ${status}${codeText}: ${redactText(registryMessage)}`,
      false,
      options,
    );
    this.url = url;
    this.status = status;
    this.registryErrorCode = registryErrorCode;
  }
}
brandErrorClass(RegistryRequestError, '@cascade/schema');
