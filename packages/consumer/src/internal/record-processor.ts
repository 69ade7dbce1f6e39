/**
 * Takes one fetched record through deserialization, interceptors, the handler and the failure
 * policy, until it is finished: handled, skipped, forwarded to a retry topic, or dead-lettered.
 * It never finishes a record any other way; when it has to give up (stop, rebalance) it throws
 * {@link Abandoned} and the record stays uncommitted.
 * @module
 */

import {
  backoffDelayMs,
  cascadeChannel,
  DiagnosticChannels,
  delay,
  type Logger,
  StateError,
} from '@cascade/core';
import type { Headers } from '@cascade/schema';
import type { FetchedRecord } from '@cascade/transport';
import {
  buildDltHeaders,
  buildRetryHeaders,
  type OriginalRecord,
  readRetryHeaders,
  type TimestampType,
} from '../dlt-headers.js';
import { DltPublishError, HandlerTimeoutError } from '../errors.js';
import { runWithTraceContext, traceContextOf } from '../trace-context.js';
import type { ConsumerInterceptor, HandlerContext, Message, OutputRecord } from '../types.js';
import { decideFailure } from './failure-policy.js';
import type { Publisher, RepublishRecord } from './publisher.js';
import { type ResolvedSubscription, retryTopicName } from './subscription.js';
import { buildMessage, deserializeRecord, originalOf } from './to-message.js';

/** The record was given up on (stop or rebalance): it is not finished and must not be committed. */
export class Abandoned extends Error {
  override name = 'Abandoned';
}

/** What a processor needs from its consumer. */
export interface ProcessorDeps {
  readonly groupId: string;
  readonly logger: Logger;
  readonly handlerTimeoutMs: number;
  readonly interceptors: readonly ConsumerInterceptor[];
  readonly publisher: Publisher;
  readonly onError: (error: Error) => void;
  /** The timestamp type of a fetched record's batch (the transport consumer's `timestampTypeOf`). */
  readonly timestampTypeOf: (raw: FetchedRecord) => TimestampType;
}

/** Where a record is being read from. */
export interface Source {
  readonly subscription: ResolvedSubscription;
  readonly topic: string;
  readonly partition: number;
  /** 0 on a subscribed topic, `n` on its retry topic `n`. */
  readonly retryStage: number;
  /** The subscribed topic (the retry topic's base). */
  readonly baseTopic: string;
}

/** Signals of the current generation: stop dispatching / abandon running handlers. */
export interface Signals {
  /** Aborted when the consumer stops or the group rebalances: no new attempts, no waiting. */
  readonly dispatch: AbortSignal;
  /** Aborted when in-flight handlers are abandoned (the stop or rebalance deadline passed). */
  readonly abandon: AbortSignal;
}

/** Sends queued by a handler attempt (exactly-once mode). */
export type OutputSink = (records: readonly OutputRecord[], afterCommit?: readonly (() => void)[]) => void;

const noOutputs: OutputRecord[] = [];
/** Serdes seen returning promises: their records take the general path. */
const asyncSerdes = new WeakSet<object>();
const handleChannel = cascadeChannel<object>(DiagnosticChannels.consumerHandle);

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Abandoned('abandoned'));
    else signal.addEventListener('abort', () => reject(new Abandoned('abandoned')), { once: true });
  });
}

/**
 * Settles like `work`, or rejects with {@link Abandoned} when `signal` aborts, or with
 * `onTimeout()` after `timeoutMs` (when > 0). Listeners and timers are always removed.
 */
function guard<T>(
  work: Promise<T>,
  signal: AbortSignal,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(new Abandoned('abandoned'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        cleanup();
        reject(onTimeout());
      }, timeoutMs);
    }
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/** Processes records for one consumer. */
export class RecordProcessor {
  readonly #deps: ProcessorDeps;

  constructor(deps: ProcessorDeps) {
    this.#deps = deps;
  }

  /** `raw` as the original of its dead letter or retry record (a first delivery). */
  originalOf(source: Source, raw: FetchedRecord): OriginalRecord {
    return originalOf(source, raw, this.#deps.timestampTypeOf(raw));
  }

  /**
   * Runs `raw` to completion. Resolves when the record is finished; rejects with
   * {@link Abandoned} when it must stay uncommitted. `sink` receives an attempt's sends when
   * it succeeds (exactly-once mode); without it, `context.send` throws.
   */
  /**
   * Like {@link process}, without promises for the common case: a record of a subscribed topic,
   * synchronous serdes, no interceptors, no handler timeout, nobody tracing. Returns `undefined`
   * when the record finished synchronously; a failure continues in {@link process}.
   */
  handle(source: Source, raw: FetchedRecord, signals: Signals): Promise<void> | undefined {
    const { subscription, topic, partition } = source;
    if (raw.value === null && subscription.skipTombstones) return this.#skipTombstone(source, raw);
    const handler = subscription.handler;
    if (
      source.retryStage !== 0 ||
      handler === undefined ||
      this.#deps.interceptors.length > 0 ||
      this.#deps.handlerTimeoutMs > 0 ||
      handleChannel.hasSubscribers ||
      signals.dispatch.aborted ||
      asyncSerdes.has(subscription.key) ||
      asyncSerdes.has(subscription.value)
    ) {
      return this.process(source, raw, signals);
    }
    const headers = (raw.headers ?? {}) as Headers;
    let message: Message<unknown, unknown>;
    try {
      const decoded = deserializeRecord(source, raw, headers);
      if (decoded.key instanceof Promise || decoded.value instanceof Promise) {
        // An asynchronous serde (a registry): use the general path from now on.
        if (decoded.key instanceof Promise) asyncSerdes.add(subscription.key);
        if (decoded.value instanceof Promise) asyncSerdes.add(subscription.value);
        return Promise.all([decoded.key, decoded.value]).then(
          () => this.process(source, raw, signals),
          (error: unknown) => this.process(source, raw, signals, undefined, { error }),
        );
      }
      message = buildMessage(
        source,
        raw,
        headers,
        decoded,
        1,
        { topic, partition, offset: raw.offset },
        signals.abandon,
      );
    } catch (error) {
      return this.process(source, raw, signals, undefined, { error });
    }
    let outcome: unknown;
    try {
      outcome = handler(message, atLeastOnceContext);
    } catch (error) {
      return this.process(source, raw, signals, undefined, { error });
    }
    if (!(outcome instanceof Promise)) return undefined;
    return outcome.then(
      () => undefined,
      (error: unknown) => this.process(source, raw, signals, undefined, { error }),
    );
  }

  /** A tombstone of a subscription that skips them: done, without its handler. */
  #skipTombstone(source: Source, raw: FetchedRecord): undefined {
    this.#deps.logger.debug('Tombstone skipped (tombstones: skip).', {
      topic: source.topic,
      partition: source.partition,
      offset: raw.offset,
    });
    return undefined;
  }

  async process(
    source: Source,
    raw: FetchedRecord,
    signals: Signals,
    sink?: OutputSink,
    firstFailure?: { readonly error: unknown },
  ): Promise<void> {
    const { subscription, topic, partition } = source;
    if (raw.value === null && subscription.skipTombstones) return this.#skipTombstone(source, raw);
    const headers = (raw.headers ?? {}) as Headers;
    const retryInfo = source.retryStage > 0 ? readRetryHeaders(headers) : undefined;
    const original: OriginalRecord = retryInfo?.original ?? this.originalOf(source, raw);
    if (retryInfo !== undefined) {
      const wait = retryInfo.dueAt - Date.now();
      if (wait > 0) await this.#wait(wait, signals.dispatch);
    }
    const attemptsBefore = retryInfo?.attempts ?? 0;
    for (let inPlace = 1; ; inPlace++) {
      const attempt = attemptsBefore + inPlace;
      const outputs: OutputRecord[] = sink === undefined ? noOutputs : [];
      const afterCommit: (() => void)[] = [];
      let failure: unknown;
      if (inPlace === 1 && firstFailure !== undefined) {
        // The first attempt already ran (the fast path in handle()) and failed.
        failure = firstFailure.error;
      } else {
        // Stopping or rebalancing: records not started yet (or between attempts) stay uncommitted.
        if (signals.dispatch.aborted) throw new Abandoned('abandoned');
        try {
          const message = await this.#toMessage(source, raw, headers, attempt, original, signals.abandon);
          const intercepted = this.#deps.interceptors.length === 0 ? message : await this.#onConsume(message);
          if (intercepted === undefined) return;
          await this.#runHandler(
            source,
            intercepted,
            outputs,
            afterCommit,
            sink !== undefined,
            signals.abandon,
          );
          sink?.(outputs, afterCommit);
          return;
        } catch (error) {
          if (error instanceof Abandoned) throw error;
          failure = error;
        }
      }
      const decision = decideFailure(failure, subscription, inPlace, source.retryStage);
      const log = this.#deps.logger;
      const where = { topic, partition, offset: raw.offset, attempt };
      if (decision.action === 'skip') {
        log.info('Handler asked to skip the record.', { ...where, error: failure });
        return;
      }
      if (decision.action === 'retry-in-place') {
        const waitMs = backoffDelayMs(subscription.retry, inPlace);
        log.warn('Handler failed; retrying in place.', { ...where, waitMs, error: failure });
        await this.#wait(waitMs, signals.dispatch);
        continue;
      }
      if (decision.action === 'retry-topic') {
        const target = retryTopicName(source.baseTopic, decision.n);
        log.warn('Handler failed; forwarding to a retry topic.', { ...where, target, error: failure });
        await this.forwardToRetry(source, raw, headers, original, attempt, decision.n, signals, sink);
        return;
      }
      await this.deadLetter(source, raw, headers, original, failure, attempt, signals, sink);
      return;
    }
  }

  /**
   * Publishes `raw` to retry topic `n` of its subscribed topic, due after that topic's delay
   * (retrying the publish until it succeeds or dispatching stops; in exactly-once mode into
   * `sink`, the batch's transaction).
   */
  async forwardToRetry(
    source: Source,
    raw: FetchedRecord,
    headers: Headers,
    original: OriginalRecord,
    attempts: number,
    n: number,
    signals: Signals,
    sink?: OutputSink,
  ): Promise<void> {
    const dueAt = Date.now() + (source.subscription.retryDelaysMs[n - 1] ?? 0);
    await this.#publishUntilDone(
      {
        topic: retryTopicName(source.baseTopic, n),
        key: raw.key,
        value: raw.value,
        headers: buildRetryHeaders(original, headers, attempts, dueAt),
      },
      { topic: source.topic, partition: source.partition, offset: raw.offset },
      signals.dispatch,
      sink,
    );
  }

  /** Publishes `raw` to its DLT (or, with dead-lettering off, holds the partition until abandoned). */
  async deadLetter(
    source: Source,
    raw: FetchedRecord,
    headers: Headers,
    original: OriginalRecord,
    failure: unknown,
    attempts: number,
    signals: Signals,
    sink?: OutputSink,
  ): Promise<void> {
    const where = { topic: source.topic, partition: source.partition, offset: raw.offset, attempts };
    const dlt = source.subscription.dltTopic;
    if (dlt === undefined) {
      this.#deps.logger.error('Record failed and dead-lettering is off: the partition stops here.', {
        ...where,
        error: failure,
      });
      await untilAborted(signals.dispatch);
      return;
    }
    const target = dlt(original.topic);
    await this.#publishUntilDone(
      {
        topic: target,
        key: raw.key,
        value: raw.value,
        headers: buildDltHeaders({
          original,
          groupId: this.#deps.groupId,
          error: failure,
          attempts,
          failedAt: Date.now(),
          headers,
        }),
      },
      where,
      signals.dispatch,
      sink,
      // Once the record is in the DLT: acknowledged, or (exactly-once) its transaction committed.
      () => this.#deps.logger.warn('Record dead-lettered.', { ...where, target, error: failure }),
    );
  }

  /**
   * Publishes `record` until it is acknowledged (logging each failed attempt), then calls
   * `onPublished`; in exactly-once mode hands it to `sink`, with `onPublished` to run once the
   * transaction commits (a failed transaction logs its own warning and the batch is read again).
   */
  async #publishUntilDone(
    record: RepublishRecord,
    where: { topic: string; partition: number; offset: string },
    signal: AbortSignal,
    sink?: OutputSink,
    onPublished?: () => void,
  ): Promise<void> {
    if (sink !== undefined) {
      // Exactly-once: the republished record joins the transaction that commits the offset.
      sink(
        [{ topic: record.topic, key: record.key, value: record.value, headers: record.headers }],
        onPublished === undefined ? undefined : [onPublished],
      );
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#deps.publisher.send(record);
        if (attempt > 1) this.#deps.logger.info('Publish succeeded; the partition advances again.', where);
        onPublished?.();
        return;
      } catch (cause) {
        const error = new DltPublishError(record.topic, { ...where, cause });
        if (attempt === 1) this.#deps.onError(error);
        this.#deps.logger.error(error.message, { ...where, attempt, error: cause });
        await this.#wait(Math.min(250 * 2 ** Math.min(attempt - 1, 5), 5_000), signal);
      }
    }
  }

  async #wait(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await delay(ms, signal);
    } catch {
      throw new Abandoned('abandoned');
    }
  }

  async #toMessage(
    source: Source,
    raw: FetchedRecord,
    headers: Headers,
    attempt: number,
    original: OriginalRecord,
    abandon: AbortSignal,
  ): Promise<Message<unknown, unknown>> {
    const { topic, partition } = source;
    const decoded = deserializeRecord(source, raw, headers);
    const [key, value] = await Promise.all([decoded.key, decoded.value]);
    const sameRecord = original.topic === topic && original.offset === raw.offset;
    return buildMessage(
      source,
      raw,
      headers,
      { key, value },
      attempt,
      sameRecord
        ? { topic, partition, offset: raw.offset }
        : { topic: original.topic, partition: original.partition, offset: original.offset },
      abandon,
    );
  }

  async #onConsume(message: Message<unknown, unknown>): Promise<Message<unknown, unknown> | undefined> {
    let current: Message<unknown, unknown> | undefined = message;
    for (const interceptor of this.#deps.interceptors) {
      if (interceptor.onConsume === undefined || current === undefined) continue;
      try {
        current = await interceptor.onConsume(current);
      } catch (error) {
        this.#deps.logger.warn('Consumer interceptor onConsume threw; the record goes on unchanged.', {
          error,
        });
      }
    }
    return current;
  }

  async #runHandler(
    source: Source,
    message: Message<unknown, unknown>,
    outputs: OutputRecord[],
    afterCommit: (() => void)[],
    transactional: boolean,
    abandon: AbortSignal,
  ): Promise<void> {
    const handler = source.subscription.handler;
    if (handler === undefined) return;
    const timeoutMs = this.#deps.handlerTimeoutMs;
    const trace = traceContextOf(message);
    const context: HandlerContext = transactional
      ? {
          send: (record) => {
            // Outputs continue the trace of the record they came from.
            const traced =
              trace === undefined || record.headers?.traceparent !== undefined
                ? record
                : { ...record, headers: { ...record.headers, traceparent: trace.traceparent } };
            outputs.push(traced);
          },
          afterCommit: (callback) => {
            afterCommit.push(callback);
          },
        }
      : atLeastOnceContext;
    // Without a timeout the handler's signal is the generation's abandon signal itself; with one,
    // a per-attempt signal that also aborts on timeout.
    let controller: AbortController | undefined;
    let target = message;
    const onAbandon = (): void => controller?.abort(abandon.reason);
    if (timeoutMs > 0) {
      controller = new AbortController();
      abandon.addEventListener('abort', onAbandon, { once: true });
      target = { ...message, signal: controller.signal };
    }
    const invoke = (): unknown =>
      trace === undefined
        ? handler(target, context)
        : runWithTraceContext(trace, () => handler(target, context));
    try {
      const outcome = handleChannel.hasSubscribers
        ? handleChannel.tracePromise(async () => void (await invoke()), {
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
          })
        : invoke();
      if (!(outcome instanceof Promise)) return;
      if (controller === undefined) {
        // Abandonment (stop or rebalance deadline) is handled by the batch, which stops waiting.
        await outcome;
        return;
      }
      const timeoutController = controller;
      await guard(outcome, abandon, timeoutMs, () => {
        const error = new HandlerTimeoutError(timeoutMs, {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
        });
        timeoutController.abort(error);
        return error;
      });
    } finally {
      if (controller !== undefined) abandon.removeEventListener('abort', onAbandon);
    }
  }
}

const atLeastOnceContext: HandlerContext = {
  send: () => {
    throw new StateError(
      'send',
      'context.send() is for exactly-once mode (the eos option); use a producer instead.',
    );
  },
  afterCommit: () => {
    throw new StateError('afterCommit', 'context.afterCommit() is for exactly-once mode (the eos option).');
  },
};
