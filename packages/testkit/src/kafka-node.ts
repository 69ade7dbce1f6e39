import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  readonly port: number;
  readonly controllerPort: number;
  readonly heapMb: number;
  readonly startTimeoutMs: number;
  /** Broker properties that override the testkit's single-node defaults. */
  readonly brokerConfig: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/** Single-node settings: one combined broker + controller that allows transactions and idempotence. */
export function singleNodeConfig(
  dataDir: string,
  port: number,
  controllerPort: number,
): Record<string, string> {
  return {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(dataDir, 'logs'),
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '10',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // After a crash the controller refuses the restarted broker's registration until the old
    // session expires (9 s by default): keep crash-restart tests quick.
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    'auto.create.topics.enable': 'false',
    'delete.topic.enable': 'true',
    'log.segment.bytes': String(64 * 1024 * 1024),
  };
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
  readonly port: number;
  readonly #options: KafkaNodeOptions;
  readonly #supervisor: Supervisor;
  readonly #dir: string;
  #process: ManagedProcess | undefined;

  private constructor(options: KafkaNodeOptions, supervisor: Supervisor, dir: string) {
    this.#options = options;
    this.#supervisor = supervisor;
    this.#dir = dir;
    this.port = options.port;
  }

  /** Writes the configuration, formats KRaft storage and starts the node; resolves when it answers. */
  static async start(options: KafkaNodeOptions, supervisor: Supervisor): Promise<KafkaNode> {
    const dir = join(supervisor.runDir, 'kafka');
    await mkdir(join(dir, 'logs'), { recursive: true });
    const config = {
      ...singleNodeConfig(dir, options.port, options.controllerPort),
      ...options.brokerConfig,
    };
    await writeFile(
      join(dir, 'server.properties'),
      Object.entries(config)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n'),
    );
    await writeFile(join(dir, 'log4j2.properties'), log4jConfig(join(dir, 'server.log')));
    const node = new KafkaNode(options, supervisor, dir);
    await node.#format();
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

  #javaArgs(mainClass: string, ...args: string[]): string[] {
    return [
      `-Xms${Math.min(256, this.#options.heapMb)}m`,
      `-Xmx${this.#options.heapMb}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(this.#dir, 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${this.#dir}`,
      '-cp',
      `${this.#options.libsDir}/*`,
      mainClass,
      ...args,
    ];
  }

  async #format(): Promise<void> {
    const clusterId = kraftClusterId();
    const args = this.#javaArgs(
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      join(this.#dir, 'server.properties'),
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
      throw new BrokerStartError(
        'formatting KRaft storage failed',
        join(this.#dir, 'server.properties'),
        tail(output.text),
      );
    }
  }

  /** Starts the JVM (again) on the same ports and data; resolves when it answers a Metadata request. */
  async startProcess(): Promise<void> {
    const started = Date.now();
    const process = this.#supervisor.spawn(
      'kafka',
      this.#options.java.executable,
      this.#javaArgs('kafka.Kafka', join(this.#dir, 'server.properties')),
      {
        cwd: this.#dir,
        env: { PATH: globalThis.process.env.PATH ?? '' },
        logFile: join(this.#dir, 'server.log'),
      },
    );
    this.#process = process;
    const outcome = await waitUntilReady(
      process,
      async () => (await fetchMetadata('127.0.0.1', this.port, 2_000)).brokers.length > 0,
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
    this.#options.logger.info('Kafka is up', { bootstrap: this.bootstrap, ms: Date.now() - started });
  }

  /** Stops the JVM gracefully (controlled shutdown), keeping its data for a later start. */
  async stopProcess(): Promise<void> {
    await this.#process?.stop(15_000);
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
