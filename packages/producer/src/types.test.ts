// Type tests: the key and value types flow from the serdes into send() and transactions.
import { json, type Serde, string } from '@cascade/schema';
import { describe, expectTypeOf, it } from 'vitest';
import { Partitioners } from './partitioners.js';
import { createProducer, type Producer } from './producer.js';
import type { Transaction } from './transaction.js';
import type { RecordMetadata } from './types.js';

interface Order {
  readonly id: string;
  readonly total: number;
}

const brokers = ['127.0.0.1:9092'];

describe('createProducer types', () => {
  it('infers Producer<string, Order> from string() and json<Order>()', () => {
    const producer = createProducer({ brokers, key: string(), value: json<Order>() });
    expectTypeOf(producer).toEqualTypeOf<Producer<string, Order>>();
    expectTypeOf(producer.send).parameter(0).toHaveProperty('value').toEqualTypeOf<Order>();
    expectTypeOf(producer.send).returns.toEqualTypeOf<Promise<RecordMetadata>>();
    expectTypeOf(producer.sendBatch).returns.toEqualTypeOf<Promise<RecordMetadata[]>>();
  });

  it('takes raw string or Buffer keys when there is no key serde', () => {
    const producer = createProducer({ brokers, value: string() });
    expectTypeOf(producer).toEqualTypeOf<Producer<string | Buffer, string>>();
  });

  it('makes a wrong value or key type a compile error', () => {
    const producer = createProducer({ brokers, key: string(), value: json<Order>() });
    const check = (): void => {
      // @ts-expect-error: total must be a number
      void producer.send({ topic: 't', value: { id: 'o-1', total: '42' } });
      // @ts-expect-error: a string is not an Order
      void producer.send({ topic: 't', value: 'not an order' });
      // @ts-expect-error: the key serde is string()
      void producer.send({ topic: 't', key: 42, value: { id: 'o-1', total: 1 } });
      // @ts-expect-error: value is required
      void producer.send({ topic: 't', key: 'k' });
      void producer.send({ topic: 't', key: null, value: { id: 'o-1', total: 1 } });
    };
    expectTypeOf(check).toBeFunction();
  });

  it('types transactions and partitioners from the same serdes', () => {
    const numbers: Serde<number> = {
      serialize: (n) => Buffer.from(String(n)),
      deserialize: (b) => Number(b.toString()),
    };
    const producer = createProducer({
      brokers,
      key: numbers,
      value: json<Order>(),
      transactionalId: 'tx',
      partitioner: Partitioners.keyField((order: Order) => order.id),
    });
    const run = (): Promise<void> =>
      producer.transaction(async (tx) => {
        expectTypeOf(tx).toEqualTypeOf<Transaction<number, Order>>();
        await tx.send({ topic: 't', key: 1, value: { id: 'a', total: 1 } });
        // @ts-expect-error: the key serde takes numbers
        await tx.send({ topic: 't', key: 'one', value: { id: 'a', total: 1 } });
      });
    expectTypeOf(run).returns.toEqualTypeOf<Promise<void>>();
    createProducer({
      brokers,
      // @ts-expect-error: the partitioner reads another value type than the serde writes
      value: json<Order>(),
      partitioner: Partitioners.keyField((v: { other: string }) => v.other),
    });
  });
});
