// The example docs/transport.md and docs/kafkajs.md quote runs against the test cluster.
import { readFileSync } from 'node:fs';
import { run } from '@cascade/snippets/transport';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';

it('runs the transport example: admin, producer and consumer on one connection config and its transport', async () => {
  const result = await run(cluster());
  expect(result).toEqual({
    transport: 'kafkajs',
    partitions: 2,
    received: ['invoice 1', 'invoice 2'],
    lag: 0n,
  });
});

it('is quoted in docs/transport.md and docs/kafkajs.md as it is', () => {
  const example = readFileSync(new URL('../../examples/snippets/src/transport.ts', import.meta.url), 'utf8');
  for (const page of ['transport', 'kafkajs']) {
    const doc = readFileSync(new URL(`../../docs/${page}.md`, import.meta.url), 'utf8');
    expect(doc, page).toContain(example.trimEnd());
  }
});
