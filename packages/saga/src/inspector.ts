/**
 * A read-only view of the saga log for tools (an operator console, a report, a health check):
 * `status()` and `list()` as a coordinator answers them, without being one. It joins no consumer
 * group and reads no inbox, so it never drives a saga; it reads the log partition by partition
 * and holds nothing between calls.
 * @module
 */

import {
  Lifecycle,
  type LifecycleState,
  type Logger,
  requireDurationMs,
  requireNonEmptyString,
  StateError,
  safeLogger,
} from '@cascade/core';
import { createProducer, type KafkaConfig, murmur2Partition, type Producer } from '@cascade/producer';
import { bytes, string } from '@cascade/schema';
import type { SagaListQuery, SagaPage } from './coordinator.js';
import { listSagas } from './inspect.js';
import { defaultRestoreTimeoutMs, SagaLog } from './log.js';
import type { SagaState } from './state.js';
import { type SagaTopics, sagaTopics } from './topics.js';

/** Options of {@link createSagaInspector}. */
export interface SagaInspectorOptions {
  readonly kafka: KafkaConfig;
  /** The topics, or a prefix for them. @default sagaTopics('cascade') */
  readonly topics?: SagaTopics;
  /** How long one read of a log partition may take. @default 10000 */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

/** A read-only view of the saga log. */
export interface SagaInspector extends AsyncDisposable {
  /** `idle`, `connecting`, `running`, `stopping`, `stopped` or `failed`. */
  readonly state: LifecycleState;
  /** Connects (its reader and the producer of the barriers it writes). */
  start(): Promise<void>;
  /**
   * The latest committed state of a saga, read from its log partition; `undefined` when no saga
   * of this id is in the log (never begun, or finished and past its retention).
   * @throws {SagaRestoreTimeoutError} when the partition could not be read in `timeoutMs`.
   */
  status(sagaId: string): Promise<SagaState | undefined>;
  /** One page of sagas, as {@link SagaCoordinator.list} answers. */
  list(query?: SagaListQuery): Promise<SagaPage>;
  close(): Promise<void>;
}

/**
 * Creates a read-only view of the saga log. It writes only barrier records to the log (to know
 * where "now" is in a partition), which coordinators and compaction pass over.
 *
 * @example
 * ```ts
 * await using inspector = createSagaInspector({ kafka, topics: sagaTopics('shop') });
 * await inspector.start();
 * const { sagas } = await inspector.list({ status: 'needs-attention' });
 * ```
 */
export function createSagaInspector(options: SagaInspectorOptions): SagaInspector {
  const logger = safeLogger(options.logger).child({ component: 'saga-inspector' });
  const topics = options.topics ?? sagaTopics('cascade');
  const timeoutMs = requireDurationMs('timeoutMs', options.timeoutMs ?? defaultRestoreTimeoutMs, 1);
  const lifecycle = new Lifecycle('saga inspector');
  const producer: Producer<string, Buffer> = createProducer({
    ...options.kafka,
    key: string(),
    value: bytes(),
    lingerMs: 2,
  });
  const log = new SagaLog({ kafka: options.kafka, topic: topics.log, producer, logger });
  let partitionCount = 0;
  const assertStarted = (operation: string): void => {
    lifecycle.assertUsable(operation);
    if (partitionCount === 0)
      throw new StateError(operation, 'the inspector has not started: call start() first.');
  };
  const inspector: SagaInspector = {
    get state() {
      return lifecycle.state;
    },
    start: () =>
      lifecycle.start(async () => {
        await producer.start();
        await log.start();
        partitionCount = (await log.partitions()).length;
      }),
    async status(sagaId) {
      assertStarted('read a saga status');
      requireNonEmptyString('sagaId', sagaId);
      const partition = murmur2Partition(Buffer.from(sagaId, 'utf8'), partitionCount);
      return log.lookup(partition, sagaId, { timeoutMs });
    },
    list(query) {
      assertStarted('list sagas');
      return listSagas(log, query ?? {}, timeoutMs);
    },
    close: () =>
      lifecycle.close(async () => {
        await log.stop();
        await producer.close();
      }),
    [Symbol.asyncDispose]: () => inspector.close(),
  };
  return inspector;
}
