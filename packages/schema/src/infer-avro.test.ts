import { describe, expectTypeOf, it } from 'vitest';
import { avro } from './avro-serde.js';
import type { AvroSchema, InferAvro } from './infer-avro.js';
import { json } from './json-serde.js';
import type { Serde, SerdeType } from './types.js';

const order = {
  type: 'record',
  name: 'Order',
  namespace: 'com.acme',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'quantity', type: 'long' },
    { name: 'price', type: 'double' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'shipOn', type: { type: 'int', logicalType: 'date' } },
    { name: 'micros', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    { name: 'previous', type: ['null', 'Status'], default: null },
    {
      name: 'billing',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string' },
          { name: 'zip', type: ['null', 'string'], default: null },
        ],
      },
    },
    { name: 'shipping', type: ['null', 'Address'], default: null },
    { name: 'shippingFull', type: 'com.acme.Address' },
    { name: 'lines', type: { type: 'array', items: { type: 'map', values: 'int' } } },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
    { name: 'raw', type: 'bytes' },
    { name: 'flag', type: { type: 'boolean' } },
    { name: 'nothing', type: 'null' },
  ],
} as const;

describe('InferAvro', () => {
  it('turns a record literal into its value type', () => {
    expectTypeOf<InferAvro<typeof order>>().toEqualTypeOf<{
      id: string;
      quantity: bigint;
      price: number;
      amount: string;
      placedAt: Date;
      shipOn: string;
      micros: bigint;
      status: 'NEW' | 'PAID' | 'SHIPPED';
      billing: { street: string; zip?: string | null };
      shippingFull: { street: string; zip?: string | null };
      lines: Record<string, number>[];
      hash: Buffer;
      raw: Buffer;
      flag: boolean;
      nothing: null;
      previous?: 'NEW' | 'PAID' | 'SHIPPED' | null;
      shipping?: { street: string; zip?: string | null } | null;
    }>();
  });

  it('maps primitives', () => {
    expectTypeOf<InferAvro<'string'>>().toEqualTypeOf<string>();
    expectTypeOf<InferAvro<'long'>>().toEqualTypeOf<bigint>();
    expectTypeOf<InferAvro<'int'>>().toEqualTypeOf<number>();
    expectTypeOf<InferAvro<'bytes'>>().toEqualTypeOf<Buffer>();
    expectTypeOf<InferAvro<readonly ['null', 'string']>>().toEqualTypeOf<string | null>();
  });

  it('wraps a union whose branches avsc cannot tell apart, keyed by full name', () => {
    const payment = [
      'null',
      { type: 'record', name: 'Card', namespace: 'pay', fields: [{ name: 'last4', type: 'string' }] },
      { type: 'record', name: 'Cash', namespace: 'pay', fields: [{ name: 'currency', type: 'string' }] },
    ] as const;
    expectTypeOf<InferAvro<typeof payment>>().toEqualTypeOf<
      null | { 'pay.Card': { last4: string } } | { 'pay.Cash': { currency: string } }
    >();
    const stringOrInt = ['string', 'int', 'long'] as const;
    expectTypeOf<InferAvro<typeof stringOrInt>>().toEqualTypeOf<string | number | bigint>();
    const twoNumbers = ['int', 'double'] as const;
    expectTypeOf<InferAvro<typeof twoNumbers>>().toEqualTypeOf<{ int: number } | { double: number }>();
  });

  it('types avro(schema) from the literal, and rejects a wrong value at compile time', () => {
    const serde = avro(order);
    expectTypeOf(serde).toExtend<Serde<InferAvro<typeof order>>>();
    expectTypeOf<SerdeType<typeof serde>['quantity']>().toEqualTypeOf<bigint>();
    const ctx = { topic: 't', headers: {}, isKey: false };
    const check = (): void => {
      // @ts-expect-error quantity is a bigint, not a number
      void serde.serialize({ ...({} as InferAvro<typeof order>), quantity: 1 }, ctx);
      // @ts-expect-error 'LOST' is not a Status symbol
      void serde.serialize({ ...({} as InferAvro<typeof order>), status: 'LOST' }, ctx);
      // @ts-expect-error a required field is missing
      void serde.serialize({ id: 'x' }, ctx);
    };
    expectTypeOf(check).toBeFunction();
  });

  it('gives unknown for a schema that is not a literal', () => {
    const loaded: AvroSchema = JSON.parse('"string"') as AvroSchema;
    expectTypeOf(avro(loaded)).toExtend<Serde<unknown>>();
    expectTypeOf<InferAvro<AvroSchema>>().toEqualTypeOf<unknown>();
  });

  it('infers a json serde type from its type guard', () => {
    interface Order {
      id: string;
    }
    const isOrder = (value: unknown): value is Order =>
      typeof value === 'object' && value !== null && 'id' in value;
    expectTypeOf(json({ validate: isOrder })).toEqualTypeOf<Serde<Order>>();
    const parse = (value: unknown): Order => value as Order;
    expectTypeOf(json<Order>({ validate: parse })).toEqualTypeOf<Serde<Order>>();
  });

  it('lets an explicit type parameter win over inference', () => {
    interface Ping {
      n: number;
    }
    const serde = avro<Ping>({ type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'int' }] });
    expectTypeOf(serde).toExtend<Serde<Ping>>();
  });
});
