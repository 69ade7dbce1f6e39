/**
 * The saga coordinator: a consumer group on the saga inbox, in exactly-once mode. Each inbox
 * batch is decided in order, and the new states (to the saga log), the commands they emit and the
 * inbox offsets are written in one transaction, per inbox partition, with that partition's own
 * transactional producer — so a crash replays a batch, never repeating or losing a transition, and
 * a zombie coordinator is fenced. See docs/saga.md for the whole protocol.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { type Consumer, createConsumer, type HandlerContext, type Message } from '@cascade/consumer';
import { ConfigError, Lifecycle, type Logger, safeLogger } from '@cascade/core';
import { createProducer, type KafkaConfig, type Producer } from '@cascade/producer';
import { bytes, string } from '@cascade/schema';
import { ParticipantBreakers } from './breakers.js';
import { decodeInboxEvent, encodeCommand, encodeInboxEvent, encodeState, type InboxEvent } from './codec.js';
import type { SagaDefinition, SagaInput } from './definition.js';
import { decide, localStepFailure } from './engine.js';
import { buildCommand } from './internal/transition.js';
import { SagaLogReader } from './log-reader.js';
import { type SagaMetrics, SagaObserver } from './observability.js';
import { SagaRegistry } from './registry.js';
import {
  type OperatorAction,
  resultsOf,
  type SagaEffect,
  type SagaEvent,
  type SagaNotification,
  type SagaState,
  terminalStatuses,
} from './state.js';
import type { HttpTccParticipant } from './tcc/http-adapter.js';
import { TimerScheduler } from './timers.js';
import { type SagaTopics, sagaTopics } from './topics.js';

/** Options of {@link createSagaCoordinator}. */
export interface SagaCoordinatorOptions {
  readonly kafka: KafkaConfig;
  /** Every definition (and every version still in flight) this coordinator runs. */
  readonly sagas: readonly SagaDefinition<unknown, unknown>[];
  /** The topics, or a prefix for them. @default sagaTopics('cascade') */
  readonly topics?: SagaTopics;
  /** The coordinators' consumer group. @default `${topics.inbox}.coordinator` */
  readonly groupId?: string;
  /** How long a coordinator may be silent before its sagas move to another. @default 10000 */
  readonly sessionTimeoutMs?: number;
  /**
   * How many inbox partitions are processed at once. Each has its own transactional producer, so
   * their transactions commit in parallel. @default 4
   */
  readonly partitionsConcurrently?: number;
  /**
   * A circuit breaker per participant (opossum), fed by its replies and timeouts. While one is
   * open, the participant's failed or timed-out steps are parked instead of spending their retry
   * budget, so an outage does not set off a storm of compensations. `false` turns it off.
   * @default { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 10000 }
   */
  readonly circuitBreaker?:
    | false
    | {
        readonly errorThresholdPercentage?: number;
        readonly volumeThreshold?: number;
        readonly resetTimeoutMs?: number;
      };
  /**
   * TCC participants reached over HTTP ({@link httpTccParticipant}), by participant name. Their
   * calls are made after the transition that decided them has committed, and made again by the
   * coordinator that restores a saga whose call was never answered (the idempotency key makes
   * that safe). Participants not named here are reached over Kafka.
   */
  readonly httpParticipants?: Readonly<Record<string, HttpTccParticipant>>;
  /**
   * Called when a saga needs an operator: a compensation or confirm exhausted its budget, or a
   * TCC saga ended `heuristic-mixed`.
   */
  readonly onNeedsAttention?: (state: SagaState) => void;
  readonly logger?: Logger;
}

/** Where a finished (or stuck) saga ended. */
export type SagaOutcome = 'completed' | 'compensated' | 'failed' | 'needs-attention' | 'heuristic-mixed';

/** A running coordinator. */
export interface SagaCoordinator extends AsyncDisposable {
  start(): Promise<void>;
  /**
   * Starts a saga on the newest registered version of its definition. Idempotent per `sagaId`:
   * beginning the same id twice runs one saga.
   * @returns the saga id.
   */
  begin<D extends SagaDefinition<unknown, unknown>>(
    saga: D,
    input: SagaInput<D>,
    options?: { readonly sagaId?: string },
  ): Promise<string>;
  /** Resolves when the saga is terminal or needs attention. */
  result(sagaId: string, options?: { readonly signal?: AbortSignal }): Promise<SagaOutcome>;
  /** The latest committed state of a saga, as this coordinator knows it. */
  status(sagaId: string): SagaState | undefined;
  /** Every known saga, optionally in one status. */
  list(filter?: { readonly status?: SagaState['status'] }): SagaState[];
  /** An operator action, logged as a transition with who and why. */
  resolve(
    sagaId: string,
    action: OperatorAction,
    details: { readonly by: string; readonly reason: string; readonly step?: string },
  ): Promise<void>;
  /** Listens to transitions of the sagas this coordinator drives. Returns an unsubscribe function. */
  onNotification(listener: (notification: SagaNotification) => void): () => void;
  /** The same notifications as an async iterator, until `signal` aborts. */
  events(signal?: AbortSignal): AsyncIterable<SagaNotification>;
  /** Counts of each kind of transition and step latencies, of the sagas this coordinator drove. */
  metrics(): SagaMetrics;
  stop(): Promise<void>;
}

interface OwnedPartition {
  readonly states: Map<string, SagaState>;
  lastOffset: bigint | undefined;
}

const outcomes: ReadonlySet<string> = new Set([
  'completed',
  'compensated',
  'failed',
  'needs-attention',
  'heuristic-mixed',
]);

/**
 * The coordinator's retry policy when its `kafka` config names none. A producer that commits
 * transactions back to back is told CONCURRENT_TRANSACTIONS while the previous commit's markers
 * are still being written; the Java client retries that after 20 ms. With kafkajs' usual 300 ms
 * first retry a coordinator managed half the sagas per second (see bench/README.md).
 */
export const coordinatorRetry = {
  initialIntervalMs: 20,
  maximumIntervalMs: 1_000,
  maximumAttempts: 12,
} as const;

/** Creates a saga coordinator. Call `start()`; many coordinators in one group share the sagas. */
export function createSagaCoordinator(input: SagaCoordinatorOptions): SagaCoordinator {
  const options = { ...input, kafka: { ...input.kafka, retry: input.kafka.retry ?? coordinatorRetry } };
  const logger = safeLogger(options.logger).child({ component: 'saga-coordinator' });
  const topics = options.topics ?? sagaTopics('cascade');
  const groupId = options.groupId ?? `${topics.inbox}.coordinator`;
  const registry = new SagaRegistry(options.sagas);
  const http = new Map(Object.entries(options.httpParticipants ?? {}));
  for (const definition of options.sagas as readonly SagaDefinition[]) {
    for (const step of definition.steps.values()) {
      if (step.kind === 'remote' && step.participant !== undefined && http.has(step.participant)) {
        throw new ConfigError(
          `saga ${definition.name}, step ${step.name}`,
          `participant ${step.participant} is reached over HTTP, which only TCC steps (.tcc()) support.`,
        );
      }
    }
  }
  const calls = new AbortController();
  const lifecycle = new Lifecycle('saga coordinator');
  const owned = new Map<number, OwnedPartition>();
  const observer = new SagaObserver();
  const breakers = new ParticipantBreakers(options.circuitBreaker ?? {}, logger);
  const waiters = new Map<string, Set<(outcome: SagaOutcome) => void>>();

  const producer: Producer<string, Buffer> = createProducer({
    ...options.kafka,
    key: string(),
    value: bytes(),
    lingerMs: 2,
  });
  const reader = new SagaLogReader({
    kafka: options.kafka,
    topic: topics.log,
    groupPrefix: groupId,
    producer,
    logger,
  });
  reader.onState((state) => {
    if (!outcomes.has(state.status)) return;
    for (const wake of waiters.get(state.sagaId) ?? []) wake(state.status as SagaOutcome);
    waiters.delete(state.sagaId);
  });

  const partitionOf = (sagaId: string): number | undefined => {
    for (const [partition, entry] of owned) if (entry.states.has(sagaId)) return partition;
    return undefined;
  };
  const toInbox = async (sagaId: string, event: InboxEvent, partition?: number): Promise<void> => {
    await producer.send({
      topic: topics.inbox,
      key: sagaId,
      value: encodeInboxEvent(event),
      ...(partition === undefined ? {} : { partition }),
    });
  };
  const timers = new TimerScheduler((sagaId, timerId) => {
    const partition = partitionOf(sagaId);
    if (partition === undefined) return;
    toInbox(sagaId, { type: 'timer', timerId }, partition).catch((error: unknown) =>
      logger.warn('Could not send a timer firing; it fires again after recovery.', {
        sagaId,
        timerId,
        error,
      }),
    );
  });

  const runLocal = (
    state: SagaState,
    effect: Extract<SagaEffect, { type: 'run-local' }>,
    partition: number,
  ): void => {
    const definition = registry.get(state.saga, state.version);
    const step = definition.steps.get(effect.step);
    const context = {
      sagaId: state.sagaId,
      input: state.input,
      results: resultsOf(state),
      attempt: effect.attempt,
    };
    const base = { type: 'reply', step: effect.step, phase: effect.phase, attempt: effect.attempt } as const;
    void (async () => {
      let reply: InboxEvent;
      try {
        const result =
          effect.phase === 'invoke'
            ? await step?.invoke(context)
            : await step?.compensate?.({ ...context, reply: state.steps[effect.step]?.result });
        reply = { ...base, outcome: 'success', result: result ?? null };
      } catch (error) {
        // A BusinessFailure refuses, as a participant's does: no retry, the steps before it are
        // compensated, and its type is kept.
        reply = { ...base, ...localStepFailure(error) };
      }
      await toInbox(state.sagaId, reply, partition);
    })().catch((error: unknown) => logger.warn('Could not report a local step; it is retried.', { error }));
  };

  const callHttp = (
    participant: HttpTccParticipant,
    effect: Extract<SagaEffect, { type: 'send-command' }>,
    partition: number,
  ): void => {
    void (async () => {
      const event: InboxEvent = breakers.isOpen(effect.participant)
        ? {
            type: 'dispatch-failed',
            step: effect.step,
            phase: effect.phase,
            attempt: effect.attempt,
            reason: 'circuit-open',
          }
        : await participant.call(effect, calls.signal);
      if (calls.signal.aborted) return;
      await toInbox(effect.sagaId, event, partition);
    })().catch((error: unknown) =>
      logger.warn('Could not report an HTTP participant call; it is made again after recovery.', {
        sagaId: effect.sagaId,
        step: effect.step,
        phase: effect.phase,
        error,
      }),
    );
  };

  const afterTransition = (state: SagaState, effects: readonly SagaEffect[], partition: number): void => {
    if (terminalStatuses.has(state.status)) timers.clear(state.sagaId);
    else timers.sync(state);
    for (const effect of effects) {
      if (effect.type === 'run-local') runLocal(state, effect, partition);
      if (effect.type === 'send-command') {
        const participant = http.get(effect.participant);
        if (participant !== undefined) callHttp(participant, effect, partition);
      }
      if (effect.type !== 'emit') continue;
      observer.publish(effect.notification);
      const kind = effect.notification.kind;
      if (kind === 'needs-attention' || kind === 'heuristic-mixed') options.onNeedsAttention?.(state);
    }
  };

  // A partition's sagas, rebuilt from the log: on assignment (so sagas waiting only on a timer or
  // on a local step resume even when their inbox is quiet) and when a batch is read again after
  // its transaction aborted. Concurrent callers share one rebuild.
  const restoring = new Map<number, Promise<OwnedPartition>>();
  const restore = (partition: number): Promise<OwnedPartition> => {
    let pending = restoring.get(partition);
    if (pending === undefined) {
      pending = (async () => {
        const states = await reader.catchUp(partition);
        const entry: OwnedPartition = { states, lastOffset: undefined };
        owned.set(partition, entry);
        for (const state of states.values()) {
          if (terminalStatuses.has(state.status)) continue;
          timers.sync(state);
          // A local step or an HTTP call whose outcome was never reported (the coordinator died
          // after committing its transition): run it again. Both are at least once; HTTP calls
          // carry their phase's idempotency key.
          for (const [step, stepState] of Object.entries(state.steps)) {
            const outstanding = stepState.outstanding;
            if (outstanding === undefined) continue;
            const definition = registry.get(state.saga, state.version);
            const stepDefinition = definition.steps.get(step);
            const { phase, attempt } = outstanding;
            if (stepDefinition?.kind === 'local') {
              runLocal(
                state,
                {
                  type: 'run-local',
                  sagaId: state.sagaId,
                  step,
                  phase,
                  attempt,
                  commandId: outstanding.commandId,
                },
                partition,
              );
              continue;
            }
            const participant = http.get(stepDefinition?.participant ?? '');
            if (stepDefinition === undefined || participant === undefined) continue;
            const built = buildCommand(stepDefinition, state, state.seq, phase, attempt);
            if ('command' in built) callHttp(participant, built.command, partition);
          }
        }
        logger.info('Sagas restored from the log.', { partition, sagas: states.size });
        return entry;
      })().finally(() => restoring.delete(partition));
      restoring.set(partition, pending);
    }
    return pending;
  };

  const handle = async (message: Message<string, Buffer>, context: HandlerContext): Promise<void> => {
    const partition = message.partition;
    const offset = BigInt(message.offset);
    let entry = owned.get(partition);
    if (entry === undefined || (entry.lastOffset !== undefined && offset <= entry.lastOffset)) {
      if (entry !== undefined) owned.delete(partition);
      entry = await restore(partition);
    }
    entry.lastOffset = offset;
    const sagaId = message.key;
    let inbox: InboxEvent;
    try {
      if (sagaId === null || sagaId === '') throw new Error('the record has no saga id key');
      inbox = decodeInboxEvent(message.value);
    } catch (error) {
      logger.error('Skipping an inbox record that cannot be read.', {
        partition,
        offset: message.offset,
        error,
      });
      return;
    }
    const state = entry.states.get(sagaId);
    if (state === undefined && inbox.type !== 'begin') {
      logger.warn('Skipping an event for a saga that has not begun.', { sagaId, event: inbox.type });
      return;
    }
    let definition: SagaDefinition;
    try {
      // Without a state the event is a begin (checked above): it starts on the newest version.
      definition =
        state !== undefined
          ? registry.get(state.saga, state.version, sagaId)
          : registry.latest((inbox as Extract<InboxEvent, { type: 'begin' }>).saga);
    } catch (error) {
      logger.error('Skipping an inbox record for an unknown saga.', { sagaId, event: inbox.type, error });
      return;
    }
    if (state !== undefined) breakers.observe(definition, state, inbox);
    const event: SagaEvent = inbox.type === 'begin' ? { type: 'begin', sagaId, input: inbox.input } : inbox;
    const decision = decide(definition, state, event, { now: Date.now(), circuitOpen: breakers.isOpen });
    if (!decision.applied) {
      logger.debug('Event not applied.', { sagaId, event: inbox.type, reason: decision.ignored });
      return;
    }
    entry.states.set(sagaId, decision.state);
    context.send({ topic: topics.log, key: sagaId, value: encodeState(decision.state), partition });
    for (const effect of decision.effects) {
      if (effect.type !== 'send-command' || http.has(effect.participant)) continue;
      const { type: _type, ...command } = effect;
      context.send({
        topic: topics.commands(effect.participant),
        key: sagaId,
        value: encodeCommand({ ...command, saga: decision.state.saga, replyTo: topics.inbox }),
      });
    }
    // Timers, local steps, HTTP calls and notifications follow the recorded decision, never
    // precede it: if the transaction aborts, the batch is decided again.
    context.afterCommit(() => afterTransition(decision.state, decision.effects, partition));
  };

  const consumer: Consumer = createConsumer({
    kafka: options.kafka,
    groupId,
    fromBeginning: true,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    partitionsConsumedConcurrently: options.partitionsConcurrently ?? 4,
    eos: { transactionalIdPrefix: groupId },
    logger,
    onPartitionsAssigned: (partitions) => {
      for (const { topic, partition } of partitions) {
        if (topic !== topics.inbox || owned.has(partition)) continue;
        restore(partition).catch((error: unknown) =>
          logger.warn('Restoring sagas failed; retried on the next record.', { partition, error }),
        );
      }
    },
    onPartitionsRevoked: (partitions) => {
      for (const { topic, partition } of partitions) {
        if (topic !== topics.inbox) continue;
        for (const sagaId of owned.get(partition)?.states.keys() ?? []) timers.clear(sagaId);
        owned.delete(partition);
      }
    },
  });
  consumer.subscribe({ topic: topics.inbox, value: bytes(), dlt: false, handler: handle });

  const coordinator: SagaCoordinator = {
    start: () =>
      lifecycle.start(async () => {
        await producer.connect();
        await reader.start();
        await consumer.start();
      }),
    async begin(saga, input, beginOptions) {
      lifecycle.assertUsable('begin a saga');
      const definition = saga as unknown as SagaDefinition;
      registry.latest(definition.name);
      const sagaId = beginOptions?.sagaId ?? randomUUID();
      await toInbox(sagaId, { type: 'begin', saga: definition.name, input });
      return sagaId;
    },
    result(sagaId, resultOptions) {
      const known = coordinator.status(sagaId);
      if (known && outcomes.has(known.status)) return Promise.resolve(known.status as SagaOutcome);
      return new Promise((resolve, reject) => {
        const set = waiters.get(sagaId) ?? new Set();
        waiters.set(sagaId, set);
        set.add(resolve);
        resultOptions?.signal?.addEventListener('abort', () => {
          set.delete(resolve);
          if (set.size === 0) waiters.delete(sagaId);
          reject(resultOptions.signal?.reason);
        });
      });
    },
    status: (sagaId) => {
      const partition = partitionOf(sagaId);
      return partition === undefined ? reader.get(sagaId) : owned.get(partition)?.states.get(sagaId);
    },
    list: (filter) =>
      reader.all().filter((state) => filter?.status === undefined || state.status === filter.status),
    async resolve(sagaId, action, details) {
      lifecycle.assertUsable('resolve a saga');
      await toInbox(sagaId, { type: 'operator', action, ...details });
    },
    onNotification: (listener) => observer.subscribe(listener),
    events: (signal) => observer.events(signal),
    metrics: () => observer.metrics(),
    stop: () =>
      lifecycle.close(async () => {
        calls.abort(new Error('The saga coordinator is stopping.'));
        timers.clearAll();
        breakers.shutdown();
        await consumer.stop();
        await reader.stop();
        await producer.close();
      }),
    [Symbol.asyncDispose]: () => coordinator.stop(),
  };
  return coordinator;
}
