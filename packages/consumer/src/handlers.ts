/**
 * `startHandlers()`: starts one consumer per consumer group for a set of decorated handler
 * instances, and `stopOnSignals()`: drains consumers on SIGTERM / SIGINT (opt-in, never implicit).
 * @module
 */

import { type Consumer, createConsumer } from './consumer.js';
import { handlerInfo } from './decorators.js';
import type { ConsumerOptions } from './options.js';

/** Running consumers started by {@link startHandlers}. */
export interface RunningHandlers extends AsyncDisposable {
  readonly consumers: readonly Consumer[];
  /** Closes every consumer (drains in-flight records, commits, leaves). */
  close(): Promise<void>;
  /** @deprecated Renamed {@link RunningHandlers.close}. */
  stop(): Promise<void>;
}

/**
 * Registers each `@Handler` instance on a consumer of its class's `groupId` (or
 * `options.groupId`), and starts them all.
 *
 * @example
 * ```ts
 * await using running = await startHandlers([new Billing(), new Shipping()], { kafka, groupId: 'orders-service' });
 * ```
 */
export async function startHandlers(
  instances: readonly object[],
  options: ConsumerOptions,
): Promise<RunningHandlers> {
  const byGroup = new Map<string, Consumer>();
  for (const instance of instances) {
    const groupId = handlerInfo(instance)?.options.groupId ?? options.groupId;
    let consumer = byGroup.get(groupId);
    if (consumer === undefined) {
      consumer = createConsumer({ ...options, groupId });
      byGroup.set(groupId, consumer);
    }
    consumer.register(instance);
  }
  const consumers = [...byGroup.values()];
  const close = async (): Promise<void> => {
    await Promise.all(consumers.map((c) => c.close()));
  };
  try {
    await Promise.all(consumers.map((c) => c.start()));
  } catch (error) {
    await close();
    throw error;
  }
  return { consumers, close, stop: close, [Symbol.asyncDispose]: close };
}

/** Something that closes: a consumer, `RunningHandlers`, a producer, a saga coordinator (or anything with a `stop()`). */
export type Stoppable = { close(): Promise<void> } | { stop(): Promise<void> };

/** Options of {@link stopOnSignals}. */
export interface StopOnSignalsOptions {
  /** @default ['SIGTERM', 'SIGINT'] */
  readonly signals?: readonly NodeJS.Signals[];
  /** Called after everything stopped (e.g. `() => process.exit(0)`). @default nothing */
  readonly onStopped?: (error?: unknown) => void;
}

/**
 * Stops `targets` (in order) on the first SIGTERM / SIGINT: in-flight records drain and offsets
 * are committed before the process goes. Returns a function that removes the listeners.
 *
 * @example
 * ```ts
 * stopOnSignals([consumer], { onStopped: () => process.exit(0) });
 * ```
 */
export function stopOnSignals(targets: readonly Stoppable[], options: StopOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      let failure: unknown;
      for (const target of targets) {
        try {
          await ('close' in target ? target.close() : target.stop());
        } catch (error) {
          failure ??= error;
        }
      }
      options.onStopped?.(failure);
    })();
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
