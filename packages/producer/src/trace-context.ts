/**
 * An interceptor that adds W3C trace-context headers (`traceparent`, `tracestate`) to each
 * record. When the application has `@opentelemetry/api`, the active context is injected
 * through its propagator, so the consumer side continues the producer's trace. Without it (or
 * without an active span) a fresh `traceparent` is generated when `generateWhenMissing` is on.
 * `@opentelemetry/api` is an optional peer dependency: Cascade never requires it.
 * @module
 */

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ProducerInterceptor } from './interceptors.js';

/** The part of `@opentelemetry/api` this interceptor uses. */
export interface OpenTelemetryApiLike {
  readonly context: { active(): unknown };
  readonly propagation: {
    inject(context: unknown, carrier: Record<string, string>): void;
  };
}

/** Options of {@link producerTraceInterceptor}. */
export interface TraceContextOptions {
  /**
   * The OpenTelemetry API to inject with. `'auto'` loads `@opentelemetry/api` if installed;
   * `null` never uses it.
   * @default 'auto'
   */
  readonly api?: OpenTelemetryApiLike | 'auto' | null;
  /**
   * Adds a new random `traceparent` (sampled) to records that get none from OpenTelemetry.
   * @default true
   */
  readonly generateWhenMissing?: boolean;
}

function loadOpenTelemetry(): OpenTelemetryApiLike | null {
  try {
    const require = createRequire(import.meta.url);
    return require('@opentelemetry/api') as OpenTelemetryApiLike;
  } catch {
    return null;
  }
}

/** A random W3C `traceparent`: version 00, 16-byte trace id, 8-byte span id, sampled. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/**
 * Adds `traceparent` / `tracestate` headers. A record that already has a `traceparent` header
 * keeps it.
 *
 * @example
 * ```ts
 * createProducer({ ..., interceptors: [producerTraceInterceptor()] });
 * ```
 */
export function producerTraceInterceptor<K, V>(options: TraceContextOptions = {}): ProducerInterceptor<K, V> {
  const api = options.api === undefined || options.api === 'auto' ? loadOpenTelemetry() : options.api;
  const generate = options.generateWhenMissing ?? true;
  return {
    name: 'trace-context',
    onSend(record) {
      if (record.headers?.traceparent !== undefined) return record;
      const carrier: Record<string, string> = {};
      api?.propagation.inject(api.context.active(), carrier);
      if (carrier.traceparent === undefined && generate) carrier.traceparent = newTraceparent();
      if (Object.keys(carrier).length === 0) return record;
      return { ...record, headers: { ...record.headers, ...carrier } };
    },
  };
}
