/**
 * `createConsumer()`: a typed Kafka consumer with manual commits after processing, partition and
 * key concurrency, back-pressure, retries, retry topics and dead letters, over the transport of
 * its connection config (`@cascade/transport`; kafkajs by default).
 * @module
 */

import { delay, Lifecycle, type LifecycleState, type Logger, StateError } from '@cascade/core';
import { transportClientOf } from '@cascade/producer/internal';
import {
  type FetchedBatchPayload,
  isTransportError,
  type TopicAssignment,
  type TransportClient,
  type TransportConsumer,
  type TransportError,
} from '@cascade/transport';
import { subscriptionsOf } from './decorators.js';
import { ConsumerCrashedError, MissingTopicsError, toConsumerError } from './errors.js';
import { runBatch, waitOrAbandon } from './internal/batch-runner.js';
import { Committer } from './internal/committer.js';
import { createTransactionalOutputs, runEosBatch, type TransactionalOutputs } from './internal/eos-runner.js';
import { InFlightLimit } from './internal/in-flight.js';
import { newPartitionState, type PartitionState, partitionKey } from './internal/partition-state.js';
import { createPublisher, type Publisher } from './internal/publisher.js';
import { RecordProcessor, type Signals, type Source } from './internal/record-processor.js';
import { type ResolvedSubscription, resolveSubscription } from './internal/subscription.js';
import { resolveSources } from './internal/topics.js';
import { type ConsumerOptions, type ResolvedConsumerOptions, resolveConsumerOptions } from './options.js';
import type { SubscriptionOptions, TombstoneMode, TopicPartition } from './types.js';

/** Counters for observing a running consumer. */
export interface ConsumerStats {
  /** Records handed to handlers and not yet finished. */
  readonly inFlight: number;
  /** The most records ever in flight at once. */
  readonly peakInFlight: number;
  /** Whether dispatching is waiting for room (back-pressure). */
  readonly paused: boolean;
  /** Partitions assigned to this member now. */
  readonly assigned: readonly TopicPartition[];
}

interface Generation {
  readonly dispatch: AbortController;
  readonly abandon: AbortController;
}

/**
 * A Cascade consumer. Subscribe before `start()`; `close()` (or `await using`) drains and leaves.
 *
 * @example
 * ```ts
 * await using consumer = createConsumer({ kafka: { brokers }, groupId: 'billing' });
 * consumer.subscribe({ topic: 'orders', value: json<Order>(), handler: async (msg) => bill(msg.value) });
 * await consumer.start();
 * ```
 */
export class Consumer {
  readonly #options: ResolvedConsumerOptions;
  readonly #logger: Logger;
  #lifecycle = new Lifecycle('consumer');
  /** The last start failed (and nothing closed the consumer since): the next start tries again. */
  #startFailed = false;
  readonly #subscriptions: ResolvedSubscription[] = [];
  readonly #sources = new Map<string, Source>();
  #states = new Map<string, PartitionState>();
  #assigned: TopicPartition[] = [];
  #memberId: string | undefined;
  readonly #client: TransportClient;
  #consumer: TransportConsumer | undefined;
  readonly #publisher: Publisher;
  readonly #processor: RecordProcessor;
  readonly #inFlight: InFlightLimit;
  #generation: Generation = { dispatch: new AbortController(), abandon: new AbortController() };
  #heartbeat: (() => Promise<void>) | undefined;
  /** Settles when the hooks of the latest assignment have run. */
  #ready: Promise<void> = Promise.resolve();
  #readyPending = false;
  /** The revocation in progress (drain, commit, onPartitionsRevoked) after a rebalance was seen. */
  #revoking: Promise<void> | undefined;
  #revokedNotified = false;
  #timers: NodeJS.Timeout[] = [];
  readonly #resumeTimers = new Set<NodeJS.Timeout>();
  readonly #committer: Committer;
  #eos: TransactionalOutputs | undefined;

  constructor(options: ConsumerOptions) {
    this.#options = resolveConsumerOptions(options);
    this.#logger = this.#options.logger.child({ groupId: this.#options.groupId });
    this.#client = transportClientOf(this.#options.kafka);
    this.#publisher = createPublisher(this.#options.kafka);
    this.#inFlight = new InFlightLimit(this.#options.maxInFlight, (paused) =>
      this.#logger.debug(paused ? 'In-flight bound reached: fetching paused.' : 'Drained: fetching resumed.'),
    );
    this.#committer = new Committer({
      groupId: this.#options.groupId,
      logger: this.#logger,
      interceptors: this.#options.interceptors,
      states: () => this.#states.values(),
      commitOffsets: () => {
        const consumer = this.#consumer;
        if (consumer === undefined || this.#eos !== undefined) return undefined;
        return (offsets) => consumer.commitOffsets(offsets);
      },
    });
    this.#processor = new RecordProcessor({
      groupId: this.#options.groupId,
      logger: this.#logger,
      handlerTimeoutMs: this.#options.handlerTimeoutMs,
      interceptors: this.#options.interceptors,
      publisher: this.#publisher,
      onError: (error) => this.#report(error),
      timestampTypeOf: (record) => this.#consumer?.timestampTypeOf(record) ?? 'CreateTime',
    });
  }

  /** `idle`, `connecting`, `running`, `stopping`, `stopped` or `failed`. */
  get state(): LifecycleState {
    return this.#lifecycle.state;
  }

  /** The group id. */
  get groupId(): string {
    return this.#options.groupId;
  }

  /**
   * This member's id in its group, from its last join (`undefined` before the first). The same
   * id across two joins means the member stayed in the group in between, so a partition it had
   * in both assignments was nobody else's meanwhile.
   */
  get memberId(): string | undefined {
    return this.#memberId;
  }

  /** Live counters. */
  stats(): ConsumerStats {
    return {
      inFlight: this.#inFlight.count,
      peakInFlight: this.#inFlight.peak,
      paused: this.#inFlight.paused,
      assigned: [...this.#assigned],
    };
  }

  /**
   * Adds a subscription. Call before {@link start}. `K` and `V` come from the serdes.
   * @throws ConfigError when the options are wrong, ClosedError after stop.
   */
  subscribe<V, K = string, T extends TombstoneMode = 'handle'>(options: SubscriptionOptions<K, V, T>): this {
    this.#lifecycle.assertUsable('subscribe');
    if (this.#lifecycle.state !== 'idle') {
      throw new StateError('subscribe', 'subscribe() must be called before start().');
    }
    this.#subscriptions.push(
      resolveSubscription(options, this.#subscriptions.length, { eos: this.#options.eos !== undefined }),
    );
    return this;
  }

  /**
   * Subscribes every `@Subscribe` method of a `@Handler` class instance. Call before {@link start}.
   * @throws DecoratorError when the instance's class is not decorated.
   */
  register(instance: object): this {
    for (const subscription of subscriptionsOf(instance)) this.subscribe(subscription);
    return this;
  }

  /**
   * Joins the group and starts consuming. Resolves once this member has its first assignment.
   * @throws MissingTopicsError when a subscribed topic or retry topic does not exist.
   * @throws ConsumerKafkaError when the cluster cannot be reached, refuses the member (SASL,
   * authorization) or the client fails otherwise; its `retriable` says whether a new attempt may
   * succeed.
   * @throws ConsumerCrashedError when the client crashes before the first assignment and does
   * not restart.
   */
  start(): Promise<void> {
    // A failed start is not the end: start() tries again, with a fresh lifecycle.
    if (this.#startFailed && this.#lifecycle.state === 'failed') {
      this.#lifecycle = new Lifecycle('consumer');
      this.#startFailed = false;
    }
    return this.#lifecycle.start(async () => {
      try {
        await this.#start();
      } catch (error) {
        await this.#releaseFailedStart();
        this.#startFailed = true;
        throw isTransportError(error) ? toConsumerError(error, 'start', { groupId: this.groupId }) : error;
      }
    });
  }

  /** What a failed start leaves behind: its client connection, timers and EOS producers. */
  async #releaseFailedStart(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#sources.clear();
    await consumer?.disconnect().catch(() => undefined);
    await this.#eos?.close().catch(() => undefined);
    this.#eos = undefined;
  }

  /**
   * Stops fetching, waits up to `stopTimeoutMs` for in-flight handlers (then abandons them:
   * their records stay uncommitted), commits, and leaves the group. Idempotent. Calls after it
   * throw `ClosedError`.
   */
  close(): Promise<void> {
    this.#startFailed = false;
    return this.#lifecycle.close(async () => {
      try {
        await this.#stop();
      } catch (error) {
        throw isTransportError(error) ? toConsumerError(error, 'stop', { groupId: this.groupId }) : error;
      }
    });
  }

  /** @deprecated Renamed {@link Consumer.close}: every Cascade client ends with `close()`. */
  stop(): Promise<void> {
    return this.close();
  }

  /** Same as {@link close}: `await using consumer = createConsumer(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Moves the position of an assigned partition: the next record handled is at `offset`. Pass
   * `{ timestamp }` to replay from the first record at or after that time (epoch ms).
   * @throws ConsumerKafkaError when the offsets cannot be read or the client refuses the seek.
   */
  async seek(target: TopicPartition & ({ offset: string } | { timestamp: number })): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) throw new StateError('seek', 'seek() needs a started consumer.');
    try {
      let offset: string;
      if ('offset' in target) offset = target.offset;
      else {
        const admin = this.#client.admin();
        await admin.connect();
        try {
          const found = await admin.fetchTopicOffsetsByTimestamp(target.topic, target.timestamp);
          offset = found.find((p) => p.partition === target.partition)?.offset ?? '-1';
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      }
      consumer.seek({ topic: target.topic, partition: target.partition, offset });
    } catch (error) {
      throw toConsumerError(error, 'seek', { groupId: this.groupId, topic: target.topic });
    }
  }

  async #start(): Promise<void> {
    if (this.#subscriptions.length === 0)
      throw new StateError('start', 'start() needs at least one subscribe() first.');
    await this.#resolveTopics();
    const opts = this.#options;
    const consumer = this.#client.consumer({
      groupId: opts.groupId,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      rebalanceTimeoutMs: opts.rebalanceTimeoutMs,
      fetchMaxWaitMs: opts.fetchMaxWaitMs,
      maxBytesPerPartition: opts.maxBytesPerPartition,
      maxBytes: opts.maxBytes,
      metadataMaxAgeMs: opts.metadataMaxAgeMs,
      readCommitted: true,
      ...(opts.rackId === undefined ? {} : { rackId: opts.rackId }),
      ...(opts.assignors === undefined ? {} : { assignors: opts.assignors }),
    });
    this.#consumer = consumer;
    if (opts.eos !== undefined) {
      this.#eos = createTransactionalOutputs(this.#client, opts.kafka, opts.groupId, opts.eos, this.#logger);
    }
    // Crashes since the last group join: a first crash on a routine start-up state is expected.
    let crashes = 0;
    let joinedOnce = false;
    let resolveJoined: () => void = () => undefined;
    let rejectJoined: (error: Error) => void = () => undefined;
    const joined = new Promise<void>((resolve, reject) => {
      resolveJoined = resolve;
      rejectJoined = reject;
    });
    // Awaited below; a crash before then must not count as an unhandled rejection meanwhile.
    joined.catch(() => undefined);
    const onJoin = (assignment: TopicAssignment, memberId: string): void => {
      crashes = 0;
      this.#memberId = memberId;
      this.#ready = this.#onJoin(assignment);
      void this.#ready.then(resolveJoined, resolveJoined);
    };
    const onCrash = (cause: TransportError, restart: boolean): void => {
      crashes++;
      if (restart) {
        // The one log line of a crash (the transport keeps the client's own at debug).
        const level = crashes === 1 && isStartupState(cause) ? 'debug' : 'warn';
        this.#logger[level]('The Kafka consumer crashed on a retriable error and restarts.', {
          error: cause,
          crashes,
        });
        return;
      }
      const error = new ConsumerCrashedError(opts.groupId, { cause });
      this.#logger.error(error.message, { error: cause });
      this.#report(error);
      rejectJoined(error);
      // Before the first assignment the start fails with it (and a later start() tries again).
      if (!joinedOnce) return;
      // It will not restart: release everything and end in the `failed` state.
      void this.#lifecycle
        .close(async () => {
          await this.#stop().catch(() => undefined);
          throw error;
        })
        .catch(() => undefined);
    };
    await consumer.connect();
    await consumer.subscribe([...this.#sources.keys()], opts.fromBeginning);
    await consumer.run({
      partitionsConcurrently: opts.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
      events: { onJoin, onRebalancing: () => this.#onRebalancing(), onCrash },
    });
    this.#timers.push(
      setInterval(() => void this.#beat(), opts.heartbeatIntervalMs),
      setInterval(() => void this.commit().catch(() => undefined), opts.commitIntervalMs),
    );
    await joined;
    joinedOnce = true;
    this.#logger.info('Consumer started', {
      topics: [...this.#sources.keys()],
      assigned: this.#assigned.length,
    });
  }

  async #resolveTopics(): Promise<void> {
    const admin = this.#client.admin();
    await admin.connect();
    let sources: ReturnType<typeof resolveSources>;
    try {
      // A topic created a moment ago may not be known yet to the broker asked (on a cluster of
      // several, metadata takes a moment to spread): asked again for about 2.5 s before a
      // subscribed topic counts as missing.
      for (let attempt = 1; ; attempt++) {
        const existing = new Set(await admin.listTopics());
        try {
          sources = resolveSources(this.#subscriptions, existing, this.#logger);
          break;
        } catch (error) {
          if (!(error instanceof MissingTopicsError) || attempt >= 6) throw error;
          await delay(Math.min(100 * 2 ** (attempt - 1), 1_000));
        }
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    for (const [topic, source] of sources) this.#sources.set(topic, source);
  }

  async #eachBatch(payload: FetchedBatchPayload): Promise<void> {
    this.#heartbeat = payload.heartbeat;
    // Records of a new assignment wait for its hooks (onPartitionsAssigned may rebuild state).
    if (this.#readyPending) await this.#ready;
    const host = {
      logger: this.#logger,
      inFlight: this.#inFlight,
      processor: this.#processor,
      state: (topic: string, partition: number) => this.#stateOf(topic, partition),
      signals: (): Signals => ({
        dispatch: this.#generation.dispatch.signal,
        abandon: this.#generation.abandon.signal,
      }),
      commit: () => this.commit(),
      commitsFailing: () => this.#committer.failing,
      useHeartbeat: (heartbeat: () => Promise<void>) => {
        this.#heartbeat = heartbeat;
      },
      resumeLater: (resume: () => void, ms: number) => {
        const timer = setTimeout(() => {
          this.#resumeTimers.delete(timer);
          resume();
        }, ms);
        this.#resumeTimers.add(timer);
      },
      seek: (topic: string, partition: number, offset: string) => {
        this.#consumer?.seek({ topic, partition, offset });
      },
    };
    if (this.#eos !== undefined) {
      await runEosBatch(host, this.#eos, payload, this.#options.groupId);
    } else {
      await runBatch(host, payload);
    }
    if (this.#generation.dispatch.signal.aborted && this.#revoking !== undefined) await this.#revoking;
  }

  #stateOf(topic: string, partition: number): PartitionState | undefined {
    const key = partitionKey(topic, partition);
    let state = this.#states.get(key);
    if (state === undefined) {
      const source = this.#sources.get(topic);
      if (source === undefined) return undefined;
      state = newPartitionState({ ...source, partition });
      this.#states.set(key, state);
    }
    return state;
  }

  /** Heartbeats while handlers run; a rebalance seen here starts draining. */
  async #beat(): Promise<void> {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined || (this.#inFlight.count === 0 && !this.#readyPending)) return;
    try {
      await heartbeat();
    } catch (error) {
      if (isTransportError(error) && error.kafkaType !== undefined && rebalanceSignals.has(error.kafkaType)) {
        this.#onRebalancing();
      } else {
        this.#logger.debug('Heartbeat failed.', { error });
      }
    }
  }

  /** The group is rebalancing: stop dispatching, give in-flight work until the deadline. */
  #onRebalancing(): void {
    const generation = this.#generation;
    if (generation.dispatch.signal.aborted) return;
    this.#logger.info('Group rebalancing: finishing in-flight records before rejoining.');
    generation.dispatch.abort();
    const timer = setTimeout(
      () => generation.abandon.abort(),
      Math.floor(this.#options.rebalanceTimeoutMs / 2),
    );
    timer.unref();
    // Once in-flight records finished (or were abandoned): commit, then tell the application its
    // partitions are revoked. Batches wait for this before returning, so the client rejoins after it.
    const revoking = [...this.#assigned];
    this.#revoking = (async () => {
      await this.#drained(generation.abandon.signal);
      // A commit is worth its wait only until the deadline: a broker that is restarting can keep
      // it retrying for minutes, and the group waits on us meanwhile. Past the deadline the
      // records are simply read again (at least once).
      await waitOrAbandon(
        this.commit().catch(() => undefined),
        generation.abandon.signal,
      );
      // Too late when the group already moved on (the join reports the revocation then).
      if (this.#generation !== generation) return;
      if (revoking.length > 0) await this.#hook('onPartitionsRevoked', revoking);
      this.#revokedNotified = true;
    })();
  }

  async #onJoin(memberAssignment: TopicAssignment): Promise<void> {
    const next: TopicPartition[] = Object.entries(memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    const nextKeys = new Set(next.map((tp) => partitionKey(tp.topic, tp.partition)));
    const revoked = this.#assigned.filter((tp) => !nextKeys.has(partitionKey(tp.topic, tp.partition)));
    this.#assigned = next;
    this.#states = new Map();
    this.#generation.abandon.abort();
    this.#generation = { dispatch: new AbortController(), abandon: new AbortController() };
    const revoking = this.#revoking;
    this.#readyPending = true;
    try {
      // A revocation still in its hook (the rebalance was seen, the hook is slow) ends first:
      // the application's hooks never overlap, and a partition's revocation always comes
      // before its next assignment.
      await revoking?.catch(() => undefined);
      const revokedNotified = this.#revokedNotified;
      this.#revokedNotified = false;
      if (this.#revoking === revoking) this.#revoking = undefined;
      await this.#eos?.onAssigned(next);
      // Skipped when the rebalance was seen in time and the hook already ran before the rejoin.
      if (revoked.length > 0 && !revokedNotified) await this.#hook('onPartitionsRevoked', revoked);
      await this.#hook('onPartitionsAssigned', next);
    } finally {
      this.#readyPending = false;
    }
  }

  async #hook(
    name: 'onPartitionsAssigned' | 'onPartitionsRevoked',
    partitions: TopicPartition[],
  ): Promise<void> {
    try {
      await this.#options[name]?.(partitions);
    } catch (error) {
      this.#logger.error(`${name} threw; ignored.`, { error });
    }
  }

  /** Commits every partition's finished offsets (up to its lowest unfinished offset). */
  commit(): Promise<void> {
    return this.#committer.commit();
  }

  async #stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    for (const timer of this.#resumeTimers) clearTimeout(timer);
    this.#resumeTimers.clear();
    const generation = this.#generation;
    generation.dispatch.abort();
    const consumer = this.#consumer;
    if (consumer !== undefined) {
      const deadline = setTimeout(() => generation.abandon.abort(), this.#options.stopTimeoutMs);
      // Keep heartbeating while handlers drain.
      const beat = setInterval(() => void this.#beat(), this.#options.heartbeatIntervalMs);
      try {
        await this.#drained(generation.abandon.signal);
        await this.commit().catch(() => undefined);
        await consumer.stop();
        await this.commit().catch(() => undefined);
        await this.#hook('onPartitionsRevoked', this.#assigned);
      } finally {
        clearTimeout(deadline);
        clearInterval(beat);
        generation.abandon.abort();
        await consumer.disconnect();
      }
    }
    await this.#eos?.close();
    await this.#publisher.close();
    if (consumer !== undefined) this.#logger.info('Consumer stopped');
  }

  async #drained(abandon: AbortSignal): Promise<void> {
    while (this.#inFlight.count > 0 && !abandon.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          abandon.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, 20);
        abandon.addEventListener('abort', done, { once: true });
      });
    }
  }

  #report(error: Error): void {
    try {
      this.#options.onError?.(error);
    } catch (hookError) {
      this.#logger.warn('onError threw; ignored.', { error: hookError });
    }
  }
}

/** Heartbeat answers that mean the group is rebalancing (or moved on without this member's generation). */
const rebalanceSignals: ReadonlySet<string> = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
]);

/** Broker answers of a cluster (or group) still starting: the coordinator loading or moving, no leader yet. */
const startupStates: ReadonlySet<string> = new Set([
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'LEADER_NOT_AVAILABLE',
  'REBALANCE_IN_PROGRESS',
]);

/**
 * Whether a crash of the transport's consumer comes from a start-up state (the Kafka error name
 * of its {@link TransportError}, or of one in its `cause` chain): the first such crash since a
 * group join is logged at debug, other crashes at warn. @internal
 */
export function isStartupState(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (
      isTransportError(current) &&
      current.kafkaType !== undefined &&
      startupStates.has(current.kafkaType)
    ) {
      return true;
    }
    current = current.cause;
  }
  return false;
}

/**
 * Creates a consumer. Nothing connects until `start()`.
 * @throws ConfigError naming the offending option.
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  return new Consumer(options);
}
