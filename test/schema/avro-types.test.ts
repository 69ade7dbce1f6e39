// Avro coverage through the registry: records, nested records, enums, arrays, maps, unions
// (nullable and wrapped), fixed, bigint longs beyond 2^53, logical types, and schema references.
// Also pins byte compatibility with @kafkajs/confluent-schema-registry (itself compatible with
// Java's KafkaAvroSerializer) in both directions.

import { DeserializationError, type InferAvro, registryAvro, SchemaRegistry } from '@cascade/schema';
import { SchemaRegistry as KafkajsRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';
import { registerDirect } from './registry-rest.js';

const registry = new SchemaRegistry({ url: cluster().registryUrl });
afterAll(() => registry.close());
const ctx = (topic: string) => ({ topic, headers: {}, isKey: false });

const everything = {
  type: 'record',
  name: 'Everything',
  namespace: 'com.acme.test',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'big', type: 'long' },
    { name: 'small', type: 'int' },
    { name: 'ratio', type: 'float' },
    { name: 'precise', type: 'double' },
    { name: 'ok', type: 'boolean' },
    { name: 'blob', type: 'bytes' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'atMicros', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 4 } },
    {
      name: 'fixedPrice',
      type: { type: 'fixed', name: 'Money', size: 8, logicalType: 'decimal', precision: 18, scale: 2 },
    },
    { name: 'hash', type: { type: 'fixed', name: 'Md5', size: 16 } },
    { name: 'color', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN', 'BLUE'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'counts', type: { type: 'map', values: 'long' } },
    { name: 'nickname', type: ['null', 'string'], default: null },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string' },
          {
            name: 'geo',
            type: [
              'null',
              {
                type: 'record',
                name: 'Geo',
                fields: [
                  { name: 'lat', type: 'double' },
                  { name: 'lon', type: 'double' },
                ],
              },
            ],
            default: null,
          },
        ],
      },
    },
    { name: 'previous', type: { type: 'array', items: 'Address' } },
    {
      name: 'payment',
      type: [
        'null',
        { type: 'record', name: 'Card', fields: [{ name: 'last4', type: 'string' }] },
        { type: 'record', name: 'Iban', fields: [{ name: 'iban', type: 'string' }] },
      ],
    },
    { name: 'whenever', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
  ],
} as const;

type Everything = InferAvro<typeof everything>;

const sample: Everything = {
  id: '5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab',
  big: 2n ** 62n + 12345n, // far beyond Number.MAX_SAFE_INTEGER
  small: -2_147_483_648,
  ratio: 0.5,
  precise: 1 / 3,
  ok: true,
  blob: Buffer.from([0, 255, 7]),
  at: new Date('2026-11-23T10:00:00.123Z'),
  atMicros: 1_795_000_000_123_456n,
  day: '2026-02-28',
  price: '-12345678901234.5678',
  fixedPrice: '0.01',
  hash: Buffer.alloc(16, 0xab),
  color: 'GREEN',
  tags: ['a', 'b'],
  counts: { x: -(2n ** 63n), y: 2n ** 63n - 1n },
  nickname: 'Ace',
  address: { street: 'Main 1', geo: { lat: 52.5, lon: 13.4 } },
  previous: [{ street: 'Old 2', geo: null }],
  payment: { 'com.acme.test.Iban': { iban: 'DE00' } },
  whenever: new Date(0),
};

describe('Avro types through the registry', () => {
  it('round-trips every type, with bigint longs and the logical type representations', async () => {
    const serde = registryAvro({ registry, schema: everything });
    expectTypeOf<Everything['payment']>().toEqualTypeOf<
      null | { 'com.acme.test.Card': { last4: string } } | { 'com.acme.test.Iban': { iban: string } }
    >();
    const topic = uniqueName('everything');
    const bytes = await serde.serialize(sample, ctx(topic));
    const back = (await serde.deserialize(bytes, ctx(topic))) as Everything;
    expect(back).toEqual({ ...sample, ratio: 0.5 });
    expect(back.big).toBe(2n ** 62n + 12345n);
    expect(back.at).toBeInstanceOf(Date);
  });

  it('writes decimals as two-complement unscaled integers, exactly as Java BigDecimal does', async () => {
    const schema = {
      type: 'record',
      name: 'Amount',
      fields: [{ name: 'v', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } }],
    } as const;
    const serde = registryAvro({ registry, schema });
    const topic = uniqueName('decimal');
    const bytes = await serde.serialize({ v: '-1.28' }, ctx(topic));
    // unscaled -128 = 0x80 (one byte), bytes length 1 -> zigzag 0x02.
    expect(bytes.subarray(5)).toEqual(Buffer.from([0x02, 0x80]));
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual({ v: '-1.28' });
    const padded = await serde.serialize({ v: '7' }, ctx(topic));
    expect(await serde.deserialize(padded, ctx(topic))).toEqual({ v: '7.00' });
    // unscaled 700 = 0x02bc.
    expect(padded.subarray(5)).toEqual(Buffer.from([0x04, 0x02, 0xbc]));
  });

  it('reads and writes a schema that references a type registered under another subject', async () => {
    const base = uniqueName('refs');
    const namespace = `ns${base.replaceAll('-', '')}`;
    const address = {
      type: 'record',
      name: 'Address',
      namespace,
      fields: [
        { name: 'street', type: 'string' },
        { name: 'zip', type: 'string' },
      ],
    };
    await registerDirect(`${base}-address`, address);
    const order = {
      type: 'record',
      name: 'Order',
      namespace,
      fields: [
        { name: 'id', type: 'string' },
        { name: 'shipTo', type: `${namespace}.Address` },
      ],
    };
    const references = [{ name: `${namespace}.Address`, subject: `${base}-address`, version: 1 }];
    const serde = registryAvro<{ id: string; shipTo: { street: string; zip: string } }>({
      registry,
      schema: order,
      references,
    });
    const topic = uniqueName('orders-with-refs');
    const bytes = await serde.serialize(
      { id: 'o-1', shipTo: { street: 'Main 1', zip: '10115' } },
      ctx(topic),
    );
    // A reader without the schema (writer's schema used) resolves the reference by itself.
    const generic = registryAvro({
      registry: new SchemaRegistry({ url: cluster().registryUrl }),
      schemaId: bytes.readInt32BE(1),
    });
    expect(await generic.deserialize(bytes, ctx(topic))).toEqual({
      id: 'o-1',
      shipTo: { street: 'Main 1', zip: '10115' },
    });
    await generic.registry.close();
    const latest = (await (
      await fetch(`${cluster().registryUrl}/subjects/${topic}-value/versions/latest`)
    ).json()) as {
      references: unknown;
    };
    expect(latest.references).toEqual(references);
  });
});

const boundaries = {
  type: 'record',
  name: 'Boundaries',
  namespace: 'com.acme.test',
  fields: [
    { name: 'days', type: { type: 'array', items: { type: 'int', logicalType: 'date' } } },
    { name: 'instants', type: { type: 'array', items: { type: 'long', logicalType: 'timestamp-millis' } } },
    { name: 'timesMillis', type: { type: 'array', items: { type: 'int', logicalType: 'time-millis' } } },
    { name: 'timesMicros', type: { type: 'array', items: { type: 'long', logicalType: 'time-micros' } } },
    { name: 'micros', type: { type: 'array', items: { type: 'long', logicalType: 'timestamp-micros' } } },
    {
      name: 'local',
      type: { type: 'array', items: { type: 'long', logicalType: 'local-timestamp-millis' } },
    },
    {
      name: 'localMicros',
      type: { type: 'array', items: { type: 'long', logicalType: 'local-timestamp-micros' } },
    },
    {
      name: 'amounts',
      type: { type: 'array', items: { type: 'bytes', logicalType: 'decimal', precision: 60, scale: 20 } },
    },
    {
      name: 'fixedAmounts',
      type: {
        type: 'array',
        items: { type: 'fixed', name: 'Money16', size: 16, logicalType: 'decimal', precision: 38, scale: 0 },
      },
    },
    { name: 'ids', type: { type: 'array', items: { type: 'string', logicalType: 'uuid' } } },
    { name: 'span', type: { type: 'fixed', name: 'Duration', size: 12, logicalType: 'duration' } },
  ],
} as const;

describe('logical types at their boundaries through the registry', () => {
  it('round-trips the extreme values of every logical type exactly', async () => {
    const serde = registryAvro({ registry, schema: boundaries });
    const value: InferAvro<typeof boundaries> = {
      days: [
        '-5877641-06-23',
        '-0001-01-01',
        '0000-01-01',
        '0001-01-01',
        '0099-12-31',
        '0100-01-01',
        '9999-12-31',
        '+10000-01-01',
        '+5881580-07-11',
      ],
      instants: [-8.64e15, -(2 ** 53) + 8e14, -(2 ** 52) - 1, -1, 0, 2 ** 52 + 1, 8.64e15].map(
        (ms) => new Date(ms),
      ),
      timesMillis: [0, 86_399_999],
      timesMicros: [0n, 86_399_999_999n],
      micros: [-(2n ** 63n), -(2n ** 53n) - 1n, 2n ** 53n + 1n, 2n ** 63n - 1n],
      local: [-(2n ** 63n), 2n ** 63n - 1n],
      localMicros: [-(2n ** 63n), 2n ** 63n - 1n],
      amounts: [
        `-${'9'.repeat(40)}.${'9'.repeat(20)}`,
        '-0.00000000000000000001',
        '0.00000000000000000000',
        `${'9'.repeat(40)}.${'9'.repeat(20)}`,
      ],
      fixedAmounts: [`-${'9'.repeat(38)}`, '-1', '0', '255', `${'9'.repeat(38)}`],
      ids: ['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'],
      span: Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0]),
    };
    const topic = uniqueName('logical-boundaries');
    const bytes = await serde.serialize(value, ctx(topic));
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual(value);
    // A reader that only has the schema id (the writer's schema from the registry) reads the same.
    const generic = registryAvro({ registry, schemaId: bytes.readInt32BE(1) });
    expect(await generic.deserialize(bytes, ctx(topic))).toEqual(value);
  });

  it('writes date and timestamp-millis with the bytes the Avro spec gives, and refuses a timestamp beyond a Date naming the field', async () => {
    const schema = {
      type: 'record',
      name: 'Dated',
      namespace: 'com.acme.test',
      fields: [
        { name: 'day', type: { type: 'int', logicalType: 'date' } },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      ],
    } as const;
    const serde = registryAvro({ registry, schema });
    const topic = uniqueName('dated');
    const bytes = await serde.serialize({ day: '0001-01-01', at: new Date(-8.64e15) }, ctx(topic));
    // day -719162 -> zigzag 1438323; -8.64e15 ms -> zigzag 17279999999999999 (varints, low 7 bits first).
    expect(bytes.subarray(5)).toEqual(
      Buffer.from([0xf3, 0xe4, 0x57, 0xff, 0xff, 0xdf, 0xad, 0x98, 0x82, 0xd9, 0x1e]),
    );
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual({ day: '0001-01-01', at: new Date(-8.64e15) });
    // What a Java producer writes for Instant.ofEpochMilli(-8640000000000001L): one ms before a Date reaches.
    const beyond = Buffer.concat([
      bytes.subarray(0, 8),
      Buffer.from([0x81, 0x80, 0xe0, 0xad, 0x98, 0x82, 0xd9, 0x1e]),
    ]);
    // deserialize() throws synchronously once the schema is cached; catch either way.
    const error = await Promise.resolve()
      .then(() => serde.deserialize(beyond, { ...ctx(topic), partition: 0, offset: '42' }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({
      code: 'CASCADE_SERDE_DESERIALIZE',
      reason: 'invalid-value',
      fieldPath: 'at',
      topic,
      offset: '42',
      schemaId: bytes.readInt32BE(1),
      retriable: false,
    });
    expect((error as Error).message).toContain('field at holds timestamp-millis -8640000000000001');
  });
});

describe('byte compatibility with @kafkajs/confluent-schema-registry', () => {
  const schema = {
    type: 'record',
    name: 'Interop',
    namespace: 'com.acme.interop',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'int' },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'note', type: ['null', 'string'], default: null },
    ],
  } as const;

  it('writes the same bytes as its encode() and reads what it writes', async () => {
    const topic = uniqueName('interop');
    const ours = registryAvro({ registry, schema });
    const value = { id: 'x-1', n: 42, tags: ['a', 'bc'], note: 'hello' };
    const bytes = await ours.serialize(value, ctx(topic));
    const theirs = new KafkajsRegistry({ host: cluster().registryUrl });
    const theirBytes = await theirs.encode(bytes.readInt32BE(1), value);
    expect(theirBytes).toEqual(bytes);
    expect(await theirs.decode(bytes)).toEqual(value);
    expect(await ours.deserialize(theirBytes, ctx(topic))).toEqual(value);
  });
});
