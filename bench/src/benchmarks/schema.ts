/**
 * schema: encode + decode of a realistic ~1 KB order (nested records, an array of line items, a
 * nullable union, a timestamp-millis, an enum) with warm caches: Cascade's `registryAvro` (Confluent
 * wire format, schema registered in the run's registry) against raw avsc `toBuffer`/`fromBuffer`
 * of the same schema and object, and against `JSON.stringify`/`JSON.parse`. Also the encoded
 * size against JSON. Each case is the median of 7 alternating rounds.
 */
import { registryAvro, SchemaRegistry, type SerdeContext } from '@cascade/schema';
import avro from 'avsc';
import { type Benchmark, type BenchResult, result } from '../harness.js';

const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'com.acme.bench',
  fields: [
    { name: 'id', type: 'string' },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'Customer',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'name', type: 'string' },
          { name: 'email', type: 'string' },
          {
            name: 'address',
            type: {
              type: 'record',
              name: 'Address',
              fields: [
                { name: 'street', type: 'string' },
                { name: 'city', type: 'string' },
                { name: 'zip', type: 'string' },
                { name: 'country', type: 'string' },
              ],
            },
          },
        ],
      },
    },
    {
      name: 'status',
      type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED', 'CANCELLED'] },
    },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'], default: null },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'name', type: 'string' },
            { name: 'quantity', type: 'int' },
            { name: 'unitPriceCents', type: 'int' },
          ],
        },
      },
    },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
} as const;

const order = {
  id: '5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab',
  customer: {
    id: 'c-000042',
    name: 'Ada Lovelace',
    email: 'ada.lovelace@example.com',
    address: { street: '12 Analytical Engine Lane', city: 'London', zip: 'NW1 6XE', country: 'GB' },
  },
  status: 'PAID' as const,
  placedAt: new Date('2026-11-23T10:15:30.123Z'),
  note: 'Leave the parcel with the neighbour if nobody answers.',
  lines: Array.from({ length: 10 }, (_, i) => ({
    sku: `SKU-${String(100_000 + i * 7919)}`,
    name: `Widget model ${i} (blue, large)`,
    quantity: 1 + (i % 4),
    unitPriceCents: 1999 + i * 250,
  })),
  tags: ['priority', 'gift-wrap', 'eu-warehouse'],
};

/** avsc's documented timestamp-millis logical type (number longs), for the raw baseline. */
class DateType extends avro.types.LogicalType {
  protected override _fromValue(value: number): Date {
    return new Date(value);
  }
  protected override _toValue(value: unknown): number | undefined {
    return value instanceof Date ? value.getTime() : undefined;
  }
  protected override _resolve(type: avro.Type): ((value: number) => Date) | undefined {
    return avro.Type.isType(type, 'long', 'logical:timestamp-millis')
      ? (value) => new Date(value)
      : undefined;
  }
}

function opsPerSecond(iterations: number, body: () => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) body();
  return iterations / (Number(process.hrtime.bigint() - started) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const benchmark: Benchmark = {
  name: 'schema',
  description:
    'Encode + decode of a ~1 KB order (nested records, array, nullable union, timestamp, enum), warm caches: registryAvro (Confluent wire format) vs raw avsc 5.7.9 toBuffer/fromBuffer vs JSON.stringify/parse. Median of 7 rounds; ratio = registryAvro / baseline (size: lower is better).',
  async run({ registryUrl, log }) {
    const registry = new SchemaRegistry({ url: registryUrl });
    const serde = registryAvro({ registry, schema });
    const context: SerdeContext = { topic: `bench-schema-${Date.now()}`, headers: {}, isKey: false };
    const first = await serde.serialize(order, context); // registers; caches are warm from here on
    await serde.deserialize(first, context);
    const raw = avro.Type.forSchema(schema as unknown as avro.Schema, {
      logicalTypes: { 'timestamp-millis': DateType },
    });

    const encodeOurs = (): Buffer => serde.serialize(order, context) as Buffer;
    const wire = encodeOurs();
    if (wire instanceof Promise) throw new Error('expected the warm path to be synchronous');
    const rawBytes = raw.toBuffer(order);
    const jsonText = JSON.stringify(order);
    const decoded = serde.deserialize(wire, context);
    if (decoded instanceof Promise) throw new Error('expected the warm decode path to be synchronous');

    const cases = {
      oursRoundTrip: () => serde.deserialize(serde.serialize(order, context) as Buffer, context),
      avscRoundTrip: () => raw.fromBuffer(raw.toBuffer(order)),
      jsonRoundTrip: () => JSON.parse(JSON.stringify(order)),
      oursEncode: () => serde.serialize(order, context),
      avscEncode: () => raw.toBuffer(order),
      jsonEncode: () => JSON.stringify(order),
      oursDecode: () => serde.deserialize(wire, context),
      avscDecode: () => raw.fromBuffer(rawBytes),
      jsonDecode: () => JSON.parse(jsonText),
    };
    const iterations = 50_000;
    for (const body of Object.values(cases)) opsPerSecond(iterations / 5, body); // warm-up / JIT
    const samples: Record<keyof typeof cases, number[]> = Object.fromEntries(
      Object.keys(cases).map((key) => [key, [] as number[]]),
    ) as Record<keyof typeof cases, number[]>;
    for (let round = 0; round < 7; round++) {
      for (const [key, body] of Object.entries(cases) as Array<[keyof typeof cases, () => unknown]>) {
        samples[key].push(opsPerSecond(iterations, body));
      }
      log(`round ${round + 1}: registryAvro ${Math.round(samples.oursRoundTrip[round] ?? 0)} round trips/s`);
    }
    const m = (key: keyof typeof cases): number => median(samples[key]);
    await registry.close();
    const results: BenchResult[] = [
      result('encode+decode: registryAvro vs raw avsc', 'ops/s', m('oursRoundTrip'), m('avscRoundTrip')),
      result('encode+decode: registryAvro vs JSON', 'ops/s', m('oursRoundTrip'), m('jsonRoundTrip')),
      result('encode: registryAvro vs raw avsc', 'ops/s', m('oursEncode'), m('avscEncode')),
      result('encode: registryAvro vs JSON', 'ops/s', m('oursEncode'), m('jsonEncode')),
      result('decode: registryAvro vs raw avsc', 'ops/s', m('oursDecode'), m('avscDecode')),
      result('decode: registryAvro vs JSON', 'ops/s', m('oursDecode'), m('jsonDecode')),
      result('encoded size: registryAvro vs JSON', 'bytes', wire.length, Buffer.byteLength(jsonText)),
      result('encoded size: registryAvro vs raw avsc', 'bytes', wire.length, rawBytes.length),
    ];
    return results;
  },
};

export default benchmark;
