import { run } from '@cascade/snippets/core';
import { expect, it } from 'vitest';

it('runs the core example from the docs: secrets redacted, errors classified, lifecycle idempotent', async () => {
  expect(await run()).toEqual({
    lines: ['info connecting {"component":"billing","sasl":"[redacted]"}'],
    retriable: [false, true, true],
    states: ['idle', 'running', 'stopped'],
  });
});
