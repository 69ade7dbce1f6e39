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
import {
  AbortedError,
  ClosedError,
  ConfigError,
  delay,
  Lifecycle,
  type LifecycleState,
  type Logger,
  requireDurationMs,
  requireNonEmptyString,
  StateError,
  safeLogger,
  throwIfAborted,
} from '@cascade/core';
import { createProducer, type KafkaConfig, murmur2Partition, type Producer } from '@cascade/producer';
import { bytes, string } from '@cascade/schema';
import { ParticipantBreakers } from './breakers.js';
import { decodeInboxEvent, encodeCommand, encodeInboxEvent, encodeState, type InboxEvent } from './codec.js';
import type { SagaDefinition, SagaInput } from './definition.js';
import { decideDelivering, localStepFailure } from './engine.js';
import { MissingCommandTopicsError, SagaConflictError, SagaNotFoundError } from './errors.js';
import { listSagas } from './inspect.js';
import { buildCommand } from './internal/transition.js';
import { StateWaiters } from './internal/waiters.js';
import { defaultRestoreTimeoutMs, fingerprintOf, headersOf, SagaLog } from './log.js';
import { LogTail } from './log-tail.js';
import { type SagaMetrics, SagaObserver } from './observability.js';
import { checkOperatorRequest } from './operator.js';
import { checkSagaCoordinatorOptions } from './options.js';
import { SagaRegistry } from './registry.js';
import {
  beginConflict,
  type OperatorAction,
  resultsOf,
  type SagaEffect,
  type SagaEvent,
  type SagaNotification,
  type SagaState,
  type SagaStatus,
  type StepError,
  terminalStatuses,
} from './state.js';
import type { HttpTccParticipant } from './tcc/http-adapter.js';
import { TimerScheduler } from './timers.js';
import { type SagaTopics, sagaTopics, TopicCatalog } from './topics.js';

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
   * How long one attempt to restore an inbox partition's sagas (on assignment, and after a
   * transaction of the partition aborted) waits for the coordinator's view of the saga log to
   * read to the end of the log partition. At the deadline the attempt ends, a view that read
   * nothing meanwhile is restarted (a broker death can leave it stuck), and the restore is tried
   * again: the partition waits, never deciding from a partial view, and every other partition
   * goes on. A view that is still reading (a long log at start) is left to finish.
   * @default 10000
   */
  readonly restoreTimeoutMs?: number;
  /**
   * How long a finished saga (completed, compensated, failed, heuristic-mixed — an operator's
   * resolution ends in one of these) stays in the saga log after it finished: while it does,
   * `status()` answers with its final state and a second `begin()` of its id is answered as a
   * duplicate. After it, the saga is tombstoned and compaction removes it: `status()` answers
   * `undefined` and its id may begin a new saga. `0` tombstones a saga in the transition that
   * finishes it. The log (and each restore) grows with what is retained; a coordinator keeps a
   * fingerprint of about 50 bytes per retained finished saga of its partitions, not the saga.
   * @default 604800000 (7 days)
   */
  readonly finishedRetentionMs?: number;
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
  /** `idle`, `connecting`, `running`, `stopping`, `stopped` or `failed`. */
  readonly state: LifecycleState;
  /** Joins the coordinator group and restores the sagas of its inbox partitions. */
  start(): Promise<void>;
  /**
   * Starts a saga on exactly the version of `saga` given, which must be registered with this
   * coordinator (and with every coordinator of the group: the one that owns the saga's inbox
   * partition runs it). Resolves with the saga id once the saga's first state is committed to the
   * saga log, so `status(sagaId)` knows it.
   *
   * A second begin of a saga id is idempotent when it asks for the same saga with the same input
   * (compared as JSON): it resolves with the id and runs nothing more. With another saga name or
   * another input it rejects with {@link SagaConflictError}; the saga runs as first begun. That
   * holds for begins racing each other too (from any coordinators): whichever the inbox holds
   * first runs, and every other begin compares itself with the state that one committed. The
   * version is not compared: a saga finishes on the version it began with.
   *
   * @param options.sagaId the saga's id. @default a random UUID
   * @param options.signal stops waiting (rejecting with `AbortedError`); the begin may still have
   *   been written, and then the saga runs. A begin no coordinator starts (none owns its
   *   partition, or that one lacks the version) waits until the signal aborts or `stop()`.
   * @returns the saga id.
   * @throws {UnknownSagaError} when the definition's version is not registered (it lists those
   *   that are); nothing is written.
   * @throws {SagaConflictError} when the id has begun as another saga, or with another input.
   * @throws {ClosedError} when the coordinator is stopping or stopped.
   */
  begin<D extends SagaDefinition<unknown, unknown>>(
    saga: D,
    input: SagaInput<D>,
    options?: { readonly sagaId?: string; readonly signal?: AbortSignal },
  ): Promise<string>;
  /**
   * Resolves when the saga is terminal or needs attention: at once if it is already, else when
   * its state saying so is committed.
   * @param options.signal stops waiting: rejects with `AbortedError` (its `cause` the signal's
   *   reason), at once if the signal has already aborted. The abort listener is removed when the
   *   wait settles, however it settles, so one signal may serve any number of waits.
   * @throws {ClosedError} when the coordinator stops while waiting.
   */
  result(sagaId: string, options?: { readonly signal?: AbortSignal }): Promise<SagaOutcome>;
  /**
   * The latest committed state of a saga: a running saga's, or a finished saga's while it is
   * retained (`finishedRetentionMs`). `undefined` when no saga of this id is in the log: never
   * begun, or finished longer ago than `finishedRetentionMs` and tombstoned. A saga of the inbox
   * partitions this coordinator owns is answered from memory; another one by reading its log
   * partition (a read, not a query to the coordinator that owns it).
   * @throws {SagaRestoreTimeoutError} when the log partition could not be read in `restoreTimeoutMs`.
   */
  status(sagaId: string): Promise<SagaState | undefined>;
  /**
   * Sagas in the log, a page at a time, read from the saga log partition by partition (every
   * coordinator of the group answers the same): filtered by status, definition, age since the
   * last transition (`stuck`) and partition. A page holds the matching sagas of one partition
   * at most, in the order of their last transition there; pass `cursor` back for the next page
   * (absent on the last one). One partition is read per call, holding what its records say, not
   * every saga.
   */
  list(query?: SagaListQuery): Promise<SagaPage>;
  /**
   * The inbox partitions this coordinator owns now, with how many running sagas it holds of each
   * (`live`) and how many finished ones it knows are retained in the log (`finished`).
   */
  partitions(): readonly OwnedPartitionInfo[];
  /**
   * An operator action, logged as a transition with who and why. Checked before anything is
   * written to the inbox: the saga must be known to this coordinator (see `status()`: its own
   * partitions' sagas, and every saga its continuously read view of the saga log has seen —
   * right after `start()` that view may still be catching up), the action one of
   * `OperatorAction`, `by` and `reason` non-empty, and `step` (which `markCompensated` and
   * `skipStep` need) one of the saga's steps. Whether the action applies to the saga as it then
   * is, the coordinator that owns it decides: a refusal is logged there, and nothing changes.
   * @throws {SagaNotFoundError} for a saga id this coordinator does not know.
   * @throws {ConfigError} naming the field: `action` (listing the valid ones), `details.by`,
   *   `details.reason` or `details.step`.
   * @throws {ClosedError} when the coordinator is stopping or stopped.
   */
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
  /** Stops driving sagas (in-flight steps are taken over by the next owner of their partition). Idempotent. */
  close(): Promise<void>;
  /** @deprecated Renamed {@link SagaCoordinator.close}: every Cascade client ends with `close()`. */
  stop(): Promise<void>;
}

/** What {@link SagaCoordinator.list} looks for. */
export interface SagaListQuery {
  /** Only sagas in this status (or one of these). */
  readonly status?: SagaStatus | readonly SagaStatus[];
  /** Only sagas of this definition. */
  readonly saga?: string;
  /** Only sagas whose last transition is older than this. */
  readonly stuck?: { readonly olderThanMs: number };
  /** Only these log partitions. @default every partition */
  readonly partitions?: readonly number[];
  /** At most this many sagas. @default 100 (at most 1000) */
  readonly limit?: number;
  /** Where the previous page ended. */
  readonly cursor?: string;
}

/** One page of {@link SagaCoordinator.list}. */
export interface SagaPage {
  readonly sagas: readonly SagaState[];
  /** Pass it back for the next page; absent when there is none. */
  readonly cursor?: string;
}

/** An inbox partition a coordinator owns. */
export interface OwnedPartitionInfo {
  readonly partition: number;
  readonly live: number;
  readonly finished: number;
}

interface OwnedPartition {
  /** Its sagas not finished. */
  readonly states: Map<string, SagaState>;
  /** Its finished sagas retained in the log: fingerprint → the final state's `updatedAt`. */
  readonly finished: Map<number, number>;
  /** Final states of sagas that finished lately, newest last (a bounded cache). */
  readonly recent: Map<string, SagaState>;
  lastOffset: bigint | undefined;
  /** The last inbox offset whose transaction committed (its state is in the log). */
  committedThrough: bigint | undefined;
  /** Where the next sweep for finished sagas past their retention starts reading the log. */
  sweepFrom: bigint | 'start';
}

/** How many final states an owned partition keeps (for a duplicate begin or a status right after). */
const recentFinishedCap = 1_000;

/** The default of `finishedRetentionMs`: 7 days. */
export const defaultFinishedRetentionMs = 7 * 24 * 3_600_000;

/** How many finished sagas one sweep of a partition tombstones at most. */
const sweepBatch = 5_000;

/** How long a saga begun through this coordinator stays followed after it finished. */
const followedLingerMs = 60_000;

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

/**
 * How long the coordinator's transactional producers wait for a topic's metadata (the producer's
 * default is 60 s). Every topic they write to was found at `start()`, so one they cannot find has
 * been deleted since, and while they wait the whole inbox partition waits: after this the
 * transaction aborts, the batch is read again and the saga that wrote to the topic is parked.
 */
const transactionMaxBlockMs = 5_000;

/** Keeps `state` as the newest of `recent`, dropping the oldest past {@link recentFinishedCap}. */
function remember(recent: Map<string, SagaState>, state: SagaState): void {
  recent.delete(state.sagaId);
  recent.set(state.sagaId, state);
  if (recent.size > recentFinishedCap) {
    const oldest = recent.keys().next();
    if (oldest.done !== true) recent.delete(oldest.value);
  }
}

/** Creates a saga coordinator. Call `start()`; many coordinators in one group share the sagas. */
export function createSagaCoordinator(input: SagaCoordinatorOptions): SagaCoordinator {
  // Named as the caller wrote them, before they are passed on to the consumer and producers.
  checkSagaCoordinatorOptions(input);
  const options = { ...input, kafka: { ...input.kafka, retry: input.kafka.retry ?? coordinatorRetry } };
  const logger = safeLogger(options.logger).child({ component: 'saga-coordinator' });
  const topics = options.topics ?? sagaTopics('cascade');
  const groupId = options.groupId ?? `${topics.inbox}.coordinator`;
  const registry = new SagaRegistry(options.sagas);
  const restoreTimeoutMs = requireDurationMs(
    'restoreTimeoutMs',
    options.restoreTimeoutMs ?? defaultRestoreTimeoutMs,
    1,
  );
  const http = new Map(Object.entries(options.httpParticipants ?? {}));
  // The participants reached over Kafka: start() checks that each one's command topic exists.
  const kafkaParticipants = new Set<string>();
  for (const definition of options.sagas as readonly SagaDefinition[]) {
    for (const step of definition.steps.values()) {
      if (step.kind !== 'local' && step.participant !== undefined && !http.has(step.participant))
        kafkaParticipants.add(step.participant);
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
  // Callers of result() and begin() waiting on a saga's committed states; all rejected on stop().
  const waiters = new StateWaiters();
  calls.signal.addEventListener(
    'abort',
    () => waiters.close((operation) => new ClosedError('saga coordinator', operation)),
    { once: true },
  );
  const catalog = new TopicCatalog(options.kafka, [
    topics.log,
    ...[...kafkaParticipants].map((participant) => topics.commands(participant)),
  ]);

  const producer: Producer<string, Buffer> = createProducer({
    ...options.kafka,
    key: string(),
    value: bytes(),
    lingerMs: 2,
  });
  const log = new SagaLog({ kafka: options.kafka, topic: topics.log, producer, logger });
  const retentionMs = requireDurationMs(
    'finishedRetentionMs',
    options.finishedRetentionMs ?? defaultFinishedRetentionMs,
    0,
  );
  /** The inbox's partition count, learnt at start(): a saga id's partition of the inbox and the log. */
  let partitionCount = 0;
  const partitionFor = (sagaId: string): number => {
    if (partitionCount === 0) throw new StateError('locate a saga', 'the coordinator has not started.');
    return murmur2Partition(Buffer.from(sagaId, 'utf8'), partitionCount);
  };

  // Sagas begun through this coordinator, followed until they finish, so result() after begin()
  // needs no read of the log, whoever owns them. Only the status and seq are kept (not the state:
  // another coordinator holds that), so this costs a few dozen bytes per saga.
  const followed = new Map<
    string,
    {
      latest: { readonly status: SagaStatus; readonly seq: number } | undefined;
      release: () => void;
      finishedAt: number | undefined;
    }
  >();
  const offer = (state: SagaState): void => {
    const follow = followed.get(state.sagaId);
    if (follow !== undefined && (follow.latest === undefined || follow.latest.seq <= state.seq)) {
      follow.latest = { status: state.status, seq: state.seq };
      if (terminalStatuses.has(state.status) || state.status === 'needs-attention')
        follow.finishedAt ??= Date.now();
    }
    waiters.offer(state);
  };
  // On a reader of its own: its fetches wait for new records, which would hold up a restore's.
  const tailLog = new SagaLog({ kafka: options.kafka, topic: topics.log, producer, logger });
  const tail = new LogTail({
    log: tailLog,
    logger,
    onEntry: (partition, entry) => {
      // A partition this coordinator owns: it offers what it writes as it commits it.
      if (owned.has(partition)) return;
      if (!followed.has(entry.key) && !waiters.has(entry.key)) return;
      if (entry.value === null) {
        // Tombstoned (past its retention): the id may begin a new saga now.
        unfollow(entry.key);
        return;
      }
      const state = log.decode(entry, partition);
      if (state !== undefined) offer(state);
    },
  });
  const unfollow = (sagaId: string): void => {
    followed.get(sagaId)?.release();
    followed.delete(sagaId);
  };

  /** The owned partition holding `sagaId` live, if any. */
  const partitionOf = (sagaId: string): number | undefined => {
    if (partitionCount === 0) return undefined;
    const partition = partitionFor(sagaId);
    return owned.get(partition)?.states.has(sagaId) ? partition : undefined;
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
    toInbox(sagaId, { type: 'timer', timerId }, partition).catch((error: unknown) => {
      if (calls.signal.aborted) return;
      logger.warn('Could not send a timer firing; it fires again in a second.', { sagaId, timerId, error });
      // The deadline is still in the state: arming the saga's timers again fires it (it is due).
      setTimeout(() => {
        const at = partitionOf(sagaId);
        const state = at === undefined ? undefined : owned.get(at)?.states.get(sagaId);
        if (state !== undefined) timers.sync(state);
      }, 1_000).unref();
    });
  });

  /** Local steps and HTTP calls running in this process (so a restore does not start them twice). */
  const inflight = new Set<string>();
  const inflightKey = (sagaId: string, step: string, phase: string, attempt: number): string =>
    `${sagaId}\u0000${step}\u0000${phase}\u0000${attempt}`;
  /** The inbox partitions assigned to this coordinator now. */
  const assignedNow = new Set<number>();

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
    const key = inflightKey(state.sagaId, effect.step, effect.phase, effect.attempt);
    inflight.add(key);
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
    })()
      .catch((error: unknown) => logger.warn('Could not report a local step; it is retried.', { error }))
      .finally(() => inflight.delete(key));
  };

  const callHttp = (
    participant: HttpTccParticipant,
    effect: Extract<SagaEffect, { type: 'send-command' }>,
    partition: number,
  ): void => {
    const key = inflightKey(effect.sagaId, effect.step, effect.phase, effect.attempt);
    inflight.add(key);
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
    })()
      .catch((error: unknown) =>
        logger.warn('Could not report an HTTP participant call; it is made again after recovery.', {
          sagaId: effect.sagaId,
          step: effect.step,
          phase: effect.phase,
          error,
        }),
      )
      .finally(() => inflight.delete(key));
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
  /**
   * Per inbox partition, bumped on each assignment and revocation: a restore belongs to the
   * assignment it began in. One still running when its partition was revoked (and perhaps given
   * back) read the log before another owner's writes; it is not shared with the new assignment's
   * and does not hold the partition when it ends.
   */
  const epochs = new Map<number, number>();
  const restoringEpoch = new Map<number, number>();
  const bump = (partition: number): void => void epochs.set(partition, (epochs.get(partition) ?? 0) + 1);
  /** Per assigned inbox partition: aborted when it is revoked, ending its background restore. */
  const assignments = new Map<number, AbortController>();
  /**
   * Partitions revoked with nothing uncommitted in memory, each with a barrier written to its log
   * partition at the revocation: given back, they are brought up to date by reading the log from
   * there (what another owner wrote meanwhile, if any) instead of from the start.
   */
  const suspended = new Map<number, { readonly entry: OwnedPartition; readonly position: bigint }>();

  /** Sets a restored partition's timers, and runs again what was never reported. */
  const resume = (entry: OwnedPartition, partition: number): void => {
    for (const state of entry.states.values()) {
      timers.sync(state);
      // A local step or an HTTP call whose outcome was never reported (the coordinator died
      // after committing its transition): run it again, unless it runs in this process still.
      // Both are at least once; HTTP calls carry their phase's idempotency key.
      for (const [step, stepState] of Object.entries(state.steps)) {
        const outstanding = stepState.outstanding;
        if (outstanding === undefined) continue;
        const { phase, attempt } = outstanding;
        if (inflight.has(inflightKey(state.sagaId, step, phase, attempt))) continue;
        const definition = registry.get(state.saga, state.version);
        const stepDefinition = definition.steps.get(step);
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
  };

  /**
   * A partition's sagas, from the log: on assignment (so sagas waiting only on a timer or on a
   * local step resume even when their inbox is quiet) and when a batch is read again after its
   * transaction aborted (`reread`: memory then holds what did not commit, so the whole partition
   * is read). A partition given back after a rebalance reads only what was written since it was
   * revoked. Concurrent callers share one.
   */
  const restore = (partition: number, reread = false): Promise<OwnedPartition> => {
    const epoch = epochs.get(partition) ?? 0;
    let pending = restoringEpoch.get(partition) === epoch ? restoring.get(partition) : undefined;
    if (pending === undefined) {
      pending = (async () => {
        const startedAt = Date.now();
        const kept = reread ? undefined : suspended.get(partition);
        suspended.delete(partition);
        let entry: OwnedPartition;
        if (kept !== undefined) {
          entry = kept.entry;
          const { records } = await log.advance(
            partition,
            { live: entry.states, finished: entry.finished },
            kept.position,
            { timeoutMs: restoreTimeoutMs },
          );
          entry.lastOffset = undefined;
          entry.committedThrough = undefined;
          logger.info('Sagas kept through the rebalance, and brought up to date from the log.', {
            partition,
            sagas: entry.states.size,
            finished: entry.finished.size,
            records,
            ms: Date.now() - startedAt,
          });
        } else {
          const restored = await log.restore(partition, { timeoutMs: restoreTimeoutMs });
          entry = {
            states: restored.live,
            finished: restored.finished,
            recent: new Map(),
            lastOffset: undefined,
            committedThrough: undefined,
            sweepFrom: 'start',
          };
          logger.info('Sagas restored from the log.', {
            partition,
            sagas: entry.states.size,
            finished: entry.finished.size,
            records: restored.records,
            ms: Date.now() - startedAt,
          });
        }
        // Revoked while it was read (and perhaps given back since): not to be held.
        if (!assignedNow.has(partition) || epochs.get(partition) !== epoch) return entry;
        owned.set(partition, entry);
        resume(entry, partition);
        return entry;
      })();
      const mine = pending;
      mine
        .finally(() => {
          if (restoring.get(partition) !== mine) return;
          restoring.delete(partition);
          restoringEpoch.delete(partition);
        })
        .catch(() => undefined);
      restoring.set(partition, mine);
      restoringEpoch.set(partition, epoch);
    }
    return pending;
  };

  // The restore a record waits on: tried again until it succeeds or the record is given up (the
  // partition revoked, the coordinator stopping). Never a partial view: the partition waits.
  const restoreForRecord = async (
    partition: number,
    signal: AbortSignal,
    reread = false,
  ): Promise<OwnedPartition> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await restore(partition, reread && attempt === 1);
      } catch (error) {
        if (signal.aborted || calls.signal.aborted) throw error;
        logger.warn('Restoring sagas failed; the inbox partition waits and tries again.', {
          partition,
          attempt,
          error,
        });
        await delay(Math.min(100 * attempt, 1_000), AbortSignal.any([signal, calls.signal]));
      }
    }
  };

  const recheck = async (names: readonly string[], force: boolean): Promise<void> => {
    await Promise.all(
      names.map((topic) =>
        catalog
          .recheck(topic, { force })
          .catch((error: unknown) => logger.warn('Could not look at a topic again.', { topic, error })),
      ),
    );
  };

  const stateRecord = (state: SagaState, partition: number, value: Buffer = encodeState(state)) => ({
    topic: topics.log,
    key: state.sagaId,
    value,
    partition,
    headers: headersOf(state),
  });

  /** Tombstones a finished saga past its retention, unless it was begun again meanwhile. */
  const expire = (
    entry: OwnedPartition,
    sagaId: string,
    finishedAt: number,
    partition: number,
    context: HandlerContext,
  ): void => {
    if (entry.states.has(sagaId)) return;
    const fingerprint = fingerprintOf(sagaId);
    if (entry.finished.get(fingerprint) !== finishedAt) return;
    entry.finished.delete(fingerprint);
    entry.recent.delete(sagaId);
    context.send({ topic: topics.log, key: sagaId, value: null, partition });
    context.afterCommit(() => unfollow(sagaId));
  };

  const handle = async (message: Message<string, Buffer>, context: HandlerContext): Promise<void> => {
    const partition = message.partition;
    const offset = BigInt(message.offset);
    let entry = owned.get(partition);
    if (entry === undefined || (entry.lastOffset !== undefined && offset <= entry.lastOffset)) {
      const reread = entry !== undefined;
      if (entry !== undefined) {
        owned.delete(partition);
        // Read again: the batch's transaction aborted. If a topic it wrote to is gone (or
        // changed), learn it now, so the saga whose record cannot be sent is parked (below)
        // instead of aborting the batch again.
        await catalog
          .refresh()
          .catch((error: unknown) =>
            logger.warn('Could not look at the topics the coordinator writes to.', { partition, error }),
          );
      }
      entry = await restoreForRecord(partition, message.signal, reread);
    }
    entry.lastOffset = offset;
    const handled = entry;
    context.afterCommit(() => {
      handled.committedThrough = offset;
    });
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
    if (inbox.type === 'expire') {
      expire(entry, sagaId, inbox.finishedAt, partition, context);
      return;
    }
    const state = entry.states.get(sagaId);
    if (state === undefined && entry.finished.has(fingerprintOf(sagaId))) {
      // A finished saga still in the log: an event changes nothing, a begin is a duplicate. (A
      // fingerprint may be another id's: then the log has no final state of this one.)
      const final =
        entry.recent.get(sagaId) ??
        (await log.lookup(partition, sagaId, { timeoutMs: restoreTimeoutMs, signal: message.signal }));
      if (final !== undefined && terminalStatuses.has(final.status)) {
        if (inbox.type === 'begin') {
          // Written again, so the caller of this begin, on whichever coordinator, reads it and
          // compares its own input with the saga's.
          context.send(stateRecord(final, partition));
          context.afterCommit(() => offer(final));
        } else {
          logger.debug('Event for a finished saga; nothing changes.', {
            sagaId,
            event: inbox.type,
            status: final.status,
          });
        }
        return;
      }
    }
    if (state === undefined && inbox.type !== 'begin') {
      logger.warn('Skipping an event for a saga that has not begun.', {
        sagaId,
        event: inbox.type,
        partition,
        offset: message.offset,
      });
      return;
    }
    let definition: SagaDefinition;
    try {
      // Without a state the event is a begin (checked above): it starts on the version it names.
      const begin = inbox as Extract<InboxEvent, { type: 'begin' }>;
      definition =
        state !== undefined
          ? registry.get(state.saga, state.version, sagaId)
          : registry.forBegin(begin.saga, begin.version, sagaId);
    } catch (error) {
      logger.error('Skipping an inbox record for an unknown saga.', { sagaId, event: inbox.type, error });
      return;
    }
    if (state !== undefined) breakers.observe(definition, state, inbox);
    const event: SagaEvent = inbox.type === 'begin' ? { type: 'begin', sagaId, input: inbox.input } : inbox;
    const env = { now: Date.now(), circuitOpen: breakers.isOpen };
    // A command the broker would refuse for good would abort the transaction of every saga in
    // this batch, again each time it is read: it is this saga's failure instead (parked, needing
    // attention). Before a topic is found unfit it is looked at again (TopicCatalog.recheck).
    const commands = new Map<SagaEffect, { readonly topic: string; readonly value: Buffer }>();
    const suspects = new Set<string>();
    const undeliverable = (effect: Extract<SagaEffect, { type: 'send-command' }>): StepError | undefined => {
      if (http.has(effect.participant)) return undefined;
      let record = commands.get(effect);
      if (record === undefined) {
        const { type: _type, ...command } = effect;
        const value = encodeCommand({ ...command, saga: definition.name, replyTo: topics.inbox });
        record = { topic: topics.commands(effect.participant), value };
        commands.set(effect, record);
      }
      const problem = catalog.problem(record.topic, record.value.length + Buffer.byteLength(sagaId));
      if (problem === undefined) return undefined;
      suspects.add(record.topic);
      return {
        type: 'CommandUndeliverable',
        message: `The ${effect.phase} command of step ${effect.step} cannot be sent: ${problem}.`,
        nonRetryable: true,
      };
    };
    let decision = decideDelivering(definition, state, event, env, undeliverable);
    if (suspects.size > 0) {
      // An operator's retry comes after a fix: look again whatever the last look's age.
      await recheck([...suspects], inbox.type === 'operator');
      decision = decideDelivering(definition, state, event, env, undeliverable);
    }
    if (!decision.applied) {
      logger.debug('Event not applied.', { sagaId, event: inbox.type, reason: decision.ignored });
      if (inbox.type === 'begin' && state !== undefined) {
        // A second begin: its caller waits for a state to compare with; it gets the current one.
        context.send(stateRecord(state, partition));
        context.afterCommit(() => offer(state));
      }
      return;
    }
    const logged = encodeState(decision.state);
    const loggedBytes = logged.length + Buffer.byteLength(sagaId);
    if (catalog.problem(topics.log, loggedBytes) !== undefined) await recheck([topics.log], false);
    const unloggable = catalog.problem(topics.log, loggedBytes);
    if (unloggable !== undefined) {
      // Without its state logged a saga cannot move: the event is dropped, not the partition.
      logger.error('Skipping an inbox event: the saga state it leads to cannot be logged.', {
        sagaId,
        event: inbox.type,
        problem: unloggable,
      });
      return;
    }
    const finishing = terminalStatuses.has(decision.state.status);
    if (finishing) {
      entry.states.delete(sagaId);
      if (retentionMs > 0) {
        entry.finished.set(fingerprintOf(sagaId), decision.state.updatedAt);
        remember(entry.recent, decision.state);
      }
    } else {
      entry.states.set(sagaId, decision.state);
    }
    context.send(stateRecord(decision.state, partition, logged));
    // Retained for 0 ms: tombstoned in the transition that finishes it.
    if (finishing && retentionMs === 0)
      context.send({ topic: topics.log, key: sagaId, value: null, partition });
    for (const effect of decision.effects) {
      if (effect.type !== 'send-command' || http.has(effect.participant)) continue;
      const record = commands.get(effect);
      const { type: _type, ...command } = effect;
      context.send({
        topic: record?.topic ?? topics.commands(effect.participant),
        key: sagaId,
        value:
          record?.value ?? encodeCommand({ ...command, saga: decision.state.saga, replyTo: topics.inbox }),
      });
    }
    // Timers, local steps, HTTP calls and notifications follow the recorded decision, never
    // precede it: if the transaction aborts, the batch is decided again.
    context.afterCommit(() => {
      offer(decision.state);
      // Tombstoned in this transaction: nothing of it is kept, not even for a begin's comparison.
      if (finishing && retentionMs === 0) unfollow(sagaId);
      afterTransition(decision.state, decision.effects, partition);
    });
  };

  /** The coordinator's member id in its group when it was last assigned partitions. */
  let memberAtLastAssignment: string | undefined;
  const consumer: Consumer = createConsumer({
    kafka: options.kafka,
    groupId,
    fromBeginning: true,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    partitionsConsumedConcurrently: options.partitionsConcurrently ?? 4,
    eos: { transactionalIdPrefix: groupId, producer: { maxBlockMs: transactionMaxBlockMs } },
    logger,
    onPartitionsAssigned: (partitions) => {
      const assigned = new Set(partitions.filter((p) => p.topic === topics.inbox).map((p) => p.partition));
      // Revoked partitions that went to another member are forgotten.
      for (const partition of suspended.keys()) if (!assigned.has(partition)) suspended.delete(partition);
      assignedNow.clear();
      for (const partition of assigned) assignedNow.add(partition);
      // The same member id as at the last assignment: this member stayed in the group, so a
      // partition it still holds was nobody else's meanwhile.
      const stayed = consumer.memberId !== undefined && consumer.memberId === memberAtLastAssignment;
      memberAtLastAssignment = consumer.memberId;
      for (const partition of assigned) {
        const held = owned.get(partition);
        if (held !== undefined) {
          // Still held: the rebalance's revocation came too late (a group that rebalanced with no
          // batch in flight) or never (the member was out of the group). Kept when the member
          // stayed in the group and memory holds nothing uncommitted; else read again.
          if (stayed && held.lastOffset === held.committedThrough) continue;
          logger.info('A partition stayed assigned through a rebalance not seen in time; reading it whole.', {
            partition,
          });
          for (const sagaId of held.states.keys()) timers.clear(sagaId);
          owned.delete(partition);
        }
        bump(partition);
        // In the background, tried again until it succeeds: a quiet partition's sagas wait on
        // their timers, which only a restore sets.
        const assignment = new AbortController();
        assignments.get(partition)?.abort();
        assignments.set(partition, assignment);
        restoreForRecord(partition, assignment.signal).catch((error: unknown) => {
          if (!assignment.signal.aborted && !calls.signal.aborted)
            logger.warn('Restoring sagas failed; retried on the next record.', { partition, error });
        });
      }
    },
    onPartitionsRevoked: async (partitions) => {
      const kept: Promise<void>[] = [];
      for (const { topic, partition } of partitions) {
        if (topic !== topics.inbox) continue;
        assignedNow.delete(partition);
        bump(partition);
        assignments.get(partition)?.abort();
        assignments.delete(partition);
        const entry = owned.get(partition);
        owned.delete(partition);
        if (entry === undefined) continue;
        for (const sagaId of entry.states.keys()) timers.clear(sagaId);
        // Kept, should the partition come back, only when memory holds nothing uncommitted.
        if (restoring.has(partition) || entry.lastOffset !== entry.committedThrough) {
          logger.info(
            'A revoked partition is not kept (it holds what did not commit); read whole if it comes back.',
            {
              partition,
            },
          );
          continue;
        }
        kept.push(
          log
            .mark(partition)
            .then((position) => {
              suspended.set(partition, { entry, position });
            })
            .catch((error: unknown) =>
              logger.debug(
                'Could not mark a revoked partition in the log; it is read whole if it comes back.',
                {
                  partition,
                  error,
                },
              ),
            ),
        );
      }
      await Promise.all(kept);
    },
  });
  // A null value means nothing in the inbox: committed without the handler.
  consumer.subscribe({
    topic: topics.inbox,
    value: bytes(),
    tombstones: 'skip',
    dlt: false,
    handler: handle,
  });

  /** The latest state this coordinator holds of a saga of its own partitions, if any. */
  const held = (sagaId: string): SagaState | undefined => {
    const entry = partitionCount === 0 ? undefined : owned.get(partitionFor(sagaId));
    return entry?.states.get(sagaId) ?? entry?.recent.get(sagaId);
  };
  /** The latest status this coordinator knows of a saga without reading the log, if any. */
  const knownStatus = (sagaId: string): SagaStatus | undefined => {
    const mine = held(sagaId);
    const follow = followed.get(sagaId)?.latest;
    if (mine === undefined) return follow?.status;
    return follow !== undefined && follow.seq > mine.seq ? follow.status : mine.status;
  };

  /** Finds finished sagas of `partition` past their retention and sends each an `expire` event. */
  const sweeping = new Set<number>();
  const sweep = async (partition: number): Promise<void> => {
    const entry = owned.get(partition);
    if (entry === undefined || sweeping.has(partition) || entry.finished.size === 0) return;
    sweeping.add(partition);
    try {
      const cutoff = Date.now() - retentionMs;
      const end = (await log.ends()).get(partition) ?? 0n;
      const due: { readonly sagaId: string; readonly finishedAt: number }[] = [];
      let resumeAt: bigint | undefined;
      const reached = await log.read(
        partition,
        entry.sweepFrom,
        end,
        (record): boolean => {
          if (record.value === null) return true;
          let { status, updatedAt } = record;
          if (status === undefined || updatedAt === undefined) {
            const state = log.decode(record, partition);
            if (state === undefined) return true;
            ({ status, updatedAt } = state);
          }
          if (!terminalStatuses.has(status)) return true;
          // The log is in the order sagas finished: the first one not yet due ends the sweep.
          if (updatedAt > cutoff || due.length >= sweepBatch) {
            resumeAt = record.offset;
            return false;
          }
          if (entry.states.has(record.key)) return true;
          if (entry.finished.get(fingerprintOf(record.key)) !== updatedAt) return true;
          due.push({ sagaId: record.key, finishedAt: updatedAt });
          return true;
        },
        calls.signal,
        undefined,
        // Never a waiting fetch: it would hold up the restores sharing this reader.
        0,
      );
      await Promise.all(
        due.map(({ sagaId, finishedAt }) => toInbox(sagaId, { type: 'expire', finishedAt }, partition)),
      );
      if (owned.get(partition) === entry) entry.sweepFrom = resumeAt ?? reached;
      if (due.length > 0)
        logger.debug('Finished sagas past their retention tombstoned.', { partition, sagas: due.length });
    } finally {
      sweeping.delete(partition);
    }
  };
  const sweepEveryMs = Math.min(Math.max(Math.floor(retentionMs / 10), 1_000), 60_000);
  let lastSweepAt = 0;
  const housekeep = (): void => {
    const now = Date.now();
    for (const [sagaId, follow] of followed) {
      if (follow.finishedAt !== undefined && now - follow.finishedAt > followedLingerMs) unfollow(sagaId);
    }
    if (retentionMs === 0 || now - lastSweepAt < sweepEveryMs) return;
    lastSweepAt = now;
    for (const partition of owned.keys()) {
      if (restoring.has(partition)) continue;
      sweep(partition).catch((error: unknown) => {
        if (!calls.signal.aborted)
          logger.warn('Sweeping finished sagas failed; tried again later.', { partition, error });
      });
    }
  };
  let housekeeping: NodeJS.Timeout | undefined;

  const coordinator: SagaCoordinator = {
    start: () =>
      lifecycle.start(async () => {
        await catalog.refresh();
        const missing = [...kafkaParticipants]
          .map((participant) => ({ participant, topic: topics.commands(participant) }))
          .filter(({ topic }) => catalog.missing([topic]).length > 0);
        if (missing.length > 0) throw new MissingCommandTopicsError(missing);
        await producer.start();
        await log.start();
        // The log has the inbox's partition count (ensureSagaTopics checks): a saga id hashes
        // to the same partition of both.
        partitionCount = (await log.partitions()).length;
        await consumer.start();
        housekeeping = setInterval(housekeep, Math.min(sweepEveryMs, 10_000));
        housekeeping.unref();
      }),
    async begin(saga, input, beginOptions) {
      lifecycle.assertUsable('begin a saga');
      const { name, version } = saga as unknown as SagaDefinition;
      // Exactly this version, or an UnknownSagaError listing those registered; nothing written.
      registry.get(name, version);
      const sagaId = requireNonEmptyString('options.sagaId', beginOptions?.sagaId ?? randomUUID());
      const signal = beginOptions?.signal;
      throwIfAborted(signal, `begin saga ${sagaId}`);
      const begun = (state: SagaState): string => {
        const conflict = beginConflict(state, name, input);
        if (conflict !== undefined) throw new SagaConflictError(sagaId, state.saga, conflict);
        return sagaId;
      };
      const known = held(sagaId);
      if (known !== undefined) return begun(known);
      // Follow the saga's log partition before writing, so its first committed state cannot be
      // missed, whoever owns it. It is the state of whichever begin of this id the inbox holds
      // first: ours, or one racing it (a second begin is answered with the saga's state).
      const partition = partitionFor(sagaId);
      let follow = followed.get(sagaId);
      const mine = follow === undefined;
      if (follow === undefined) {
        let release: () => void;
        try {
          release = await tail.follow(partition, signal);
        } catch (error) {
          if (signal?.aborted) throw new AbortedError(`begin saga ${sagaId}`, { cause: signal.reason });
          lifecycle.assertUsable('begin a saga');
          throw error;
        }
        follow = followed.get(sagaId);
        if (follow === undefined) {
          follow = { latest: undefined, release, finishedAt: undefined };
          followed.set(sagaId, follow);
        } else release();
      }
      // Written and watched at once: an abort or a stop() while writing rejects at once.
      const watch = waiters.watch(sagaId, (state) => state, `begin saga ${sagaId}`, signal);
      try {
        const [, first] = await Promise.all([
          toInbox(sagaId, { type: 'begin', saga: name, version, input }),
          watch.promise,
        ]);
        return begun(first);
      } catch (error) {
        if (mine) unfollow(sagaId);
        throw error;
      } finally {
        watch.detach();
      }
    },
    result(sagaId, resultOptions) {
      const signal = resultOptions?.signal;
      const operation = `wait for the result of saga ${sagaId}`;
      const known = signal?.aborted ? undefined : knownStatus(sagaId);
      if (known !== undefined && outcomes.has(known)) return Promise.resolve(known as SagaOutcome);
      const outcome = (state: SagaState) =>
        outcomes.has(state.status) ? (state.status as SagaOutcome) : undefined;
      const watch = waiters.watch(sagaId, outcome, operation, signal);
      if (followed.has(sagaId) || partitionCount === 0) return watch.promise;
      // Not followed: follow its partition while waiting, and read its state once.
      void (async () => {
        const partition = partitionFor(sagaId);
        const release = await tail.follow(partition, signal);
        watch.promise.finally(release).catch(() => undefined);
        const state =
          held(sagaId) ??
          (await log.lookup(partition, sagaId, {
            timeoutMs: restoreTimeoutMs,
            ...(signal === undefined ? {} : { signal }),
          }));
        if (state !== undefined) offer(state);
      })().catch((error: unknown) => {
        if (!signal?.aborted && !calls.signal.aborted)
          logger.warn('Reading a saga for result() failed; waiting for its next state.', { sagaId, error });
      });
      return watch.promise;
    },
    async status(sagaId) {
      requireNonEmptyString('sagaId', sagaId);
      if (partitionCount === 0)
        throw new StateError('read a saga status', 'the coordinator has not started.');
      const partition = partitionFor(sagaId);
      const entry = owned.get(partition);
      if (entry !== undefined && !restoring.has(partition)) {
        const mine = entry.states.get(sagaId) ?? entry.recent.get(sagaId);
        if (mine !== undefined) return mine;
        // Neither running nor finished here: not in the log (or not yet).
        if (!entry.finished.has(fingerprintOf(sagaId))) return undefined;
      }
      return log.lookup(partition, sagaId, { timeoutMs: restoreTimeoutMs });
    },
    list: (query) => listSagas(log, query ?? {}, restoreTimeoutMs),
    partitions: () =>
      [...owned]
        .map(([partition, entry]) => ({ partition, live: entry.states.size, finished: entry.finished.size }))
        .sort((a, b) => a.partition - b.partition),
    async resolve(sagaId, action, details) {
      lifecycle.assertUsable('resolve a saga');
      // Everything is checked before the inbox is written: a refused request leaves no record.
      const state = await coordinator.status(requireNonEmptyString('sagaId', sagaId));
      if (state === undefined) throw new SagaNotFoundError(sagaId, `resolve saga ${sagaId}`);
      const request = checkOperatorRequest(state, action, details);
      await toInbox(sagaId, { type: 'operator', ...request });
    },
    onNotification: (listener) => observer.subscribe(listener),
    events: (signal) => observer.events(signal),
    metrics: () => observer.metrics(),
    get state() {
      return lifecycle.state;
    },
    stop: () => coordinator.close(),
    close: () =>
      lifecycle.close(async () => {
        calls.abort(new Error('The saga coordinator is stopping.'));
        clearInterval(housekeeping);
        timers.clearAll();
        breakers.shutdown();
        tail.close();
        for (const sagaId of [...followed.keys()]) unfollow(sagaId);
        await consumer.stop();
        await Promise.all([log.stop(), tailLog.stop()]);
        await producer.close();
      }),
    [Symbol.asyncDispose]: () => coordinator.close(),
  };
  return coordinator;
}
