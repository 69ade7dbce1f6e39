// Schema evolution through the registry: a v2 reader reads v1 data (defaults fill in), a v1
// reader reads v2 data, an incompatible change is refused with the subject and the reasons, and
// resolvers are built once per (writer id, reader schema).
import { DeserializationError, registryAvro, SchemaIncompatibleError, SchemaRegistry } from '@cascade/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';
import { caught } from './caught.js';
import { startRegistryProxy } from './registry-proxy.js';
import { rest, versions } from './registry-rest.js';

const v1 = {
  type: 'record',
  name: 'Customer',
  namespace: 'com.acme.crm',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
  ],
} as const;

const v2 = {
  type: 'record',
  name: 'Customer',
  namespace: 'com.acme.crm',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'tier', type: { type: 'enum', name: 'Tier', symbols: ['BASIC', 'GOLD'] }, default: 'BASIC' },
    { name: 'email', type: ['null', 'string'], default: null },
  ],
} as const;

const registry = new SchemaRegistry({ url: cluster().registryUrl });
afterAll(() => registry.close());

const ctx = (topic: string) => ({ topic, headers: {}, isKey: false });

describe('schema evolution', () => {
  it('registers v1 then v2 under BACKWARD, and each reader reads the other writer', async () => {
    const topic = uniqueName('customers');
    const writerV1 = registryAvro({ registry, schema: v1 });
    const writerV2 = registryAvro({ registry, schema: v2 });
    const fromV1 = await writerV1.serialize({ id: 'c-1', name: 'Ada' }, ctx(topic));
    const fromV2 = await writerV2.serialize(
      { id: 'c-2', name: 'Bob', tier: 'GOLD', email: 'bob@example.com' },
      ctx(topic),
    );
    expect(await versions(`${topic}-value`)).toEqual([1, 2]);
    expect(fromV1.readInt32BE(1)).not.toBe(fromV2.readInt32BE(1));

    // v2 reader, v1 data: the new fields take their defaults.
    expect(await writerV2.deserialize(fromV1, ctx(topic))).toEqual({
      id: 'c-1',
      name: 'Ada',
      tier: 'BASIC',
      email: null,
    });
    // v1 reader, v2 data: the fields it does not know are skipped.
    expect(await writerV1.deserialize(fromV2, ctx(topic))).toEqual({ id: 'c-2', name: 'Bob' });
  });

  it('refuses an incompatible change with SchemaIncompatibleError naming the subject, and registers nothing', async () => {
    const topic = uniqueName('incompatible');
    await registryAvro({ registry, schema: v1 }).serialize({ id: 'c-1', name: 'Ada' }, ctx(topic));
    // A new field without a default: a v3 reader could not read v1 data (BACKWARD).
    const v3 = { ...v1, fields: [...v1.fields, { name: 'age', type: 'int' }] } as const;
    const error = await caught(() =>
      registryAvro({ registry, schema: v3 }).serialize({ id: 'c', name: 'n', age: 1 }, ctx(topic)),
    );
    expect(error).toBeInstanceOf(SchemaIncompatibleError);
    expect(error).toMatchObject({
      code: 'CASCADE_SCHEMA_INCOMPATIBLE',
      subject: `${topic}-value`,
      retriable: false,
    });
    expect((error as Error).message).toContain(`subject ${topic}-value`);
    // Apicurio's check gives no reasons; Cascade words the one that applies under BACKWARD.
    expect((error as SchemaIncompatibleError).reasons).toEqual([
      'the new schema cannot read data written with version 1 (no matching field for default-less com.acme.crm.Customer.age) [diagnosed by Cascade; the registry gave no reasons]',
    ]);
    expect(await versions(`${topic}-value`)).toEqual([1]);
  });

  it('carries the registry reasons when the registry itself refuses the registration (HTTP 409)', async () => {
    const topic = uniqueName('conflict');
    const subject = `${topic}-value`;
    await registryAvro({ registry, schema: v1 }).serialize({ id: 'c-1', name: 'Ada' }, ctx(topic));
    const v3 = { ...v1, fields: [...v1.fields, { name: 'age', type: 'int' }] };
    const error = await caught(() => registry.register(subject, { schema: JSON.stringify(v3) }));
    expect(error).toBeInstanceOf(SchemaIncompatibleError);
    const reasons = (error as SchemaIncompatibleError).reasons;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain('age');
  });

  it('fails reading data a reader cannot resolve as a poison pill (incompatible-schema)', async () => {
    const topic = uniqueName('unreadable');
    const written = await registryAvro({ registry, schema: v1 }).serialize(
      { id: 'c-1', name: 'Ada' },
      ctx(topic),
    );
    const strict = { ...v1, fields: [...v1.fields, { name: 'age', type: 'int' }] } as const;
    const reader = registryAvro({ registry, schema: strict, autoRegister: false });
    const error = await caught(() =>
      reader.deserialize(written, { ...ctx(topic), partition: 0, offset: '7' }),
    );
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({
      reason: 'incompatible-schema',
      schemaId: written.readInt32BE(1),
      topic,
      partition: 0,
      offset: '7',
      retriable: false,
    });
  });

  it('refuses to read a decimal written with another scale instead of shifting its value', async () => {
    const amount = (scale: number) =>
      ({
        type: 'record',
        name: 'Amount',
        fields: [{ name: 'v', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale } }],
      }) as const;
    const topic = uniqueName('scale');
    const written = await registryAvro({ registry, schema: amount(2) }).serialize({ v: '1.50' }, ctx(topic));
    const error = await caught(() =>
      registryAvro({ registry, schema: amount(3), autoRegister: false }).deserialize(written, ctx(topic)),
    );
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({ reason: 'incompatible-schema', schemaId: written.readInt32BE(1) });
    // The same scale with a larger precision reads the value unchanged.
    const wider = {
      type: 'record',
      name: 'Amount',
      fields: [{ name: 'v', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } }],
    } as const;
    expect(
      await registryAvro({ registry, schema: wider, autoRegister: false }).deserialize(written, ctx(topic)),
    ).toEqual({
      v: '1.50',
    });
  });

  it('fetches each writer schema once and caches the resolver per (writer id, reader)', async () => {
    const topic = uniqueName('resolver-cache');
    const fromV1 = await registryAvro({ registry, schema: v1 }).serialize(
      { id: 'c-1', name: 'Ada' },
      ctx(topic),
    );
    const proxy = await startRegistryProxy({ target: cluster().registryUrl });
    try {
      const proxied = new SchemaRegistry({ url: proxy.url });
      const readerV2 = registryAvro({ registry: proxied, schema: v2 });
      for (let i = 0; i < 20; i++) {
        expect(await readerV2.deserialize(fromV1, ctx(topic))).toMatchObject({ id: 'c-1', tier: 'BASIC' });
      }
      // A second reader with another schema on the same client: no new schema fetch either.
      const readerV1 = registryAvro({ registry: proxied, schema: v1 });
      expect(await readerV1.deserialize(fromV1, ctx(topic))).toEqual({ id: 'c-1', name: 'Ada' });
      expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /apis/ccompat/v7/schemas/ids/${fromV1.readInt32BE(1)}`,
      ]);
      // The warm path is synchronous: no promise, no registry.
      expect(readerV2.deserialize(fromV1, ctx(topic))).not.toBeInstanceOf(Promise);
      await proxied.close();
    } finally {
      await proxy.close();
    }
  });
});

it('reads the subject config the registry reports for a subject never configured (divergence check)', async () => {
  // Apicurio answers the global level for a subject without its own config; Confluent answers
  // 40408. docs/schema.md records this; Cascade never reads or writes the config anyway.
  const subject = `${uniqueName('unconfigured')}-value`;
  await registryAvro({ registry, schema: v1 }).serialize({ id: 'c', name: 'n' }, ctx(subject.slice(0, -6)));
  const config = await rest('GET', `config/${subject}`);
  expect(config.status).toBe(200);
  expect(config.json).toEqual({ compatibilityLevel: 'BACKWARD' });
});
