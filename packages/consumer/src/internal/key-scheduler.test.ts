import { describe, expect, it } from 'vitest';
import { KeyScheduler } from './key-scheduler.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('KeyScheduler', () => {
  it('runs tasks of one key in order and tasks of different keys in parallel', async () => {
    const scheduler = new KeyScheduler(10);
    const log: string[] = [];
    const gates = { a1: deferred(), b1: deferred() };
    const a1 = scheduler.schedule('a', async () => {
      log.push('a1 start');
      await gates.a1.promise;
      log.push('a1 end');
    });
    const a2 = scheduler.schedule('a', async () => {
      log.push('a2');
    });
    const b1 = scheduler.schedule('b', async () => {
      log.push('b1 start');
      await gates.b1.promise;
      log.push('b1 end');
    });
    await Promise.resolve();
    expect(log).toEqual(['a1 start', 'b1 start']);
    gates.b1.resolve();
    await b1;
    expect(log).toEqual(['a1 start', 'b1 start', 'b1 end']);
    gates.a1.resolve();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b1 start', 'b1 end', 'a1 end', 'a2']);
    await scheduler.idle();
    expect(scheduler.size).toBe(0);
  });

  it('never runs more than maxConcurrency tasks at once', async () => {
    const scheduler = new KeyScheduler(3);
    let running = 0;
    let peak = 0;
    const order = new Map<string, number[]>();
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 7}`;
      tasks.push(
        scheduler.schedule(key, async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          order.set(key, [...(order.get(key) ?? []), i]);
          running--;
        }),
      );
    }
    await Promise.all(tasks);
    expect(peak).toBe(3);
    for (const [key, seen] of order) {
      expect(seen, key).toEqual([...seen].sort((a, b) => a - b));
    }
    expect([...order.values()].flat()).toHaveLength(60);
  });

  it('resolves idle() at once when nothing is queued', async () => {
    await expect(new KeyScheduler(1).idle()).resolves.toBeUndefined();
  });
});
