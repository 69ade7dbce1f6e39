/**
 * Encoding and decoding helpers shared by the serdes: Avro bodies with errors mapped to
 * {@link SerializationError} / {@link DeserializationError}, and strict UTF-8.
 * @module
 */

import type avro from 'avsc';
import { DeserializationError, type DeserializationFailure, SerializationError } from '../errors.js';
import type { SerdeContext } from '../types.js';
import { describeValue, findInvalid, findUnrepresentable } from './avro-type.js';
import { UnrepresentableValueError } from './logical-types.js';

/** Extra context a registry serde adds to its errors. */
export interface ErrorContext {
  readonly subject?: string | undefined;
  readonly schemaId?: number | undefined;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Encodes `value` with `type` after `headerBytes` bytes of room, returning a new buffer whose
 * first `headerBytes` bytes are for the caller to fill. One copy, like avsc's `toBuffer`.
 */
export function encodeAvro(
  type: avro.Type,
  value: unknown,
  headerBytes: number,
  context: SerdeContext,
  extra: ErrorContext = {},
): Buffer {
  let end: number;
  try {
    end = type.encode(value, scratch, headerBytes);
    if (end < 0) {
      scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end + headerBytes));
      end = type.encode(value, scratch, headerBytes);
    }
  } catch (error) {
    throw serializationError(type, value, context, extra, error);
  }
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, headerBytes, headerBytes, end);
  return out;
}

/** Builds the {@link SerializationError} for a value `type` refused, naming the field. */
export function serializationError(
  type: avro.Type,
  value: unknown,
  context: SerdeContext,
  extra: ErrorContext,
  cause: unknown,
): SerializationError {
  const invalid = findInvalid(type, value);
  return new SerializationError({
    fieldPath: invalid?.fieldPath ?? '',
    expectedType: invalid?.expectedType ?? type.typeName,
    actual: invalid?.actual ?? describeValue(value),
    topic: context.topic,
    isKey: context.isKey,
    subject: extra.subject,
    schemaId: extra.schemaId,
    cause,
  });
}

/** Decodes an Avro body starting at `offset`, mapping avsc's failures to a {@link DeserializationError}. */
export function decodeAvro(
  type: avro.Type,
  bytes: Buffer,
  offset: number,
  resolver: avro.Resolver | undefined,
  context: SerdeContext,
  extra: ErrorContext = {},
): unknown {
  let result: { value: unknown; offset: number };
  try {
    result = type.decode(bytes, offset, resolver);
  } catch (error) {
    if (error instanceof UnrepresentableValueError) {
      const fieldPath = findUnrepresentable(type, () => type.decode(bytes, offset, resolver).value);
      const field = fieldPath === '' ? 'the value' : `field ${fieldPath}`;
      throw new DeserializationError({
        reason: 'invalid-value',
        detail: `${field} holds ${error.message}.`,
        fieldPath,
        topic: context.topic,
        partition: context.partition,
        offset: context.offset,
        isKey: context.isKey,
        subject: extra.subject,
        schemaId: extra.schemaId,
        cause: error,
      });
    }
    throw deserializationError(
      'corrupt-payload',
      `the Avro body does not decode with the writer's schema (${messageOf(error)}).`,
      context,
      extra,
      error,
    );
  }
  if (result.offset < 0) {
    throw deserializationError(
      'truncated',
      `the payload of ${bytes.length} bytes ends before the Avro value does (truncated).`,
      context,
      extra,
    );
  }
  if (result.offset !== bytes.length) {
    throw deserializationError(
      'corrupt-payload',
      `${bytes.length - result.offset} unread bytes follow the Avro value (corrupt payload or wrong schema).`,
      context,
      extra,
    );
  }
  return result.value;
}

/** A {@link DeserializationError} carrying the location from `context`. */
export function deserializationError(
  reason: DeserializationFailure,
  detail: string,
  context: SerdeContext,
  extra: ErrorContext = {},
  cause?: unknown,
): DeserializationError {
  return new DeserializationError({
    reason,
    detail,
    topic: context.topic,
    partition: context.partition,
    offset: context.offset,
    isKey: context.isKey,
    subject: extra.subject,
    schemaId: extra.schemaId,
    cause,
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, refusing malformed bytes with a {@link DeserializationError}. */
export function decodeUtf8(bytes: Buffer, context: SerdeContext): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw deserializationError('corrupt-payload', 'the bytes are not valid UTF-8.', context, {}, error);
  }
}

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
