// At most one registry request in flight per key: 50 producers starting at once register a
// subject once; 50 consumers meeting a new schema id fetch it once. Requests are counted by a
// loopback proxy in front of the real registry.
import { registryAvro, SchemaRegistry } from '@cascade/schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';
import { type RegistryProxy, startRegistryProxy } from './registry-proxy.js';
import { registerDirect, versions } from './registry-rest.js';

const schema = {
  type: 'record',
  name: 'Shipment',
  namespace: 'com.acme.logistics',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'weightGrams', type: 'long' },
  ],
} as const;

let proxy: RegistryProxy;
let registry: SchemaRegistry;
beforeEach(async () => {
  proxy = await startRegistryProxy({ target: cluster().registryUrl });
  registry = new SchemaRegistry({ url: proxy.url });
});
afterEach(async () => {
  await registry.close();
  await proxy.close();
});

describe('single flight', () => {
  it('registers a new subject with one request when 50 serdes serialize at once', async () => {
    const topic = uniqueName('shipments');
    const subject = `${topic}-value`;
    const serdes = Array.from({ length: 50 }, () => registryAvro({ registry, schema }));
    const encoded = await Promise.all(
      serdes.map((serde, i) =>
        serde.serialize({ id: `s-${i}`, weightGrams: BigInt(i) }, { topic, headers: {}, isKey: false }),
      ),
    );
    // One lookup, one compatibility check, one registration: for all 50.
    expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /apis/ccompat/v7/subjects/${subject}`,
      `POST /apis/ccompat/v7/compatibility/subjects/${subject}/versions/latest?verbose=true`,
      `POST /apis/ccompat/v7/subjects/${subject}/versions`,
    ]);
    expect(new Set(encoded.map((bytes) => bytes.readInt32BE(1))).size).toBe(1);
    expect(await versions(subject)).toEqual([1]);
  });

  it('fetches an unseen writer schema once when 50 records with its id arrive at once', async () => {
    const topic = uniqueName('arrivals');
    const direct = new SchemaRegistry({ url: cluster().registryUrl });
    const bytes = await registryAvro({ registry: direct, schema }).serialize(
      { id: 's-1', weightGrams: 2n ** 60n },
      { topic, headers: {}, isKey: false },
    );
    await direct.close();
    const reader = registryAvro({ registry, schema, autoRegister: false });
    const values = await Promise.all(
      Array.from({ length: 50 }, (_, offset) =>
        reader.deserialize(bytes, { topic, headers: {}, isKey: false, partition: 0, offset: String(offset) }),
      ),
    );
    expect(values).toEqual(Array.from({ length: 50 }, () => ({ id: 's-1', weightGrams: 2n ** 60n })));
    expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /apis/ccompat/v7/schemas/ids/${bytes.readInt32BE(1)}`,
    ]);
  });

  it('asks for the latest version once when 50 useLatestVersion serdes start at once', async () => {
    const topic = uniqueName('latest-burst');
    const id = await registerDirect(`${topic}-value`, schema);
    const serdes = Array.from({ length: 50 }, () =>
      registryAvro({ registry, schema, useLatestVersion: true }),
    );
    const encoded = await Promise.all(
      serdes.map((serde) =>
        serde.serialize({ id: 's', weightGrams: 1n }, { topic, headers: {}, isKey: false }),
      ),
    );
    expect(encoded.every((bytes) => bytes.readInt32BE(1) === id)).toBe(true);
    expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /apis/ccompat/v7/subjects/${topic}-value/versions/latest`,
      `GET /apis/ccompat/v7/schemas/ids/${id}`,
    ]);
  });

  it('keeps keys apart: two subjects at once make two registrations, not one and not 100', async () => {
    const topicA = uniqueName('a');
    const topicB = uniqueName('b');
    const serde = registryAvro({ registry, schema });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        serde.serialize(
          { id: `${i}`, weightGrams: 1n },
          { topic: i % 2 === 0 ? topicA : topicB, headers: {}, isKey: false },
        ),
      ),
    );
    const registrations = proxy.requests.filter(
      (r) => r.method === 'POST' && /\/subjects\/[^/]+\/versions$/.test(r.path),
    );
    expect(registrations.map((r) => r.path).sort()).toEqual(
      [
        `/apis/ccompat/v7/subjects/${topicA}-value/versions`,
        `/apis/ccompat/v7/subjects/${topicB}-value/versions`,
      ].sort(),
    );
    expect(proxy.requests).toHaveLength(6);
    expect(await versions(`${topicA}-value`)).toEqual([1]);
    expect(await versions(`${topicB}-value`)).toEqual([1]);
  });
});
