// Type inference: K and V flow from the serdes into handlers; a wrong handler type is a compile error.
import { avro, json, string } from '@cascade/schema';
import { describe, expectTypeOf, it } from 'vitest';
import { createConsumer } from './consumer.js';
import type { Message } from './types.js';

const order = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'quantity', type: 'long' },
  ],
} as const;

describe('type inference', () => {
  const consumer = createConsumer({ kafka: { brokers: ['127.0.0.1:9092'] }, groupId: 'types' });

  it('infers the value type from the value serde and the key type from the key serde', () => {
    consumer.subscribe({
      topic: 'orders',
      value: avro(order),
      handler: (message) => {
        // A tombstone (null value) can arrive: the value is nullable by default.
        expectTypeOf(message.value).toEqualTypeOf<{ id: string; quantity: bigint } | null>();
        expectTypeOf(message.key).toEqualTypeOf<string | null>();
        expectTypeOf(message.attempt).toBeNumber();
      },
    });
    consumer.subscribe({
      topic: 'counts',
      key: json<{ tenant: string }>(),
      value: string(),
      tombstones: 'skip',
      handler: (message) => {
        expectTypeOf(message.key).toEqualTypeOf<{ tenant: string } | null>();
        expectTypeOf(message.value).toBeString();
      },
    });
  });

  it("types the value V | null unless tombstones: 'skip' says null values go elsewhere", () => {
    consumer.subscribe({
      topic: 'accounts',
      value: json<{ balance: number }>(),
      // @ts-expect-error a tombstone would reach a handler typed for non-null values
      handler: (message: Message<string, { balance: number }>) => void message,
    });
    consumer.subscribe({
      topic: 'accounts',
      value: json<{ balance: number }>(),
      tombstones: 'skip',
      handler: (message: Message<string, { balance: number }>) => void message,
    });
    consumer.subscribe({
      topic: 'accounts',
      value: json<{ balance: number }>(),
      batchHandler: (messages) => {
        expectTypeOf(messages[0]?.value).toEqualTypeOf<{ balance: number } | null | undefined>();
      },
    });
  });

  it('rejects a handler typed for another value', () => {
    consumer.subscribe({
      topic: 'orders',
      // @ts-expect-error the handler expects numbers, the serde gives { id: string }
      value: json<{ id: string }>(),
      tombstones: 'skip',
      handler: (message: Message<string, number>) => void message,
    });
  });
});
