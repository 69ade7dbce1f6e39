import { CascadeError, isCascadeError, isRetriable } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import {
  DeserializationError,
  InvalidSchemaError,
  RegistryAuthError,
  RegistryRequestError,
  RegistryUnavailableError,
  SchemaErrorCodes,
  SchemaIncompatibleError,
  SchemaNotFoundError,
  SerializationError,
} from './errors.js';

const samples = [
  [new SerializationError({ fieldPath: 'a.b', expectedType: 'long' }), SchemaErrorCodes.Serialization, false],
  [
    new DeserializationError({ reason: 'bad-magic-byte', detail: 'x.' }),
    SchemaErrorCodes.Deserialization,
    false,
  ],
  [new SchemaIncompatibleError('orders-value', ['f']), SchemaErrorCodes.SchemaIncompatible, false],
  [new SchemaNotFoundError('gone', { schemaId: 1 }), SchemaErrorCodes.SchemaNotFound, false],
  [new InvalidSchemaError('bad'), SchemaErrorCodes.InvalidSchema, false],
  [new RegistryUnavailableError('http://r', 'op', 3, 'HTTP 503'), SchemaErrorCodes.RegistryUnavailable, true],
  [new RegistryAuthError('http://r', 'op', 401), SchemaErrorCodes.RegistryAuth, false],
  [new RegistryRequestError('http://r', 'op', 400, 40001, 'bad'), SchemaErrorCodes.RegistryRequest, false],
] as const;

describe('schema errors', () => {
  it.each(samples)('%s has its declared code, class name and retriable flag', (error, code, retriable) => {
    expect(error.code).toBe(code);
    expect(error).toBeInstanceOf(CascadeError);
    expect(isCascadeError(error)).toBe(true);
    expect(error.retriable).toBe(retriable);
    expect(isRetriable(new Error('wrapped', { cause: error }))).toBe(retriable);
    expect(error.name).toBe(error.constructor.name);
  });

  it('has one class per code, and every code is used', () => {
    expect(new Set(samples.map(([, code]) => code))).toEqual(new Set(Object.values(SchemaErrorCodes)));
  });

  it('words a deserialization failure with what, where and what to do', () => {
    const error = new DeserializationError({
      reason: 'unknown-schema-id',
      detail: 'schema id 42 is not in registry http://r.',
      topic: 'orders',
      partition: 3,
      offset: '1812',
      isKey: false,
      schemaId: 42,
    });
    expect(error.message).toBe(
      'Cannot deserialize (topic orders, partition 3, offset 1812, value): schema id 42 is not in registry http://r. The record cannot be read as is; dead-letter it.',
    );
  });
});
