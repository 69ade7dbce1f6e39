// A real registry outage: a registry of this test's own (the shared one must stay up) is stopped
// while serdes use it. Warm caches keep working; anything that needs the registry fails with the
// retriable RegistryUnavailableError — never a poison-pill DeserializationError.
import { isRetriable } from '@cascade/core';
import { RegistryUnavailableError, registryAvro, SchemaRegistry } from '@cascade/schema';
import { startCluster } from '@cascade/testkit';
import { expect, it } from 'vitest';
import { uniqueName } from '../support/kafka.js';
import { caught } from './caught.js';

const schema = { type: 'record', name: 'Reading', fields: [{ name: 'celsius', type: 'double' }] } as const;

it('keeps warm serdes working through a stopped registry and reports cold lookups as retriable', async () => {
  const own = await startCluster({ mode: 'jvm', registry: true });
  let stopped = false;
  const registry = new SchemaRegistry({
    url: own.registryUrl,
    retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 50 },
    requestTimeoutMs: 2_000,
  });
  try {
    const serde = registryAvro({ registry, schema });
    const topic = uniqueName('sensors');
    const context = { topic, headers: {}, isKey: false, partition: 1, offset: '5' };
    const bytes = await serde.serialize({ celsius: 21.5 }, context);
    expect(await serde.deserialize(bytes, context)).toEqual({ celsius: 21.5 });

    await own.stop();
    stopped = true;

    expect(await serde.serialize({ celsius: 21.5 }, context)).toEqual(bytes);
    expect(await serde.deserialize(bytes, context)).toEqual({ celsius: 21.5 });
    const otherTopic = await caught(() =>
      serde.serialize({ celsius: 1 }, { ...context, topic: uniqueName('cold') }),
    );
    expect(otherTopic).toBeInstanceOf(RegistryUnavailableError);
    expect(otherTopic).toMatchObject({ code: 'CASCADE_REGISTRY_UNAVAILABLE', retriable: true, attempts: 3 });
    const unseen = Buffer.from(bytes);
    unseen.writeInt32BE(bytes.readInt32BE(1) + 100, 1);
    const coldRead = await caught(() => serde.deserialize(unseen, context));
    expect(coldRead).toBeInstanceOf(RegistryUnavailableError);
    expect(isRetriable(coldRead)).toBe(true);
  } finally {
    await registry.close();
    if (!stopped) await own.stop();
  }
});
