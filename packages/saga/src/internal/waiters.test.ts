import { getEventListeners } from 'node:events';
import { AbortedError, ClosedError, CoreErrorCodes } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import type { SagaState } from '../state.js';
import { StateWaiters } from './waiters.js';

const state = (sagaId: string, status: SagaState['status']): SagaState => ({
  sagaId,
  saga: 'order',
  version: 1,
  input: {},
  status,
  seq: 1,
  group: 0,
  steps: {},
  timers: {},
  startedAt: 0,
  updatedAt: 0,
  audit: [],
});
const finished = (s: SagaState) => (s.status === 'completed' ? s.status : undefined);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the wait to reject');
}

describe('saga state waiters', () => {
  it('settles each wait on the first state of its saga that it accepts', async () => {
    const waiters = new StateWaiters();
    const a = waiters.watch('a', finished, 'wait for a');
    const b = waiters.watch('b', finished, 'wait for b');
    waiters.offer(state('a', 'running'));
    waiters.offer(state('b', 'completed'));
    waiters.offer(state('a', 'completed'));
    expect(await Promise.all([a.promise, b.promise])).toEqual(['completed', 'completed']);
  });

  it('rejects at once with AbortedError when the signal has already aborted', async () => {
    const reason = new Error('gave up');
    const error = await rejection(
      new StateWaiters().watch('a', finished, 'Waiting for a', AbortSignal.abort(reason)).promise,
    );
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).code).toBe(CoreErrorCodes.Aborted);
    expect((error as Error).message).toBe('Waiting for a was aborted.');
    expect((error as Error).cause).toBe(reason);
  });

  it('rejects with AbortedError when the signal aborts while waiting, and ignores later states', async () => {
    const waiters = new StateWaiters();
    const controller = new AbortController();
    const wait = waiters.watch('a', finished, 'Waiting for a', controller.signal);
    controller.abort();
    waiters.offer(state('a', 'completed'));
    expect(await rejection(wait.promise)).toBeInstanceOf(AbortedError);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes its abort listener whichever way a wait settles, so one signal serves a thousand waits', async () => {
    const waiters = new StateWaiters();
    const controller = new AbortController();
    const waits = Array.from({ length: 1_000 }, (_, i) =>
      waiters.watch(`s-${i}`, finished, `wait ${i}`, controller.signal),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1_000);
    for (let i = 0; i < 1_000; i++) waiters.offer(state(`s-${i}`, 'completed'));
    await Promise.all(waits.map((wait) => wait.promise));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    const detached = waiters.watch('gone', finished, 'wait', controller.signal);
    detached.detach();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects every wait, and every later one, with the close error for its operation', async () => {
    const waiters = new StateWaiters();
    const controller = new AbortController();
    const pending = waiters.watch('a', finished, 'wait for a', controller.signal);
    waiters.close((operation) => new ClosedError('saga coordinator', operation));
    const early = await rejection(pending.promise);
    expect(early).toBeInstanceOf(ClosedError);
    expect((early as Error).message).toBe(
      'Cannot wait for a: the saga coordinator is closed. Create a new one.',
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(await rejection(waiters.watch('b', finished, 'wait for b').promise)).toBeInstanceOf(ClosedError);
  });
});
