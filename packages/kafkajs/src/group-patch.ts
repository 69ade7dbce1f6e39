/**
 * Targeted changes to kafkajs 2.2.4's consumer group, applied once per process when a Cascade
 * consumer is created; each is idempotent and leaves kafkajs as it is (reporting `false`) if its
 * layout changed. Found on a three-node cluster (test/failover/):
 *
 * - {@link patchKafkajsCoordinatorRediscovery}: the group coordinator is looked up again
 *   (FindCoordinator) when it is lost, as the Java client does. kafkajs kept the `Broker` of the
 *   node that was the coordinator at the join: after that node died every offset commit went to
 *   its node id (`Broker 3 not found in the cached metadata`, retried for the whole retry budget,
 *   then again, for minutes), and every heartbeat's connection error tore down all fetchers.
 * - {@link patchKafkajsFetchFailover}: a fetch from a node that cannot be reached is given up for
 *   that node only (its partitions' preferred read replica forgotten, metadata refreshed), not
 *   thrown out of the fetch loop, which stopped the fetchers of every node and backed off; and a
 *   preferred read replica (KIP-392 follower fetching) is used only while it is a known, online
 *   node: kafkajs kept fetching a dead follower's partitions from nowhere, or ignored a follower
 *   that came back, until the preference expired with the metadata (5 minutes by default).
 * @module
 */

import { createRequire } from 'node:module';
import { type ClassShape, hasShape } from './shape.js';

/** A module of kafkajs' own (`kafkajs/src/...`), or undefined if kafkajs' layout changed. */
function loadKafkajsModule<T>(path: string): T | undefined {
  try {
    return createRequire(import.meta.url)(`kafkajs/src/${path}`) as T;
  } catch {
    return undefined;
  }
}

/** A kafkajs error as these patches look at it. */
interface KafkajsErrorLike {
  readonly name?: string;
  readonly type?: string;
  readonly broker?: string;
  readonly host?: string;
  readonly port?: number;
}

/** Protocol errors that say the coordinator moved or is not there. */
const coordinatorErrorTypes = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE']);
/** kafkajs errors of a broker that cannot be reached. */
const unreachableErrorNames = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);

/** Whether `error` is a broker that cannot be reached (a connection failure or an unknown node). */
export function isUnreachable(error: unknown): boolean {
  const e = error as KafkajsErrorLike | null;
  return typeof e?.name === 'string' && unreachableErrorNames.has(e.name);
}

/** Whether `error` says the group coordinator is lost: unreachable, moved or not available. */
export function isCoordinatorLost(error: unknown): boolean {
  const e = error as KafkajsErrorLike | null;
  return isUnreachable(error) || (typeof e?.type === 'string' && coordinatorErrorTypes.has(e.type));
}

interface BrokerLike {
  isConnected(): boolean;
}

interface ClusterLike {
  findGroupCoordinator(args: { groupId: string }): Promise<BrokerLike>;
  refreshMetadata(): Promise<void>;
  getNodeIds(): Array<string | number>;
  findTopicPartitionMetadata(
    topic: string,
  ): Array<{ partitionId: number; leader?: number | null; offlineReplicas?: number[] }>;
  brokerPool?: { metadata?: { brokers?: Array<{ nodeId: number; host: string; port: number }> } };
}

interface OffsetManagerLike {
  cluster: ClusterLike;
  groupId: string;
  coordinator: BrokerLike;
  [lost]?: boolean;
}

interface ConsumerGroupLike {
  cluster: ClusterLike;
  groupId: string;
  coordinator: BrokerLike | null;
  memberId: string | null;
  offsetManager: OffsetManagerLike | null;
  maxWaitTime: number;
  logger: { warn(message: string, meta?: object): void; info(message: string, meta?: object): void };
  preferredReadReplicasPerTopicPartition: Record<
    string,
    Record<number, { nodeId: number; expireAt: number } | undefined> | undefined
  >;
  [rediscovery]?: Promise<void> | undefined;
  [metadataRefresh]?: Promise<void> | undefined;
}

type Proto = Record<string | symbol, unknown>;

const lost = Symbol('cascade.coordinatorLost');
const rediscovery = Symbol('cascade.coordinatorRediscovery');
const metadataRefresh = Symbol('cascade.metadataRefresh');
const coordinatorPatched = Symbol.for('cascade.kafkajs.coordinator-rediscovery-patch');
const fetchPatched = Symbol.for('cascade.kafkajs.fetch-failover-patch');

/** What the patches rely on in kafkajs' `ConsumerGroup`. */
const consumerGroupShape: ClassShape = {
  methods: ['heartbeat', 'recoverFromFetch', 'findReadReplicaForPartitions'],
  fields: [
    'cluster',
    'groupId',
    'coordinator',
    'offsetManager',
    'maxWaitTime',
    'logger',
    'preferredReadReplicasPerTopicPartition',
  ],
};

/** What the coordinator patch relies on in kafkajs' `OffsetManager`. */
const offsetManagerShape: ClassShape = {
  methods: ['getCoordinator', 'commitOffsets', 'resolveOffsets'],
  fields: ['cluster', 'groupId', 'coordinator'],
};

function consumerGroupProto(): Proto | undefined {
  const ConsumerGroup = loadKafkajsModule<{ prototype: Proto }>('consumer/consumerGroup.js');
  return hasShape(ConsumerGroup, consumerGroupShape) ? ConsumerGroup?.prototype : undefined;
}

/**
 * Looks the group's coordinator up again, once at a time per group (concurrent callers share
 * it), and hands it to the offset manager too. Never rejects: a failed lookup is tried again by
 * the next heartbeat or commit.
 */
function rediscoverCoordinator(group: ConsumerGroupLike): Promise<void> {
  group[rediscovery] ??= (async () => {
    try {
      const coordinator = await group.cluster.findGroupCoordinator({ groupId: group.groupId });
      group.coordinator = coordinator;
      if (group.offsetManager !== null) {
        group.offsetManager.coordinator = coordinator;
        group.offsetManager[lost] = false;
      }
    } catch (error) {
      group.logger.warn('Looking up the group coordinator again failed; the next heartbeat retries.', {
        groupId: group.groupId,
        error: (error as Error).message,
      });
    } finally {
      group[rediscovery] = undefined;
    }
  })();
  return group[rediscovery];
}

/**
 * Patches kafkajs' `OffsetManager` and `ConsumerGroup` so a lost group coordinator is looked up
 * again instead of being asked by node id forever:
 *
 * - commits and offset fetches that fail because the coordinator is unreachable or moved
 *   (`NOT_COORDINATOR`, `COORDINATOR_NOT_AVAILABLE`) mark it lost, and the next one runs
 *   FindCoordinator first (kafkajs' `getCoordinator()` re-found the same node id, so every commit
 *   after the coordinator's broker died failed until the member rejoined);
 * - a heartbeat that fails that way starts the lookup in the background and returns, so the
 *   fetch loop that awaits heartbeats goes on (kafkajs threw the connection error out of every
 *   fetcher, stopping all of them). The session timeout still guards the membership: once the
 *   new coordinator answers, a member it dropped is told so (`UNKNOWN_MEMBER_ID`,
 *   `REBALANCE_IN_PROGRESS`) and rejoins as before. A heartbeat answered `NOT_COORDINATOR` by a
 *   reachable old coordinator is retried once against the new one before kafkajs sees it (it
 *   would rejoin the group, a rebalance the Java client does not do for a coordinator move).
 *
 * Idempotent. Returns whether the patch is in place.
 */
export function patchKafkajsCoordinatorRediscovery(): boolean {
  const OffsetManager = loadKafkajsModule<{ prototype: Proto }>('consumer/offsetManager/index.js');
  const offsets = hasShape(OffsetManager, offsetManagerShape) ? OffsetManager?.prototype : undefined;
  const group = consumerGroupProto();
  if (
    offsets === undefined ||
    group === undefined ||
    typeof offsets.getCoordinator !== 'function' ||
    typeof offsets.commitOffsets !== 'function' ||
    typeof offsets.resolveOffsets !== 'function' ||
    typeof group.heartbeat !== 'function'
  ) {
    return false;
  }
  if (offsets[coordinatorPatched] === true) return true;

  Object.defineProperty(offsets, 'getCoordinator', {
    configurable: true,
    writable: true,
    value: async function getCoordinator(this: OffsetManagerLike): Promise<BrokerLike> {
      if (this[lost] === true || !this.coordinator.isConnected()) {
        this.coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
        this[lost] = false;
      }
      return this.coordinator;
    },
  });
  for (const name of ['commitOffsets', 'resolveOffsets'] as const) {
    const original = offsets[name] as (this: OffsetManagerLike, ...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(offsets, name, {
      configurable: true,
      writable: true,
      value: async function markCoordinatorLost(this: OffsetManagerLike, ...args: unknown[]) {
        try {
          return await original.apply(this, args);
        } catch (error) {
          if (isCoordinatorLost(error)) this[lost] = true;
          throw error;
        }
      },
    });
  }

  const heartbeat = group.heartbeat as (this: ConsumerGroupLike, args: unknown) => Promise<unknown>;
  Object.defineProperty(group, 'heartbeat', {
    configurable: true,
    writable: true,
    value: async function heartbeatOrRediscover(this: ConsumerGroupLike, args: unknown): Promise<unknown> {
      const pending = this[rediscovery];
      if (pending !== undefined) return undefined;
      try {
        return await heartbeat.call(this, args);
      } catch (error) {
        if (!isCoordinatorLost(error)) throw error;
        const e = error as KafkajsErrorLike;
        this.logger.info('The group coordinator is lost; looking it up again.', {
          groupId: this.groupId,
          error: (error as Error).message,
        });
        if (e.type === 'NOT_COORDINATOR_FOR_GROUP') {
          await rediscoverCoordinator(this);
          return await heartbeat.call(this, args);
        }
        void rediscoverCoordinator(this);
        return undefined;
      }
    },
  });
  Object.defineProperty(offsets, coordinatorPatched, { value: true });
  return true;
}

/** kafkajs' retriable `KafkaJSError` class (plain `Error` if its layout changed). */
function kafkajsError(): new (message: string, meta: object) => Error {
  return (
    loadKafkajsModule<{ KafkaJSError: new (message: string, meta: object) => Error }>('errors.js')
      ?.KafkaJSError ?? Error
  );
}

/** The node id of the broker at `host:port` in the cluster's metadata. */
function nodeIdOf(cluster: ClusterLike, error: KafkajsErrorLike): number | undefined {
  const address = error.broker ?? (error.host === undefined ? undefined : `${error.host}:${error.port}`);
  if (address === undefined) return undefined;
  return cluster.brokerPool?.metadata?.brokers?.find((b) => `${b.host}:${b.port}` === address)?.nodeId;
}

/** Refreshes the cluster metadata, once at a time per group; never rejects. */
function refreshMetadataOnce(group: ConsumerGroupLike): Promise<void> {
  group[metadataRefresh] ??= group.cluster
    .refreshMetadata()
    .catch(() => undefined)
    .finally(() => {
      group[metadataRefresh] = undefined;
    });
  return group[metadataRefresh];
}

/**
 * The node to fetch each partition from: the preferred read replica while it is a node the
 * metadata knows and not offline, else the leader. The same contract as kafkajs'
 * `findReadReplicaForPartitions` (each partition once), which checked whether the *leader* was
 * offline instead of the replica, and used a replica missing from the metadata (so no fetcher
 * existed for it) until the preference expired.
 */
export function readReplicaForPartitions(
  this: ConsumerGroupLike,
  topic: string,
  partitions: ReadonlyArray<number | string>,
): Record<number, number[]> {
  const partitionMetadata = this.cluster.findTopicPartitionMetadata(topic);
  const preferred = this.preferredReadReplicasPerTopicPartition[topic];
  const known = new Set(this.cluster.getNodeIds().map(Number));
  const result: Record<number, number[]> = {};
  for (const id of partitions) {
    const partitionId = typeof id === 'number' ? id : Number.parseInt(id, 10);
    const metadata = partitionMetadata.find((p) => p.partitionId === partitionId);
    if (metadata === undefined) continue;
    if (metadata.leader === null || metadata.leader === undefined) {
      throw new (kafkajsError())('Invalid partition metadata', { topic, partitionId, metadata });
    }
    let nodeId = metadata.leader;
    const entry = preferred?.[partitionId];
    if (entry !== undefined && preferred !== undefined) {
      if (Date.now() >= entry.expireAt) {
        delete preferred[partitionId];
      } else if (!known.has(entry.nodeId) || (metadata.offlineReplicas ?? []).includes(entry.nodeId)) {
        // Fetch from the leader meanwhile; a replica the metadata does not know yet (a follower
        // that came back) gets a fetcher once the refreshed metadata lists it.
        if (!known.has(entry.nodeId)) void refreshMetadataOnce(this);
      } else {
        nodeId = entry.nodeId;
      }
    }
    const list = result[nodeId] ?? [];
    list.push(partitionId);
    result[nodeId] = list;
  }
  return result;
}

/**
 * Patches kafkajs' `ConsumerGroup` so one unreachable node stops only its own fetches, and
 * follower fetching ({@link readReplicaForPartitions}) falls back to the leader while the
 * preferred replica is unknown or offline. A fetch that fails because its node cannot be reached
 * forgets the preferred read replicas on that node, refreshes the metadata (a dead leader is
 * replaced there once the controller fenced it; a dead node leaves the list, and kafkajs
 * rebuilds its fetchers) and waits `maxWaitTimeInMs` before that node's next fetch; the other
 * nodes' fetchers go on. Idempotent. Returns whether the patch is in place.
 */
export function patchKafkajsFetchFailover(): boolean {
  const group = consumerGroupProto();
  if (
    group === undefined ||
    typeof group.recoverFromFetch !== 'function' ||
    typeof group.findReadReplicaForPartitions !== 'function'
  ) {
    return false;
  }
  if (group[fetchPatched] === true) return true;
  const recover = group.recoverFromFetch as (this: ConsumerGroupLike, error: unknown) => Promise<void>;
  Object.defineProperty(group, 'recoverFromFetch', {
    configurable: true,
    writable: true,
    value: async function recoverFromUnreachable(this: ConsumerGroupLike, error: unknown): Promise<void> {
      if (!isUnreachable(error)) return recover.call(this, error);
      // kafkajs drops a broker whose connection closed, so it reconnects afresh.
      if ((error as KafkajsErrorLike).name === 'KafkaJSConnectionClosedError')
        await recover.call(this, error);
      const nodeId = nodeIdOf(this.cluster, error as KafkajsErrorLike);
      if (nodeId !== undefined) {
        for (const replicas of Object.values(this.preferredReadReplicasPerTopicPartition)) {
          if (replicas === undefined) continue;
          for (const [partition, entry] of Object.entries(replicas)) {
            if (entry?.nodeId === nodeId) delete replicas[Number(partition)];
          }
        }
      }
      this.logger.info('A broker could not be reached for a fetch; refreshing metadata.', {
        groupId: this.groupId,
        nodeId,
        error: (error as Error).message,
      });
      await refreshMetadataOnce(this);
      await new Promise((resolve) => setTimeout(resolve, Math.max(this.maxWaitTime, 100)));
    },
  });
  Object.defineProperty(group, 'findReadReplicaForPartitions', {
    configurable: true,
    writable: true,
    value: readReplicaForPartitions,
  });
  Object.defineProperty(group, fetchPatched, { value: true });
  return true;
}
