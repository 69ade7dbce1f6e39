/**
 * The JSON serde.
 * @module
 */

import { optionKeys, rejectUnknownKeys } from '@cascade/core';
import { SerializationError } from './errors.js';
import { describeValue } from './internal/avro-type.js';
import { decodeUtf8, deserializationError, messageOf } from './internal/codec.js';
import type { Serde, SerdeContext } from './types.js';

/** Options of {@link json}. */
export interface JsonSerdeOptions<T> {
  /**
   * Checks a value: a type guard (`(value): value is Order => ...`), or a function that throws on
   * a bad value (a zod `parse`, ...). A value is refused when the function returns `false` or
   * throws; any other return value accepts it (and is otherwise ignored: transforms are not
   * applied). Runs on both sides: a refused value fails serializing with a `SerializationError`,
   * and bytes whose JSON is refused fail deserializing with a `DeserializationError`
   * (`reason: 'invalid-value'`).
   * @default undefined (no check: the parsed JSON is trusted to be a `T`)
   */
  readonly validate?: ((value: unknown) => value is T) | ((value: unknown) => unknown);
}

/** The keys of {@link JsonSerdeOptions}. */
export const jsonSerdeOptionKeys = optionKeys<JsonSerdeOptions<unknown>>({ validate: true });

/**
 * A serde for JSON (UTF-8). Values that `JSON.stringify` cannot write (a `bigint`, a cycle,
 * `undefined`) fail with a `SerializationError`; malformed JSON fails with a
 * `DeserializationError` (`reason: 'corrupt-payload'`).
 *
 * @example
 * ```ts
 * interface Order { id: string; total: number }
 * const isOrder = (v: unknown): v is Order =>
 *   typeof v === 'object' && v !== null && typeof (v as Order).id === 'string';
 * const orders = json<Order>({ validate: isOrder });
 * ```
 */
export function json<T>(options: JsonSerdeOptions<T> = {}): Serde<T> {
  rejectUnknownKeys('json', options, jsonSerdeOptionKeys);
  const { validate } = options;
  const check = (value: unknown): { ok: boolean; cause?: unknown } => {
    if (validate === undefined) return { ok: true };
    try {
      return { ok: validate(value) !== false };
    } catch (cause) {
      return { ok: false, cause };
    }
  };
  const fail = (context: SerdeContext, value: unknown, expectedType: string, cause?: unknown): never => {
    throw new SerializationError({
      fieldPath: '',
      expectedType,
      actual: describeValue(value),
      topic: context.topic,
      isKey: context.isKey,
      cause,
    });
  };
  return {
    serialize(value, context) {
      const verdict = check(value);
      if (!verdict.ok) fail(context, value, 'a value accepted by validate', verdict.cause);
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        return fail(context, value, `a JSON-serializable value (${messageOf(error)})`, error);
      }
      if (text === undefined) return fail(context, value, 'a JSON-serializable value');
      return Buffer.from(text, 'utf8');
    },
    deserialize(bytes, context) {
      const text = decodeUtf8(bytes, context);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw deserializationError(
          'corrupt-payload',
          `the bytes are not valid JSON (${messageOf(error)}).`,
          context,
          {},
          error,
        );
      }
      const verdict = check(value);
      if (!verdict.ok) {
        const why = verdict.cause === undefined ? '' : ` (${messageOf(verdict.cause)})`;
        throw deserializationError(
          'invalid-value',
          `the JSON value was refused by validate${why}.`,
          context,
          {},
          verdict.cause,
        );
      }
      return value as T;
    },
  };
}
