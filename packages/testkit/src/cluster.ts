import { dockerAvailable, startDockerCluster } from './docker-cluster.js';
import { UnsupportedOperationError } from './errors.js';
import type { KafkaNode } from './kafka-node.js';
import { startLocalCluster } from './local-cluster.js';
import { type ClusterMode, resolveClusterOptions, type StartClusterOptions } from './options.js';

/** How long the parts of a cluster took to come up, in milliseconds. */
export interface ClusterStartup {
  /** Resolving artifacts (near 0 when cached; JVM mode only). */
  readonly downloadMs: number;
  /** From starting the broker's JVM until it answered a Metadata request. */
  readonly kafkaMs: number;
  /** From starting the registry until `GET /subjects` answered. */
  readonly registryMs: number;
  /** The whole of {@link startCluster}. */
  readonly totalMs: number;
}

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
  /**
   * Stops the broker gracefully, keeping its data and port (to test broker loss).
   * @throws {UnsupportedOperationError} unless the broker is a local JVM started here.
   */
  stopBroker(): Promise<void>;
  /** Kills the broker at once (SIGKILL), like a crash, keeping its data and port. */
  killBroker(): Promise<void>;
  /** Starts a stopped or killed broker again on the same port and data. */
  startBroker(): Promise<void>;
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
 * Processes that outlive a killed test run are removed by a watchdog; data folders too.
 *
 * @example
 * ```ts
 * import { startCluster } from '@cascade/testkit';
 * await using cluster = await startCluster();
 * console.log(cluster.brokers, cluster.registryUrl);
 * ```
 */
export async function startCluster(input: StartClusterOptions = {}): Promise<Cluster> {
  const started = Date.now();
  const options = resolveClusterOptions(input);
  const useExternalKafka =
    options.externalBrokers !== undefined && options.mode !== 'jvm' && options.mode !== 'docker';
  const parts = {
    withKafka: !useExternalKafka,
    withRegistry: options.registry && !(useExternalKafka && options.externalRegistryUrl !== undefined),
  };

  let mode: ClusterMode = 'external';
  let brokers = options.externalBrokers ?? [];
  let registryUrl = options.registry ? (options.externalRegistryUrl ?? '') : '';
  let stopParts: () => Promise<void> = async () => {};
  let kafkaNode: KafkaNode | undefined;
  let startup = { downloadMs: 0, kafkaMs: 0, registryMs: 0 };
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
      kafkaNode = local.kafka;
      brokers = local.kafka ? [local.kafka.bootstrap] : brokers;
      registryUrl = local.registry?.url ?? registryUrl;
      stopParts = local.stop;
      dataDir = local.dataDir;
      startup = { downloadMs: local.downloadMs, kafkaMs: local.kafkaMs, registryMs: local.registryMs };
    }
  }

  const localBroker = (operation: string): KafkaNode => {
    if (kafkaNode === undefined) throw new UnsupportedOperationError(operation, mode);
    return kafkaNode;
  };
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
    stopBroker: async () => localBroker('stopBroker').stopProcess(),
    killBroker: async () => localBroker('killBroker').killProcess(),
    startBroker: async () => localBroker('startBroker').startProcess(),
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
