import { dockerAvailable, startDockerCluster } from './docker-cluster.js';
import { UnsupportedOperationError } from './errors.js';
import type { KafkaNodes, PartitionReplicas, WaitOptions } from './kafka-nodes.js';
import { startLocalCluster } from './local-cluster.js';
import { type ClusterMode, resolveClusterOptions, type StartClusterOptions } from './options.js';

/** How long the parts of a cluster took to come up, in milliseconds. */
export interface ClusterStartup {
  /** Resolving artifacts (near 0 when cached; JVM mode only). */
  readonly downloadMs: number;
  /** Formatting and starting every Kafka node, until all of them served (JVM mode only). */
  readonly kafkaMs: number;
  /** Writing configuration and formatting KRaft storage, all nodes in parallel: part of `kafkaMs`. */
  readonly formatMs: number;
  /** Each node, by index: from starting its JVM until it served (listed itself in a Metadata answer). */
  readonly nodeMs: readonly number[];
  /** From starting the registry until `GET /subjects` answered. */
  readonly registryMs: number;
  /** The whole of {@link startCluster}. */
  readonly totalMs: number;
}

/** One Kafka node of a local JVM cluster. */
export interface ClusterNode {
  /** Its place in {@link Cluster.nodes}, what {@link Cluster.killNode} and the others take. */
  readonly index: number;
  /** Its `node.id`: `index + 1`. */
  readonly nodeId: number;
  /** `127.0.0.1:<port>`. */
  readonly bootstrap: string;
  /** Its `broker.rack`, `undefined` without one. */
  readonly rack: string | undefined;
  /** Whether its JVM runs now. */
  readonly running: boolean;
}

export type { PartitionReplicas, WaitOptions };

/** A running Kafka cluster and schema registry. `await using cluster = await startCluster()`. */
export interface Cluster extends AsyncDisposable {
  /** Bootstrap addresses, `host:port`. */
  readonly brokers: string[];
  /** The Confluent-compatible registry API base URL (`.../apis/ccompat/v7` for Apicurio); `''` without one. */
  readonly registryUrl: string;
  /** Where the cluster came from. */
  readonly mode: ClusterMode;
  /** Start-up timings. */
  readonly startup: ClusterStartup;
  /** The folder holding the local JVMs' data and logs (JVM mode only); removed by `stop()`. */
  readonly dataDir: string | undefined;
  /** The Kafka nodes this call started as local JVMs, by index; empty for other modes. */
  readonly nodes: readonly ClusterNode[];
  /**
   * Stops every broker gracefully, keeping data and ports (to test broker loss). Several nodes
   * stop one after the other, as {@link stopNode} stops each; {@link stopNode} stops just one.
   * @throws {UnsupportedOperationError} unless the brokers are local JVMs started here.
   */
  stopBroker(): Promise<void>;
  /** Kills every broker at once (SIGKILL), like a crash, keeping data and ports. */
  killBroker(): Promise<void>;
  /** Starts every stopped or killed broker again on the same ports and data; resolves when all serve. */
  startBroker(): Promise<void>;
  /**
   * Stops node `index` gracefully (SIGTERM, controlled shutdown) and resolves once its JVM exited.
   * It is killed if still running after 15 s, or after 3 s when no majority of the nodes runs
   * (its controlled shutdown cannot finish then). Its data and ports are kept for {@link startNode}.
   * @throws {ConfigError} naming `index` when there is no such node.
   * @throws {UnsupportedOperationError} unless the cluster is local JVMs started here.
   */
  stopNode(index: number): Promise<void>;
  /** Kills node `index` at once (SIGKILL), like a crash; resolves once its JVM is gone. */
  killNode(index: number): Promise<void>;
  /**
   * Starts node `index` again on the same ports and data; resolves when it serves (it answers a
   * Metadata request listing itself, so it registered with the quorum). A running node: no-op.
   */
  startNode(index: number): Promise<void>;
  /**
   * The index of the node leading `topic`'s `partition`, as the first running node sees it;
   * waits (polling) until the partition has a leader.
   * @throws {TimeoutError} after `timeoutMs` (default 30000).
   */
  leaderOf(topic: string, partition: number, options?: WaitOptions): Promise<number>;
  /** The replicas, in-sync replicas and leader of `topic`'s `partition`, as node indexes. */
  describePartition(topic: string, partition: number, options?: WaitOptions): Promise<PartitionReplicas>;
  /**
   * The index of the node coordinating consumer group `key` (`'group'`) or transactional id
   * `key` (`'transaction'`); waits while the coordinator is loading or its topic is being created.
   */
  coordinatorOf(type: 'group' | 'transaction', key: string, options?: WaitOptions): Promise<number>;
  /** Stops everything this call started and removes its data. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts (or finds) a Kafka broker and a Confluent-compatible schema registry:
 * - `KAFKA_BROKERS` (and `SCHEMA_REGISTRY_URL`) set: uses them, starting only what is missing;
 * - else, when a Docker daemon answers: containers through testcontainers;
 * - else: Apache Kafka (KRaft, one combined node) and Apicurio Registry as local JVMs, fetched
 *   from Maven Central with `mvn` once and cached.
 *
 * `nodes: 3` (with `racks`) starts three combined KRaft nodes as local JVMs instead, whatever
 * `KAFKA_BROKERS` says; {@link Cluster.killNode}, {@link Cluster.leaderOf} and the others work on them.
 *
 * Processes that outlive a killed test run are removed by a watchdog; data folders too.
 *
 * @example
 * ```ts
 * import { startCluster } from '@cascade/testkit';
 * await using cluster = await startCluster();
 * console.log(cluster.brokers, cluster.registryUrl);
 *
 * await using three = await startCluster({ nodes: 3, racks: ['r1', 'r2', 'r3'], registry: false });
 * await three.killNode(await three.leaderOf('orders', 0));
 * ```
 */
export async function startCluster(input: StartClusterOptions = {}): Promise<Cluster> {
  const started = Date.now();
  const options = resolveClusterOptions(input);
  // A shape asked for (racks; several nodes resolve to 'jvm') is started here, never taken from KAFKA_BROKERS.
  const useExternalKafka =
    options.externalBrokers !== undefined &&
    options.mode !== 'jvm' &&
    options.mode !== 'docker' &&
    options.racks === undefined;
  const parts = {
    withKafka: !useExternalKafka,
    withRegistry: options.registry && !(useExternalKafka && options.externalRegistryUrl !== undefined),
  };

  let mode: ClusterMode = 'external';
  let brokers = options.externalBrokers ?? [];
  let registryUrl = options.registry ? (options.externalRegistryUrl ?? '') : '';
  let stopParts: () => Promise<void> = async () => {};
  let kafka: KafkaNodes | undefined;
  let startup = { downloadMs: 0, kafkaMs: 0, formatMs: 0, nodeMs: [] as readonly number[], registryMs: 0 };
  let dataDir: string | undefined;

  if (parts.withKafka || parts.withRegistry) {
    const useDocker =
      options.mode === 'docker' || (options.mode === 'auto' && (await dockerAvailable(options.env)));
    if (useDocker) {
      const docker = await startDockerCluster(options, parts);
      mode = parts.withKafka ? 'docker' : mode;
      brokers = docker.brokers ?? brokers;
      registryUrl = docker.registryUrl ?? registryUrl;
      stopParts = docker.stop;
    } else {
      const local = await startLocalCluster(options, parts);
      mode = parts.withKafka ? 'jvm' : mode;
      kafka = local.kafka;
      brokers = local.kafka ? local.kafka.bootstrap : brokers;
      registryUrl = local.registry?.url ?? registryUrl;
      stopParts = local.stop;
      dataDir = local.dataDir;
      startup = {
        downloadMs: local.downloadMs,
        kafkaMs: local.kafkaMs,
        formatMs: local.kafka?.formatMs ?? 0,
        nodeMs: local.kafka?.nodeMs ?? [],
        registryMs: local.registryMs,
      };
    }
  }

  const local = (operation: string): KafkaNodes => {
    if (kafka === undefined) throw new UnsupportedOperationError(operation, mode);
    return kafka;
  };
  const racks = options.racks;
  const nodes: ClusterNode[] = (kafka?.nodes ?? []).map((node) => ({
    index: node.index,
    nodeId: node.nodeId,
    bootstrap: node.bootstrap,
    rack: racks?.[node.index],
    get running() {
      return node.running;
    },
  }));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopParts();
    return stopping;
  };
  const cluster: Cluster = {
    brokers,
    registryUrl,
    mode,
    startup: { ...startup, totalMs: Date.now() - started },
    dataDir,
    nodes,
    stopBroker: async () => local('stopBroker').stopAll(),
    killBroker: async () => local('killBroker').killAll(),
    startBroker: async () => local('startBroker').startAll(),
    stopNode: async (index) => local('stopNode').stopNode(index),
    killNode: async (index) => local('killNode').node(index).killProcess(),
    startNode: async (index) => {
      await local('startNode').node(index).startProcess();
    },
    leaderOf: async (topic, partition, wait) => local('leaderOf').leaderOf(topic, partition, wait),
    describePartition: async (topic, partition, wait) =>
      local('describePartition').describePartition(topic, partition, wait),
    coordinatorOf: async (type, key, wait) => local('coordinatorOf').coordinatorOf(type, key, wait),
    stop,
    [Symbol.asyncDispose]: stop,
  };
  options.logger.info('Cluster ready', {
    mode,
    brokers,
    registryUrl,
    ...cluster.startup,
  });
  return cluster;
}
