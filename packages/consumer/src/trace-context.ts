/**
 * W3C trace-context continuation: {@link consumerTraceInterceptor} reads the `traceparent` the
 * producer wrote, starts a child span id for the handling of the record, and rewrites the header
 * so the handler (and anything it sends on) continues the same trace.
 * {@link currentTraceContext} returns it inside a handler.
 * @module
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Headers } from '@cascade/schema';
import type { ConsumerInterceptor, Message } from './types.js';

/** A W3C trace context. */
export interface TraceContext {
  readonly traceId: string;
  /** The span of this consumer's handling of the record. */
  readonly spanId: string;
  /** The producer's span, when the record carried one. */
  readonly parentSpanId: string | undefined;
  readonly traceFlags: string;
  /** `00-<traceId>-<spanId>-<flags>`, ready to send on. */
  readonly traceparent: string;
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const storage = new AsyncLocalStorage<TraceContext | undefined>();

/** Parses a `traceparent` header value; `undefined` when absent or malformed. */
export function parseTraceparent(
  value: string | undefined,
): { traceId: string; spanId: string; flags: string } | undefined {
  const match = value === undefined ? null : traceparentPattern.exec(value.trim());
  if (match === null) return undefined;
  const [, traceId = '', spanId = '', flags = ''] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

function headerText(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The trace context a record's handling continues (a new trace when the record has none). */
export function continueTrace(headers: Headers): TraceContext {
  const parent = parseTraceparent(headerText(headers, 'traceparent'));
  const traceId = parent?.traceId ?? randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const traceFlags = parent?.flags ?? '01';
  return {
    traceId,
    spanId,
    parentSpanId: parent?.spanId,
    traceFlags,
    traceparent: `00-${traceId}-${spanId}-${traceFlags}`,
  };
}

/** The trace context of the record being handled, inside a handler; else `undefined`. */
export function currentTraceContext(): TraceContext | undefined {
  return storage.getStore();
}

/** Runs `body` with `context` as the current trace context. */
export function runWithTraceContext<T>(context: TraceContext | undefined, body: () => T): T {
  return storage.run(context, body);
}

/**
 * Where the interceptor keeps a message's trace context: an enumerable symbol property, so it
 * survives later interceptors copying the message with `{ ...message }`.
 */
const traceContextKey: unique symbol = Symbol.for('cascade.consumer.trace-context');

/** The trace context {@link consumerTraceInterceptor} attached to `message`, if any. */
export function traceContextOf(message: object): TraceContext | undefined {
  const value = (message as { [traceContextKey]?: unknown })[traceContextKey];
  return typeof value === 'object' && value !== null ? (value as TraceContext) : undefined;
}

/**
 * Continues the producer's trace: the handler sees `traceparent` rewritten to its own child span
 * (the producer's span becomes `parentSpanId`), and {@link currentTraceContext} returns it.
 *
 * @example
 * ```ts
 * createConsumer({ ..., interceptors: [consumerTraceInterceptor()] });
 * ```
 */
export function consumerTraceInterceptor(): ConsumerInterceptor {
  return {
    onConsume<K, V>(message: Message<K, V>): Message<K, V> {
      const context = continueTrace(message.headers);
      return {
        ...message,
        headers: { ...message.headers, traceparent: context.traceparent },
        [traceContextKey]: context,
      } as Message<K, V>;
    },
  };
}
