import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SagaState, TimerState } from './state.js';
import { TimerScheduler } from './timers.js';

function state(sagaId: string, timers: Record<string, TimerState>): SagaState {
  return {
    sagaId,
    saga: 's',
    version: 1,
    input: null,
    status: 'running',
    seq: 1,
    group: 0,
    steps: {},
    timers,
    startedAt: 0,
    updatedAt: 0,
    audit: [],
  };
}

describe('timer scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires each armed deadline once, at its time', () => {
    const fired: string[] = [];
    const scheduler = new TimerScheduler((sagaId, timerId) => fired.push(`${sagaId} ${timerId}`));
    scheduler.sync(
      state('a', { t1: { kind: 'retry', dueAt: 100 }, t2: { kind: 'saga-timeout', dueAt: 300 } }),
    );
    scheduler.sync(state('b', { t1: { kind: 'retry', dueAt: 200 } }));
    expect(scheduler.size).toBe(3);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a t1']);
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual(['a t1', 'b t1', 'a t2']);
    expect(scheduler.size).toBe(0);
  });

  it('follows the state: removed timers never fire, moved deadlines fire at the new time', () => {
    const fired: string[] = [];
    const scheduler = new TimerScheduler((sagaId, timerId) => fired.push(`${sagaId} ${timerId}`));
    scheduler.sync(state('a', { gone: { kind: 'retry', dueAt: 100 }, moved: { kind: 'retry', dueAt: 100 } }));
    scheduler.sync(state('a', { moved: { kind: 'retry', dueAt: 500 } }));
    vi.advanceTimersByTime(400);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['a moved']);
  });

  it('fires overdue deadlines at once and forgets cleared sagas', () => {
    const fired: string[] = [];
    const scheduler = new TimerScheduler((sagaId, timerId) => fired.push(`${sagaId} ${timerId}`));
    vi.setSystemTime(1_000);
    scheduler.sync(state('late', { t: { kind: 'step-timeout', dueAt: 10 } }));
    scheduler.sync(state('cleared', { t: { kind: 'retry', dueAt: 1_050 } }));
    scheduler.clear('cleared');
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['late t']);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['late t']);
  });

  it('re-arms deadlines beyond what setTimeout can wait', () => {
    const fired: string[] = [];
    const scheduler = new TimerScheduler((sagaId, timerId) => fired.push(`${sagaId} ${timerId}`));
    const far = 2 ** 31 + 5_000;
    scheduler.sync(state('far', { t: { kind: 'saga-timeout', dueAt: far } }));
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(5_001);
    expect(fired).toEqual(['far t']);
  });
});
