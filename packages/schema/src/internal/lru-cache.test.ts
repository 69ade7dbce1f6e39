import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';
import { LoadingCache, LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('holds at most capacity entries, dropping the least recently used', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.has('b')).toBe(false);
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });
});

describe('LoadingCache', () => {
  it('runs one load for concurrent misses of a key and caches the value', async () => {
    const cache = new LoadingCache<string, number>(10);
    let loads = 0;
    const load = async () => {
      loads++;
      await Promise.resolve();
      return 7;
    };
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)));
    expect(values).toEqual(Array(50).fill(7));
    expect(loads).toBe(1);
    expect(await cache.get('k', load)).toBe(7);
    expect(loads).toBe(1);
  });

  it('does not cache a failure: the next call loads again', async () => {
    const cache = new LoadingCache<string, number>(10);
    let calls = 0;
    const load = async () => {
      calls++;
      if (calls === 1) throw new Error('down');
      return 1;
    };
    await expect(Promise.all([cache.get('k', load), cache.get('k', load)])).rejects.toThrow('down');
    expect(calls).toBe(1);
    expect(await cache.get('k', load)).toBe(1);
    expect(calls).toBe(2);
  });

  it('stays bounded', async () => {
    const cache = new LoadingCache<number, number>(3);
    for (let i = 0; i < 10; i++) await cache.get(i, async () => i);
    expect(cache.size).toBe(3);
    expect(cache.peek(0)).toBeUndefined();
    expect(cache.peek(9)).toBe(9);
  });
});

describe('backoffDelayMs', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2 };
  it('grows exponentially to the cap, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(policy, retry, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(200);
  });
});
