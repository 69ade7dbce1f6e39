// The example docs/schema.md quotes runs against the test cluster's registry.
import { readFileSync } from 'node:fs';
import { run } from '@cascade/snippets/schema';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the schema example from the docs against the test registry', async () => {
  const result = await run(cluster());
  expect(result.subject).toMatch(/^orders-\d+-value$/);
  expect(result.schemaId).toBeGreaterThan(0);
  expect(result.decoded).toEqual({
    orderId: '5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab',
    placedAt: new Date('2026-11-23T10:15:30.123Z'),
    total: '1299.90',
    quantity: 9_007_199_254_740_993n,
    status: 'PAID',
    coupon: null,
  });
  expect(result.avroBytes).toBeLessThan(result.jsonBytes);
  expect(result.poisonPill).toEqual({ reason: 'bad-magic-byte', retriable: false });
  const registered = await fetch(`${cluster().registryUrl}/subjects/${result.subject}/versions/latest`);
  expect(((await registered.json()) as { id: number }).id).toBe(result.schemaId);
});

it('quotes the example in docs/schema.md as it is', () => {
  const example = readFileSync(new URL('../../examples/snippets/src/schema.ts', import.meta.url), 'utf8');
  const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
  expect(doc).toContain(example.trimEnd());
});
