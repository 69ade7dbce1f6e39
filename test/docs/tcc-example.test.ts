// The example docs/tcc.md quotes runs against the test cluster, over real HTTP and Kafka.
import { run } from '@cascade/snippets/tcc';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the TCC example from the docs: one booking confirmed on both participants, the other cancelled', async () => {
  const { outcomes, books } = await run(cluster());
  expect(outcomes).toEqual({ 'b-1': 'completed', 'b-2': 'compensated' });
  expect(books.payments).toEqual({ 'b-1': 'captured 12000' });
  expect(books.seats['12A']).toBe('sold');
  // Cancelled after its try ('free'), or before it (an empty rollback: the try never held it).
  expect([undefined, 'free']).toContain(books.seats['12B']);
});
