// The example docs/producer.md quotes runs against the test cluster.
import { run } from '@cascade/snippets/producer';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the producer example from the docs against the test cluster', async () => {
  const result = await run(cluster());
  expect(result.first).toMatchObject({ partition: expect.any(Number), offset: '0' });
  // The ten records share key o-2, so they are stored in one partition, in order.
  const offsets = result.batchOffsets.map(Number);
  expect(offsets).toEqual(Array.from({ length: 10 }, (_, i) => (offsets[0] ?? 0) + i));
  expect(result.committed).toBe(2);
  expect(result.acknowledged).toBe(11);
});
