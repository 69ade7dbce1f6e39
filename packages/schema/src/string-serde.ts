/**
 * The UTF-8 string serde.
 * @module
 */

import { SerializationError } from './errors.js';
import { describeValue } from './internal/avro-type.js';
import { decodeUtf8 } from './internal/codec.js';
import type { Serde } from './types.js';

/**
 * A serde for UTF-8 strings. Deserializing malformed UTF-8 throws a `DeserializationError`
 * (`reason: 'corrupt-payload'`) instead of inventing replacement characters.
 *
 * @example
 * ```ts
 * const key = string();
 * key.serialize('order-42', { topic: 'orders', headers: {}, isKey: true }); // <Buffer 6f 72 ...>
 * ```
 */
export function string(): Serde<string> {
  return {
    serialize(value, context) {
      if (typeof value !== 'string') {
        throw new SerializationError({
          fieldPath: '',
          expectedType: 'string',
          actual: describeValue(value),
          topic: context.topic,
          isKey: context.isKey,
        });
      }
      return Buffer.from(value, 'utf8');
    },
    deserialize: (bytes, context) => decodeUtf8(bytes, context),
  };
}
