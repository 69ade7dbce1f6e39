import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '@cascade/core';
import { tail } from './artifacts.js';
import { BrokerStartError } from './errors.js';
import type { JavaInstallation } from './java.js';
import { fetchMetadata } from './kafka-protocol.js';
import type { ManagedProcess, Supervisor } from './supervisor.js';
import { waitUntilReady } from './supervisor.js';

/** What a local Kafka node needs to run. */
export interface KafkaNodeOptions {
  readonly java: JavaInstallation;
  readonly libsDir: string;
  /** The node's place in its cluster, from 0. */
  readonly index: number;
  /** Its `node.id`. */
  readonly nodeId: number;
  /** Its folder: configuration, data (`logs/`) and `server.log`. */
  readonly dir: string;
  /** The KRaft cluster id every node of the cluster is formatted with. */
  readonly clusterId: string;
  /** Its complete `server.properties`. */
  readonly config: Readonly<Record<string, string>>;
  readonly port: number;
  readonly heapMb: number;
  /** JVM flags after the heap and collector ones. */
  readonly extraJvmFlags?: readonly string[];
  readonly startTimeoutMs: number;
  readonly logger: Logger;
}

/** Where one node of a local cluster listens and what it is told about the others. */
export interface NodeShape {
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
  /** `controller.quorum.voters`: `id@host:port` of every controller, comma-separated. */
  readonly voters: string;
  /** How many nodes the cluster has: replication factors and min ISR follow from it. */
  readonly nodes: number;
  readonly rack: string | undefined;
}

/**
 * The settings of one combined broker + controller of an `n`-node cluster that allows
 * transactions and idempotence. Replication factors are `min(n, 3)`, min ISR one less (at least
 * 1); with several nodes, followers serve fetches from their rack (`RackAwareReplicaSelector`).
 */
export function nodeConfig(dataDir: string, shape: NodeShape): Record<string, string> {
  const replication = String(Math.min(shape.nodes, 3));
  const minIsr = String(Math.max(1, Math.min(shape.nodes, 3) - 1));
  return {
    'process.roles': 'broker,controller',
    'node.id': String(shape.nodeId),
    'controller.quorum.voters': shape.voters,
    listeners: `PLAINTEXT://127.0.0.1:${shape.port},CONTROLLER://127.0.0.1:${shape.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${shape.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(dataDir, 'logs'),
    'num.partitions': '1',
    'default.replication.factor': replication,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': replication,
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '10',
    'share.coordinator.state.topic.replication.factor': replication,
    'share.coordinator.state.topic.min.isr': minIsr,
    'group.initial.rebalance.delay.ms': '0',
    // After a crash the controller refuses the restarted broker's registration until the old
    // session expires (9 s by default): keep crash-restart tests quick.
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    'auto.create.topics.enable': 'false',
    'delete.topic.enable': 'true',
    'log.segment.bytes': String(64 * 1024 * 1024),
    ...(shape.nodes > 1
      ? { 'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector' }
      : {}),
    ...(shape.rack === undefined ? {} : { 'broker.rack': shape.rack }),
  };
}

/** Single-node settings: one combined broker + controller that allows transactions and idempotence. */
export function singleNodeConfig(
  dataDir: string,
  port: number,
  controllerPort: number,
): Record<string, string> {
  return nodeConfig(dataDir, {
    nodeId: 1,
    port,
    controllerPort,
    voters: `1@127.0.0.1:${controllerPort}`,
    nodes: 1,
    rack: undefined,
  });
}

const log4jConfig = (logFile: string): string => `status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${logFile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

/** A Kafka broker + controller (KRaft) running in a local JVM. */
export class KafkaNode {
  readonly index: number;
  readonly nodeId: number;
  readonly port: number;
  readonly #options: KafkaNodeOptions;
  readonly #supervisor: Supervisor;
  #process: ManagedProcess | undefined;

  private constructor(options: KafkaNodeOptions, supervisor: Supervisor) {
    this.#options = options;
    this.#supervisor = supervisor;
    this.index = options.index;
    this.nodeId = options.nodeId;
    this.port = options.port;
  }

  /** Writes the configuration and formats KRaft storage; {@link startProcess} starts the JVM. */
  static async create(options: KafkaNodeOptions, supervisor: Supervisor): Promise<KafkaNode> {
    const dir = options.dir;
    await mkdir(join(dir, 'logs'), { recursive: true });
    await writeFile(
      join(dir, 'server.properties'),
      Object.entries(options.config)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n'),
    );
    await writeFile(join(dir, 'log4j2.properties'), log4jConfig(join(dir, 'server.log')));
    const node = new KafkaNode(options, supervisor);
    await node.#format();
    return node;
  }

  /** {@link create}, then {@link startProcess}: resolves when the node serves. */
  static async start(options: KafkaNodeOptions, supervisor: Supervisor): Promise<KafkaNode> {
    const node = await KafkaNode.create(options, supervisor);
    await node.startProcess();
    return node;
  }

  /** The bootstrap address. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Whether the JVM is running. */
  get running(): boolean {
    return this.#process !== undefined && this.#process.exit === undefined;
  }

  #javaArgs(jvm: readonly string[], mainClass: string, ...args: string[]): string[] {
    const dir = this.#options.dir;
    return [
      ...jvm,
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${dir}`,
      '-cp',
      `${this.#options.libsDir}/*`,
      mainClass,
      ...args,
    ];
  }

  #brokerJvm(): string[] {
    return [
      `-Xms${Math.min(256, this.#options.heapMb)}m`,
      `-Xmx${this.#options.heapMb}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      ...(this.#options.extraJvmFlags ?? []),
    ];
  }

  async #format(): Promise<void> {
    const properties = join(this.#options.dir, 'server.properties');
    // A short-lived tool: the C1 compiler alone and the serial collector halve its CPU time, which
    // counts when several nodes format at once on two cores.
    const args = this.#javaArgs(
      ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'],
      'kafka.tools.StorageTool',
      'format',
      '-t',
      this.#options.clusterId,
      '-c',
      properties,
    );
    const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(this.#options.java.executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      child.on('error', (error) => resolve({ code: -1, text: error.message }));
      child.on('close', (code) => resolve({ code, text }));
    });
    if (output.code !== 0) {
      throw new BrokerStartError('formatting KRaft storage failed', properties, tail(output.text));
    }
  }

  /**
   * Starts the JVM (again) on the same ports and data; resolves when the node serves: it answers a
   * Metadata request that lists itself, so it has registered with the controller quorum.
   * @returns how long that took, in milliseconds.
   */
  async startProcess(): Promise<number> {
    if (this.running) return 0;
    const started = Date.now();
    const process = this.#supervisor.spawn(
      basename(this.#options.dir),
      this.#options.java.executable,
      this.#javaArgs(this.#brokerJvm(), 'kafka.Kafka', join(this.#options.dir, 'server.properties')),
      {
        cwd: this.#options.dir,
        env: { PATH: globalThis.process.env.PATH ?? '' },
        logFile: join(this.#options.dir, 'server.log'),
      },
    );
    this.#process = process;
    const outcome = await waitUntilReady(
      process,
      async () =>
        (await fetchMetadata('127.0.0.1', this.port, 2_000, [])).brokers.some(
          (broker) => broker.nodeId === this.nodeId,
        ),
      this.#options.startTimeoutMs,
    );
    if (outcome !== 'ready') {
      await process.kill();
      const reason =
        outcome === 'exited'
          ? `the JVM exited (code ${process.exit?.code}, signal ${process.exit?.signal})`
          : `it did not answer a Metadata request within ${this.#options.startTimeoutMs} ms`;
      throw new BrokerStartError(reason, process.logFile, process.logTail());
    }
    const ms = Date.now() - started;
    this.#options.logger.info('Kafka is up', { node: this.index, bootstrap: this.bootstrap, ms });
    return ms;
  }

  /** Stops the JVM gracefully (controlled shutdown), keeping its data for a later start. */
  async stopProcess(graceMs = 15_000): Promise<void> {
    await this.#process?.stop(graceMs);
  }

  /** Kills the JVM at once, like a crash, keeping its data. */
  async killProcess(): Promise<void> {
    await this.#process?.kill();
  }
}

/**
 * A random KRaft cluster id: 16 random bytes, base64url. Like Kafka's `Uuid.randomUuid()`, never
 * one starting with `-`, which StorageTool's argument parser would take for an option.
 */
export function kraftClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
