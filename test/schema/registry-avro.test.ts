// registryAvro against the real registry: the wire format, subject name strategies, the three
// ways of picking the writer's schema, and that producing never changes a subject's config.
import { registryAvro, SchemaNotFoundError, SchemaRegistry, type SerdeContext } from '@cascade/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';
import { caught } from './caught.js';
import { startRegistryProxy } from './registry-proxy.js';
import { registerDirect, rest, versions } from './registry-rest.js';

const orderSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'com.acme.orders',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'quantity', type: 'int' },
  ],
} as const;

const registry = new SchemaRegistry({ url: cluster().registryUrl });
afterAll(() => registry.close());

function ctx(topic: string, isKey = false): SerdeContext {
  return { topic, headers: {}, isKey };
}

describe('registryAvro', () => {
  it('registers under <topic>-value and writes magic byte 0, the 4-byte big-endian id, then Avro', async () => {
    const topic = uniqueName('orders');
    const serde = registryAvro({ registry, schema: orderSchema });
    const bytes = await serde.serialize({ id: 'o-1', quantity: 3 }, ctx(topic));
    const latest = await rest('GET', `subjects/${topic}-value/versions/latest`);
    const id = (latest.json as { id: number }).id;
    // "o-1" = length 3 (zigzag 6) + bytes; 3 = zigzag 6.
    expect(bytes).toEqual(
      Buffer.concat([Buffer.from([0]), int32(id), Buffer.from([0x06, 0x6f, 0x2d, 0x31, 0x06])]),
    );
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual({ id: 'o-1', quantity: 3 });
    expect(JSON.parse((latest.json as { schema: string }).schema)).toEqual(orderSchema);
  });

  it('decodes a Confluent-format payload built by hand (magic byte, id, avsc-free Avro body)', async () => {
    const topic = uniqueName('handmade');
    const id = await registerDirect(`${topic}-value`, orderSchema);
    // Avro binary of { id: "Zé", quantity: -2 }: string length 3 -> 0x06, UTF-8 5a c3 a9; int -2 -> 0x03.
    const payload = Buffer.from([0x00, ...int32(id), 0x06, 0x5a, 0xc3, 0xa9, 0x03]);
    const serde = registryAvro({ registry, schema: orderSchema, autoRegister: false });
    expect(await serde.deserialize(payload, ctx(topic))).toEqual({ id: 'Zé', quantity: -2 });
    expect(await serde.serialize({ id: 'Zé', quantity: -2 }, ctx(topic))).toEqual(payload);
  });

  it('takes the schema as JSON text (an .avsc file) and registers it as the same schema', async () => {
    const topic = uniqueName('avsc-text');
    const serde = registryAvro({
      registry,
      schema: JSON.stringify(orderSchema, null, 2),
    });
    const bytes = await serde.serialize({ id: 'o-1', quantity: 3 }, ctx(topic));
    const latest = await rest('GET', `subjects/${topic}-value/versions/latest`);
    expect(JSON.parse((latest.json as { schema: string }).schema)).toEqual(orderSchema);
    expect(bytes.readInt32BE(1)).toBe((latest.json as { id: number }).id);
  });

  it('keys go under <topic>-key', async () => {
    const topic = uniqueName('keys');
    const serde = registryAvro({ registry, schema: 'string' });
    await serde.serialize('k-1', ctx(topic, true));
    expect(await versions(`${topic}-key`)).toEqual([1]);
    expect(await versions(`${topic}-value`)).toEqual([]);
  });

  it('uses the record name, topic-record name, or a function as the subject', async () => {
    const topic = uniqueName('strategies');
    const namespace = `t${uniqueName('ns').replaceAll('-', '')}`;
    const schema = { ...orderSchema, namespace };
    await registryAvro({ registry, schema, subjectNameStrategy: 'record' }).serialize(
      { id: 'a', quantity: 1 },
      ctx(topic),
    );
    await registryAvro({ registry, schema, subjectNameStrategy: 'topic-record' }).serialize(
      { id: 'a', quantity: 1 },
      ctx(topic),
    );
    await registryAvro({
      registry,
      schema,
      subjectNameStrategy: ({ topic: t, isKey }) => `custom.${t}.${isKey ? 'k' : 'v'}`,
    }).serialize({ id: 'a', quantity: 1 }, ctx(topic));
    expect(await versions(`${namespace}.Order`)).toEqual([1]);
    expect(await versions(`${topic}-${namespace}.Order`)).toEqual([1]);
    expect(await versions(`custom.${topic}.v`)).toEqual([1]);
    expect(await versions(`${topic}-value`)).toEqual([]);
  });

  it('with autoRegister off, refuses a schema the subject does not have', async () => {
    const topic = uniqueName('noauto');
    const serde = registryAvro({ registry, schema: orderSchema, autoRegister: false });
    const error = await caught(() => serde.serialize({ id: 'a', quantity: 1 }, ctx(topic)));
    expect(error).toBeInstanceOf(SchemaNotFoundError);
    expect(error).toMatchObject({
      code: 'CASCADE_SCHEMA_NOT_FOUND',
      subject: `${topic}-value`,
      retriable: false,
    });
    expect(await versions(`${topic}-value`)).toEqual([]);
  });

  it('with useLatestVersion, writes with the id and schema of the subject latest version', async () => {
    const topic = uniqueName('latest');
    await registerDirect(`${topic}-value`, orderSchema);
    const v2 = {
      ...orderSchema,
      fields: [...orderSchema.fields, { name: 'note', type: 'string', default: '' }],
    };
    const v2Id = await registerDirect(`${topic}-value`, v2);
    const serde = registryAvro<{ id: string; quantity: number; note: string }>({
      registry,
      useLatestVersion: true,
    });
    const bytes = await serde.serialize({ id: 'a', quantity: 1, note: 'hi' }, ctx(topic));
    expect(bytes.readInt32BE(1)).toBe(v2Id);
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual({ id: 'a', quantity: 1, note: 'hi' });
  });

  it('with a fixed schemaId, writes with that id and fails for an unknown id', async () => {
    const topic = uniqueName('fixed');
    const id = await registerDirect(`${topic}-value`, orderSchema);
    const serde = registryAvro({ registry, schema: orderSchema, schemaId: id });
    const bytes = await serde.serialize({ id: 'a', quantity: 1 }, ctx(uniqueName('any-topic')));
    expect(bytes.readInt32BE(1)).toBe(id);
    const missing = registryAvro({ registry, schema: orderSchema, schemaId: 2_000_000_000 });
    const error = await caught(() => missing.serialize({ id: 'a', quantity: 1 }, ctx(topic)));
    expect(error).toBeInstanceOf(SchemaNotFoundError);
    expect(error).toMatchObject({ schemaId: 2_000_000_000 });
  });

  it('never changes the subject compatibility level, and never calls the config API', async () => {
    const proxy = await startRegistryProxy({ target: cluster().registryUrl });
    try {
      const topic = uniqueName('compat-level');
      const subject = `${topic}-value`;
      await registerDirect(subject, orderSchema);
      expect((await rest('PUT', `config/${subject}`, { compatibility: 'FULL' })).status).toBe(200);
      const proxied = new SchemaRegistry({ url: proxy.url });
      const v2 = {
        ...orderSchema,
        fields: [...orderSchema.fields, { name: 'note', type: ['null', 'string'], default: null }],
      };
      await registryAvro({ registry: proxied, schema: v2 }).serialize(
        { id: 'a', quantity: 1, note: null },
        ctx(topic),
      );
      expect(await versions(subject)).toEqual([1, 2]);
      expect((await rest('GET', `config/${subject}`)).json).toEqual({ compatibilityLevel: 'FULL' });
      expect(proxy.requests.filter((r) => r.path.includes('/config/')).map((r) => r.path)).toEqual([]);
      expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `POST /apis/ccompat/v7/subjects/${subject}`,
        `POST /apis/ccompat/v7/compatibility/subjects/${subject}/versions/latest?verbose=true`,
        `POST /apis/ccompat/v7/subjects/${subject}/versions`,
      ]);
      await proxied.close();
    } finally {
      await proxy.close();
    }
  });
});

function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value);
  return out;
}
