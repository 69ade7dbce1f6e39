import { join } from 'node:path';
import { ConfigError, delay, type Logger, TimeoutError, throwIfAborted } from '@cascade/core';
import type { JavaInstallation } from './java.js';
import { KafkaNode, kraftClusterId, nodeConfig } from './kafka-node.js';
import {
  type CoordinatorAnswer,
  fetchMetadata,
  findCoordinator,
  type PartitionMetadata,
} from './kafka-protocol.js';
import type { Supervisor } from './supervisor.js';

/** What a local cluster of Kafka nodes needs. */
export interface KafkaNodesOptions {
  readonly java: JavaInstallation;
  readonly libsDir: string;
  /** The broker port of each node; their count is the cluster's size. */
  readonly ports: readonly number[];
  /** The controller port of each node. */
  readonly controllerPorts: readonly number[];
  /** `broker.rack` of each node, or none. */
  readonly racks: readonly string[] | undefined;
  readonly heapMb: number;
  readonly startTimeoutMs: number;
  /** Properties over the testkit's defaults, for every node. */
  readonly brokerConfig: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/** A partition's replicas as node indexes of a local cluster. */
export interface PartitionReplicas {
  /** The leader's index, `undefined` while the partition has none. */
  readonly leader: number | undefined;
  /** Every replica's index, preferred leader first. */
  readonly replicas: readonly number[];
  /** The in-sync replicas' indexes. */
  readonly isr: readonly number[];
}

/** How long a question to the cluster may keep asking. */
export interface WaitOptions {
  /** @default 30000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Kafka error codes a FindCoordinator answer carries while the coordinator comes up. */
const coordinatorPending = new Set([14, 15]); // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE
const pollMs = 200;
/** How long a node may try a controlled shutdown that cannot finish without a controller majority. */
const noQuorumGraceMs = 3_000;

/**
 * The Kafka nodes of one local cluster: node `i` has `node.id` `i + 1` (so one node keeps the
 * id 1 it always had), its own ports and data folder, and every node is a KRaft voter.
 */
export class KafkaNodes {
  readonly nodes: readonly KafkaNode[];
  /** How long formatting storage took (all nodes in parallel). */
  readonly formatMs: number;
  /** How long each node took from starting its JVM until it served, at the first start. */
  readonly nodeMs: readonly number[];

  private constructor(nodes: readonly KafkaNode[], formatMs: number, nodeMs: readonly number[]) {
    this.nodes = nodes;
    this.formatMs = formatMs;
    this.nodeMs = nodeMs;
  }

  /** Formats every node's storage with one cluster id and starts them together; resolves when all serve. */
  static async start(options: KafkaNodesOptions, supervisor: Supervisor): Promise<KafkaNodes> {
    const count = options.ports.length;
    const voters = options.controllerPorts.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(',');
    const clusterId = kraftClusterId();
    const formatStarted = Date.now();
    const created = await Promise.allSettled(
      options.ports.map((port, index) => {
        const dir = join(supervisor.runDir, count === 1 ? 'kafka' : `kafka-${index}`);
        const shape = {
          nodeId: index + 1,
          port,
          controllerPort: options.controllerPorts[index] ?? 0,
          voters,
          nodes: count,
          rack: options.racks?.[index],
        };
        return KafkaNode.create(
          {
            java: options.java,
            libsDir: options.libsDir,
            index,
            nodeId: index + 1,
            dir,
            clusterId,
            config: { ...nodeConfig(dir, shape), ...options.brokerConfig },
            port,
            heapMb: options.heapMb,
            // Several JVMs starting at once on two cores: without the C2 compiler each is up in
            // about half the time (measured 21 s against 51 s for three). One node keeps its flags.
            extraJvmFlags: count > 1 ? ['-XX:TieredStopAtLevel=1'] : [],
            startTimeoutMs: options.startTimeoutMs,
            logger: options.logger,
          },
          supervisor,
        );
      }),
    );
    const formatMs = Date.now() - formatStarted;
    const failedFormat = created.find((result) => result.status === 'rejected');
    if (failedFormat) throw failedFormat.reason;
    const nodes = created.map((result) => (result as PromiseFulfilledResult<KafkaNode>).value);
    // Together: a node of several serves only once a majority of the controller quorum is up.
    const started = await Promise.allSettled(nodes.map((node) => node.startProcess()));
    const failedStart = started.find((result) => result.status === 'rejected');
    if (failedStart) {
      await Promise.all(nodes.map((node) => node.killProcess()));
      throw failedStart.reason;
    }
    const nodeMs = started.map((result) => (result as PromiseFulfilledResult<number>).value);
    return new KafkaNodes(nodes, formatMs, nodeMs);
  }

  /** Every node's bootstrap address, in index order. */
  get bootstrap(): string[] {
    return this.nodes.map((node) => node.bootstrap);
  }

  /** The node at `index`. @throws {ConfigError} naming `index` when there is none. */
  node(index: number): KafkaNode {
    const node = Number.isInteger(index) ? this.nodes[index] : undefined;
    if (node === undefined) {
      throw new ConfigError(
        'index',
        `expected a node index from 0 to ${this.nodes.length - 1}, got ${index}.`,
      );
    }
    return node;
  }

  /** Starts every stopped node together; resolves when all serve. */
  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.startProcess()));
  }

  /**
   * Stops node `index` gracefully. Its controlled shutdown needs a majority of the controller
   * quorum running; without one it would wait minutes, so the node then gets
   * {@link noQuorumGraceMs} before it is killed.
   */
  async stopNode(index: number): Promise<void> {
    const node = this.node(index);
    const running = this.nodes.filter((candidate) => candidate.running).length;
    await node.stopProcess(running > this.nodes.length / 2 ? undefined : noQuorumGraceMs);
  }

  /**
   * Stops every node gracefully, one after the other, so that each controlled shutdown but the
   * last still has a controller majority (see {@link stopNode}).
   */
  async stopAll(): Promise<void> {
    for (const node of this.nodes) await this.stopNode(node.index);
  }

  /** Kills every node at once. */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.killProcess()));
  }

  /**
   * For tearing down: one node stops gracefully as it always did; several are killed, since the
   * last of them could not finish a controlled shutdown without a quorum, and their data goes anyway.
   */
  async dispose(): Promise<void> {
    if (this.nodes.length === 1) await this.stopAll();
    else await this.killAll();
  }

  /** The replicas of `topic`'s `partition`, as a running node sees them; waits until it knows the partition. */
  async describePartition(
    topic: string,
    partition: number,
    options: WaitOptions = {},
  ): Promise<PartitionReplicas> {
    const found = await this.#ask(
      `Describing partition ${partition} of ${topic}`,
      async (node) => {
        const metadata = await fetchMetadata('127.0.0.1', node.port, 2_000, [topic]);
        const described = metadata.topics.find((entry) => entry.name === topic);
        if (described === undefined || described.errorCode !== 0) return undefined;
        return described.partitions.find((entry) => entry.partition === partition);
      },
      options,
    );
    return this.#toIndexes(found);
  }

  /** The index of the node leading `topic`'s `partition`; waits until it has a leader. */
  async leaderOf(topic: string, partition: number, options: WaitOptions = {}): Promise<number> {
    return this.#ask(
      `Finding the leader of partition ${partition} of ${topic}`,
      async (node) => {
        const metadata = await fetchMetadata('127.0.0.1', node.port, 2_000, [topic]);
        const described = metadata.topics.find((entry) => entry.name === topic);
        const found =
          described?.errorCode === 0
            ? described.partitions.find((p) => p.partition === partition)
            : undefined;
        return found === undefined ? undefined : this.#toIndexes(found).leader;
      },
      options,
    );
  }

  /** The index of the node coordinating the consumer group or transactional id `key`; waits until there is one. */
  async coordinatorOf(
    type: 'group' | 'transaction',
    key: string,
    options: WaitOptions = {},
  ): Promise<number> {
    return this.#ask(
      `Finding the ${type} coordinator of ${key}`,
      async (node) => {
        const answer: CoordinatorAnswer = await findCoordinator('127.0.0.1', node.port, type, key, 2_000);
        if (coordinatorPending.has(answer.errorCode)) return undefined;
        if (answer.errorCode !== 0) {
          throw new Error(
            `FindCoordinator for ${type} ${key} failed with Kafka error code ${answer.errorCode}`,
          );
        }
        return this.#indexOf(answer.nodeId);
      },
      options,
    );
  }

  #indexOf(nodeId: number): number {
    return this.nodes.findIndex((node) => node.nodeId === nodeId);
  }

  #toIndexes(found: PartitionMetadata): PartitionReplicas {
    return {
      leader: found.leader < 0 ? undefined : this.#indexOf(found.leader),
      replicas: found.replicas.map((id) => this.#indexOf(id)),
      isr: found.isr.map((id) => this.#indexOf(id)),
    };
  }

  /**
   * Asks running nodes in index order until one gives an answer (`undefined` means "not yet"),
   * polling every 200 ms until `timeoutMs`. A node that does not answer is passed over.
   */
  async #ask<T>(
    operation: string,
    question: (node: KafkaNode) => Promise<T | undefined>,
    options: WaitOptions,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      throwIfAborted(options.signal, operation);
      for (const node of this.nodes.filter((candidate) => candidate.running)) {
        try {
          const answer = await question(node);
          if (answer !== undefined) return answer;
        } catch (error) {
          lastError = error;
        }
      }
      if (Date.now() >= deadline) {
        throw new TimeoutError(
          operation,
          timeoutMs,
          lastError === undefined ? undefined : { cause: lastError },
        );
      }
      await delay(pollMs, options.signal);
    }
  }
}
