// The example docs/testkit.md quotes runs and finds the cluster.
import { run } from '@cascade/snippets/testkit';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the testkit example from the docs against the test cluster', async () => {
  process.env.KAFKA_BROKERS = cluster().brokers.join(',');
  process.env.SCHEMA_REGISTRY_URL = cluster().registryUrl;
  const found = await run();
  expect(found).toEqual({ brokers: cluster().brokers, registryUrl: cluster().registryUrl });
});
