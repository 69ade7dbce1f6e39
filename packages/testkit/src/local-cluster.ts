import { resolveApicurio, resolveKafka } from './artifacts.js';
import { findJava } from './java.js';
import { KafkaNodes } from './kafka-nodes.js';
import type { ResolvedClusterOptions } from './options.js';
import { claimPorts } from './ports.js';
import { RegistryNode } from './registry-node.js';
import { Supervisor } from './supervisor.js';

/** Kafka 4.x runs on Java 17+. */
const kafkaJavaVersion = 17;
/** Apicurio Registry 3.3 is compiled for Java 21. */
const registryJavaVersion = 21;

/** What the local JVM cluster started, and how long each part took. */
export interface LocalCluster {
  readonly kafka: KafkaNodes | undefined;
  readonly registry: RegistryNode | undefined;
  readonly downloadMs: number;
  /** Formatting and starting every Kafka node, until all serve. */
  readonly kafkaMs: number;
  readonly registryMs: number;
  /** The run folder holding data and logs. */
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts Kafka (unless `withKafka` is false) and Apicurio Registry (unless `withRegistry` is
 * false) as local JVMs, fetching them from Maven Central once. Both start in parallel.
 */
export async function startLocalCluster(
  options: ResolvedClusterOptions,
  parts: { withKafka: boolean; withRegistry: boolean },
): Promise<LocalCluster> {
  const search = { javaHome: options.javaHome, env: options.env };
  const kafkaJava = parts.withKafka
    ? findJava(`Kafka ${options.kafkaVersion}`, kafkaJavaVersion, search)
    : undefined;
  const registryJava = parts.withRegistry
    ? findJava(`Apicurio Registry ${options.registryVersion}`, registryJavaVersion, search)
    : undefined;
  const count = options.nodes;
  const at = (port: number | undefined, index: number): number | undefined =>
    port === undefined ? undefined : port + index;
  const nodeIndexes = [...Array(count).keys()];
  const nodePorts = await claimPorts([
    ...nodeIndexes.map(
      (i) =>
        [
          count === 1 ? 'kafkaPort' : `kafkaPort of node ${i}`,
          parts.withKafka,
          at(options.kafkaPort, i),
        ] as const,
    ),
    ...nodeIndexes.map(
      (i) =>
        [
          count === 1 ? 'controllerPort' : `controllerPort of node ${i}`,
          parts.withKafka,
          at(options.controllerPort, i),
        ] as const,
    ),
    ['registryPort', parts.withRegistry, options.registryPort],
    ['registry management port', parts.withRegistry, undefined],
  ]);
  const kafkaPorts = nodePorts.slice(0, count);
  const controllerPorts = nodePorts.slice(count, 2 * count);
  const [registryPort = 0, managementPort = 0] = nodePorts.slice(2 * count);

  const maven = {
    command: options.mavenCommand,
    args: options.mavenArgs,
    cacheDir: options.cacheDir,
    logger: options.logger,
  };
  const downloadStarted = Date.now();
  // One after the other: two Maven processes filling an empty ~/.m2 at once can race.
  const libsDir = kafkaJava ? await resolveKafka(maven, options.kafkaVersion) : undefined;
  const appDir = registryJava ? await resolveApicurio(maven, options.registryVersion) : undefined;
  const downloadMs = Date.now() - downloadStarted;

  const supervisor = await Supervisor.create(options.logger);
  let kafkaMs = 0;
  let registryMs = 0;
  const timed = async <T>(start: () => Promise<T>, record: (ms: number) => void): Promise<T> => {
    const started = Date.now();
    const result = await start();
    record(Date.now() - started);
    return result;
  };
  const [kafka, registry] = await Promise.allSettled([
    kafkaJava && libsDir
      ? timed(
          () =>
            KafkaNodes.start(
              {
                java: kafkaJava,
                libsDir,
                ports: kafkaPorts,
                controllerPorts,
                racks: options.racks,
                heapMb: options.kafkaHeapMb,
                startTimeoutMs: options.startTimeoutMs,
                brokerConfig: options.brokerConfig,
                logger: options.logger,
              },
              supervisor,
            ),
          (ms) => {
            kafkaMs = ms;
          },
        )
      : Promise.resolve(undefined),
    registryJava && appDir
      ? timed(
          () =>
            RegistryNode.start(
              {
                java: registryJava,
                appDir,
                port: registryPort,
                managementPort,
                heapMb: options.registryHeapMb,
                startTimeoutMs: options.startTimeoutMs,
                compatibility: options.compatibility,
                logger: options.logger,
              },
              supervisor,
            ),
          (ms) => {
            registryMs = ms;
          },
        )
      : Promise.resolve(undefined),
  ]);

  const stop = async (): Promise<void> => {
    await Promise.all([
      kafka.status === 'fulfilled' ? kafka.value?.dispose() : undefined,
      registry.status === 'fulfilled' ? registry.value?.stop() : undefined,
    ]);
    await supervisor.dispose();
  };
  if (kafka.status === 'rejected' || registry.status === 'rejected') {
    await stop();
    throw kafka.status === 'rejected' ? kafka.reason : (registry as PromiseRejectedResult).reason;
  }
  return {
    kafka: kafka.value,
    registry: registry.value,
    downloadMs,
    kafkaMs,
    registryMs,
    dataDir: supervisor.runDir,
    stop,
  };
}
