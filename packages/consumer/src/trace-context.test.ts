import { describe, expect, it } from 'vitest';
import {
  consumerTraceInterceptor,
  continueTrace,
  parseTraceparent,
  traceContextOf,
} from './trace-context.js';
import type { Message } from './types.js';

const producerParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context', () => {
  it('continues the producer trace with a new child span', () => {
    const context = continueTrace({ traceparent: producerParent });
    expect(context.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(context.parentSpanId).toBe('00f067aa0ba902b7');
    expect(context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(context.spanId).not.toBe('00f067aa0ba902b7');
    expect(context.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${context.spanId}-01`);
  });

  it('starts a new trace when the record has no valid traceparent', () => {
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    const context = continueTrace({});
    expect(context.parentSpanId).toBeUndefined();
    expect(context.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('rewrites the message traceparent through the interceptor', () => {
    const message = { headers: { traceparent: Buffer.from(producerParent) } } as unknown as Message<
      string,
      string
    >;
    const next = consumerTraceInterceptor().onConsume?.(message) as Message<string, string>;
    const context = traceContextOf(next);
    expect(context?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(next.headers.traceparent).toBe(context?.traceparent);
  });
});
