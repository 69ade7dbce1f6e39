import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { createSagaCoordinator } from './coordinator.js';
import { defineSaga, replyType } from './definition.js';

const saga = defineSaga<{ id: string }>('options-check')
  .step('reserve', {
    participant: 'inventory',
    invoke: ({ input }) => ({ id: input.id }),
    reply: replyType<{ ok: boolean }>(),
  })
  .build();

describe('createSagaCoordinator options', () => {
  it('refuses a restoreTimeoutMs that is not a positive integer, naming it', () => {
    for (const restoreTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        createSagaCoordinator({ kafka: { brokers: ['127.0.0.1:1'] }, sagas: [saga], restoreTimeoutMs });
      } catch (e) {
        error = e;
      }
      expect(error, String(restoreTimeoutMs)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('restoreTimeoutMs');
    }
  });
});
