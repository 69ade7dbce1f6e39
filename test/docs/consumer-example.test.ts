// The example docs/consumer.md quotes runs against the test cluster.
import { run } from '@cascade/snippets/consumer';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the consumer example from the docs: orders billed in order per customer, the invalid one dead-lettered', async () => {
  const result = await run(cluster());
  expect(result.billed).toEqual(['o-1', 'o-3']);
  expect(result.deadLetters).toEqual([
    { key: 'c-2', reason: 'quantity must be positive', originalOffset: '1' },
  ]);
});
