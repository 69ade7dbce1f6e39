import { describe, expect, it } from 'vitest';
import { SagaObserver } from './observability.js';
import type { SagaNotification } from './state.js';

const note = (kind: SagaNotification['kind'], extra: Partial<SagaNotification> = {}): SagaNotification => ({
  kind,
  sagaId: 's',
  saga: 'order',
  at: 0,
  ...extra,
});

describe('saga observer', () => {
  it('counts transitions and summarises step latencies', () => {
    const observer = new SagaObserver();
    for (let ms = 1; ms <= 100; ms++)
      observer.publish(note('step-succeeded', { step: 'reserve', latencyMs: ms }));
    observer.publish(note('started'));
    observer.publish(note('completed'));
    expect(observer.metrics()).toEqual({
      transitions: { 'step-succeeded': 100, started: 1, completed: 1 },
      stepLatencyMs: { 'order/reserve': { count: 100, p50: 51, p99: 100, max: 100 } },
    });
  });

  it('delivers every notification to an async iterator, in order, until aborted', async () => {
    const observer = new SagaObserver();
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const notification of observer.events(controller.signal)) {
        seen.push(notification.kind);
        if (seen.length === 3) controller.abort();
      }
    })();
    observer.publish(note('started'));
    observer.publish(note('step-succeeded', { step: 'a', latencyMs: 3 }));
    observer.publish(note('completed'));
    await reading;
    expect(seen).toEqual(['started', 'step-succeeded', 'completed']);
  });

  it('keeps other listeners going when one throws', () => {
    const observer = new SagaObserver();
    const seen: string[] = [];
    observer.subscribe(() => {
      throw new Error('listener bug');
    });
    observer.subscribe((n) => seen.push(n.kind));
    observer.publish(note('started'));
    expect(seen).toEqual(['started']);
  });
});
