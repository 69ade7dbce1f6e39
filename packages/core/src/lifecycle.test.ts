import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, TimeoutError } from './errors.js';
import { delay, Lifecycle, throwIfAborted, withTimeout } from './lifecycle.js';

describe('Lifecycle', () => {
  it('runs start once for concurrent callers and reaches running', async () => {
    const lifecycle = new Lifecycle('producer');
    let starts = 0;
    const startUp = async () => {
      starts++;
    };
    expect(lifecycle.state).toBe('idle');
    const first = lifecycle.start(startUp);
    expect(lifecycle.state).toBe('connecting');
    await Promise.all([first, lifecycle.start(startUp), lifecycle.start(startUp)]);
    expect(starts).toBe(1);
    expect(lifecycle.state).toBe('running');
  });

  it('closes once, waits for a start in progress, and refuses work afterwards', async () => {
    const lifecycle = new Lifecycle('consumer');
    const order: string[] = [];
    let finishStart: () => void = () => {};
    const starting = lifecycle.start(
      () =>
        new Promise<void>((resolve) => {
          finishStart = () => {
            order.push('started');
            resolve();
          };
        }),
    );
    let closes = 0;
    const closing = lifecycle.close(async () => {
      closes++;
      order.push('closed');
    });
    expect(lifecycle.state).toBe('stopping');
    finishStart();
    await Promise.all([starting, closing, lifecycle.close(async () => void closes++)]);
    expect(order).toEqual(['started', 'closed']);
    expect(closes).toBe(1);
    expect(lifecycle.state).toBe('stopped');
    expect(() => lifecycle.assertUsable('send')).toThrowError(ClosedError);
    await expect(lifecycle.start(async () => {})).rejects.toBeInstanceOf(ClosedError);
  });

  it('moves to failed when start throws and rethrows the error', async () => {
    const lifecycle = new Lifecycle('producer');
    const boom = new Error('connect failed');
    await expect(lifecycle.start(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(lifecycle.state).toBe('failed');
    expect(lifecycle.closed).toBe(true);
  });
});

describe('waiting helpers', () => {
  it('reject withTimeout with a TimeoutError when the deadline passes', async () => {
    const never = new Promise<never>(() => {});
    const error = await withTimeout(never, 5, 'Fetching metadata').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(5);
  });

  it('pass through the result of a promise that settles in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1_000, 'x')).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error('inner')), 1_000, 'x')).rejects.toThrow('inner');
  });

  it('abort delay and withTimeout through their signal', async () => {
    const controller = new AbortController();
    const waiting = delay(60_000, controller.signal);
    const timed = withTimeout(new Promise<never>(() => {}), 60_000, 'wait', controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(timed).rejects.toBeInstanceOf(AbortedError);
    expect(() => throwIfAborted(controller.signal, 'send')).toThrowError(AbortedError);
    await expect(delay(1, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });
});
