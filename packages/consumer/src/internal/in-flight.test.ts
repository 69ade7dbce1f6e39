import { describe, expect, it } from 'vitest';
import { InFlightLimit } from './in-flight.js';

describe('InFlightLimit', () => {
  it('pauses at the bound and resumes when a slot is released', async () => {
    const events: boolean[] = [];
    const limit = new InFlightLimit(2, (paused) => events.push(paused));
    expect(await limit.acquire()).toBe(true);
    expect(await limit.acquire()).toBe(true);
    let third = false;
    const waiting = limit.acquire().then((ok) => {
      third = ok;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    expect(limit.paused).toBe(true);
    limit.release();
    await waiting;
    expect(third).toBe(true);
    expect(events).toEqual([true, false]);
    expect(limit.count).toBe(2);
    expect(limit.peak).toBe(2);
  });

  it('gives up waiting when its signal aborts', async () => {
    const limit = new InFlightLimit(1);
    await limit.acquire();
    const controller = new AbortController();
    const waiting = limit.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(limit.count).toBe(1);
  });
});
