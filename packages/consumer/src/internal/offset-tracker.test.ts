import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits only up to the lowest unfinished offset', () => {
    const tracker = new OffsetTracker();
    for (const offset of [10n, 11n, 12n, 13n]) tracker.begin(offset);
    tracker.complete(11n);
    tracker.complete(13n);
    expect(tracker.committable()).toBe(10n);
    tracker.complete(10n);
    expect(tracker.committable()).toBe(12n);
    tracker.complete(12n);
    expect(tracker.committable()).toBe(14n);
  });

  it('reports a commit only when the position moved', () => {
    const tracker = new OffsetTracker();
    expect(tracker.toCommit()).toBeUndefined();
    tracker.begin(0n);
    expect(tracker.toCommit()).toBe(0n);
    tracker.markCommitted(0n);
    expect(tracker.toCommit()).toBeUndefined();
    tracker.complete(0n);
    expect(tracker.toCommit()).toBe(1n);
    tracker.markCommitted(1n);
    expect(tracker.toCommit()).toBeUndefined();
    expect(tracker.lastCommitted).toBe(1n);
  });

  it('skips past offsets that never reach a handler when nothing is pending before them', () => {
    const tracker = new OffsetTracker();
    tracker.begin(5n);
    tracker.skipTo(8n);
    expect(tracker.committable()).toBe(5n);
    tracker.complete(5n);
    expect(tracker.committable()).toBe(8n);
  });

  it('refuses offsets begun out of order while earlier ones are pending, and rewinds when idle', () => {
    const tracker = new OffsetTracker();
    tracker.begin(5n);
    expect(() => tracker.begin(4n)).toThrow(RangeError);
    tracker.complete(5n);
    tracker.begin(3n);
    expect(tracker.committable()).toBe(3n);
  });

  it('takes back a batch given up half-way: never commits past it, and lets it begin again', () => {
    const tracker = new OffsetTracker();
    for (let offset = 0n; offset < 10n; offset++) tracker.begin(offset);
    for (let offset = 0n; offset < 10n; offset++) tracker.complete(offset);
    expect(tracker.committable()).toBe(10n);
    for (let offset = 10n; offset < 50n; offset++) tracker.begin(offset);
    // Records 10-19 were dead-lettered before the batch was given up.
    for (let offset = 10n; offset < 20n; offset++) tracker.complete(offset);
    tracker.rewind(10n);
    expect(tracker.pendingCount).toBe(0);
    expect(tracker.committable()).toBe(10n);
    // Re-delivered from its start: no RangeError, and the commit follows the new run.
    for (let offset = 10n; offset < 50n; offset++) tracker.begin(offset);
    tracker.complete(10n);
    expect(tracker.committable()).toBe(11n);
  });
});
