/**
 * An optional circuit breaker (opossum) around produce requests: while the cluster is
 * unreachable, sends fail fast with {@link CircuitOpenError} instead of piling up in the buffer.
 * Only connectivity failures (connection refused or closed, request timeouts, no broker) count;
 * a record that is too large does not open the circuit.
 * @module
 */

import type { Logger } from '@cascade/core';
import CircuitBreaker from 'opossum';
import { PartialSinkFailure, type Sink, type SinkBatch, type SinkResult } from './accumulator.js';
import {
  CircuitOpenError,
  DeliveryTimeoutError,
  KafkaConnectionError,
  type ProducerError,
} from './errors.js';

/** Options of the circuit breaker. */
export interface CircuitBreakerOptions {
  /**
   * The share of failed produce requests (in the rolling window), in percent, that opens the circuit.
   * @default 50
   */
  readonly errorThresholdPercentage?: number;
  /**
   * How long the circuit stays open before one trial request is let through, in ms.
   * @default 10000
   */
  readonly resetTimeoutMs?: number;
  /**
   * The least number of requests in the window before the circuit may open.
   * @default 3
   */
  readonly volumeThreshold?: number;
  /**
   * The length of the rolling statistics window, in ms.
   * @default 10000
   */
  readonly rollingCountTimeoutMs?: number;
}

/** The states of the breaker. */
export type CircuitState = 'closed' | 'open' | 'halfOpen';

/** Whether an error says the cluster could not be reached (what the breaker counts). */
export function isConnectivityError(error: ProducerError): boolean {
  return error instanceof KafkaConnectionError || error instanceof DeliveryTimeoutError;
}

/** Wraps a {@link Sink} in an opossum breaker. */
export class SinkCircuitBreaker {
  readonly #breaker: CircuitBreaker<[readonly SinkBatch[]], readonly SinkResult[]>;
  readonly #resetTimeoutMs: number;

  constructor(
    sink: Sink,
    toError: (error: unknown, batch: { topic: string; partition: number }) => ProducerError,
    options: CircuitBreakerOptions,
    logger: Logger,
  ) {
    this.#resetTimeoutMs = options.resetTimeoutMs ?? 10_000;
    this.#breaker = new CircuitBreaker(
      async (batches: readonly SinkBatch[]) => {
        try {
          return await sink(batches);
        } catch (error) {
          const first = batches[0];
          const site = { topic: first?.topic ?? '?', partition: first?.partition ?? -1 };
          // Keep what was stored: the accumulator must not send those batches again.
          if (error instanceof PartialSinkFailure) {
            throw new PartialSinkFailure(error.acknowledged, toError(error.error, site));
          }
          throw toError(error, site);
        }
      },
      {
        timeout: false,
        errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
        resetTimeout: this.#resetTimeoutMs,
        volumeThreshold: options.volumeThreshold ?? 3,
        rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
        // true = "not a failure": only connectivity errors count against the cluster.
        errorFilter: (error: unknown) => {
          const failed = error instanceof PartialSinkFailure ? error.error : error;
          return !(failed instanceof KafkaConnectionError || failed instanceof DeliveryTimeoutError);
        },
      },
    );
    this.#breaker.on('open', () =>
      logger.warn('Producer circuit breaker opened: sends fail fast until the cluster answers again.', {
        resetTimeoutMs: this.#resetTimeoutMs,
      }),
    );
    this.#breaker.on('halfOpen', () =>
      logger.info('Producer circuit breaker half-open: trying one request.'),
    );
    this.#breaker.on('close', () =>
      logger.info('Producer circuit breaker closed: the cluster answers again.'),
    );
  }

  /** The breaker's state. */
  get state(): CircuitState {
    if (this.#breaker.opened) return 'open';
    if (this.#breaker.halfOpen) return 'halfOpen';
    return 'closed';
  }

  /** Subscribes to state changes. */
  onStateChange(listener: (state: CircuitState) => void): void {
    this.#breaker.on('open', () => listener('open'));
    this.#breaker.on('halfOpen', () => listener('halfOpen'));
    this.#breaker.on('close', () => listener('closed'));
  }

  /** The error a send gets while the circuit is open. */
  openError(topic?: string): CircuitOpenError {
    return new CircuitOpenError(
      `The producer circuit breaker is open after repeated connection failures${topic === undefined ? '' : ` (topic ${topic})`}; the send failed fast. It retries the cluster within ${this.#resetTimeoutMs} ms.`,
      topic === undefined ? {} : { topic },
    );
  }

  /** The sink, through the breaker. */
  readonly sink: Sink = async (batches) => {
    try {
      return await this.#breaker.fire(batches);
    } catch (error) {
      if (error instanceof Error && (error as { code?: unknown }).code === 'EOPENBREAKER') {
        throw this.openError(batches[0]?.topic);
      }
      throw error;
    }
  };

  /** Stops the breaker's timers. */
  shutdown(): void {
    this.#breaker.shutdown();
  }
}
