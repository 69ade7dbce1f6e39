/**
 * The pass-through bytes serde.
 * @module
 */

import { SerializationError } from './errors.js';
import { describeValue } from './internal/avro-type.js';
import type { Serde } from './types.js';

/**
 * A serde that passes bytes through unchanged (no copy).
 *
 * @example
 * ```ts
 * const raw = bytes();
 * raw.serialize(Buffer.from([1, 2, 3]), { topic: 'blobs', headers: {}, isKey: false });
 * ```
 */
export function bytes(): Serde<Buffer> {
  return {
    serialize(value, context) {
      if (!Buffer.isBuffer(value)) {
        throw new SerializationError({
          fieldPath: '',
          expectedType: 'Buffer',
          actual: describeValue(value),
          topic: context.topic,
          isKey: context.isKey,
        });
      }
      return value;
    },
    deserialize: (value) => value,
  };
}
