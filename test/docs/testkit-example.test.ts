// The example docs/testkit.md quotes finds the cluster and really talks to the broker and registry.
import { run } from '@cascade/snippets/testkit';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the testkit example from the docs: the broker lists itself, the registry lists subjects', async () => {
  const found = await run({
    KAFKA_BROKERS: cluster().brokers.join(','),
    SCHEMA_REGISTRY_URL: cluster().registryUrl,
  });
  expect(found.mode).toBe('external');
  expect(found.brokers).toEqual(cluster().brokers);
  expect(Array.isArray(found.subjects)).toBe(true);
});
