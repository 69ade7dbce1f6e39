// Helpers shared by integration tests: unique names, kafkajs clients on the run's cluster, and
// waiting on conditions (never on fixed sleeps).
import { randomUUID } from 'node:crypto';
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import { type ITopicConfig, Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';

/** A name no other test uses: `<prefix>-<8 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The cluster this test run started (see test/setup/cluster.ts). */
export function cluster(): { brokers: string[]; registryUrl: string; mode: string; rack: string } {
  return inject('cluster');
}

/**
 * A raw kafkajs client on the run's cluster, with its logging off, and with the fix for kafkajs'
 * negative timeouts (Node 24's TimeoutNegativeWarning) that Cascade's own clients get.
 */
export function kafkaClient(clientId = uniqueName('test')): Kafka {
  patchKafkajsNegativeTimeout();
  return new Kafka({ brokers: cluster().brokers, clientId, logLevel: logLevel.NOTHING });
}

/** Creates topics and waits until their partitions have leaders. */
export async function createTopic(kafka: Kafka, topic: string, numPartitions = 1): Promise<void> {
  await createTopicsAndWait(kafka, [{ topic, numPartitions }]);
}

/**
 * Creates topics and waits until every broker's metadata names a leader for each partition. On a
 * cluster of several nodes a broker may not know a topic the controller has just created, and
 * kafkajs' `waitForLeaders` gives up on that (`UNKNOWN_TOPIC_OR_PARTITION`) instead of waiting:
 * this polls metadata until the topics are there, whatever the broker asked.
 */
export async function createTopicsAndWait(
  kafka: Kafka,
  topics: ITopicConfig[],
  timeoutMs = 30_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics, waitForLeaders: false });
    const names = topics.map((t) => t.topic);
    let last = 'no metadata yet';
    await waitFor(
      async () => {
        try {
          const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
          const ready =
            found.length === names.length &&
            found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
          if (!ready) last = JSON.stringify(found.map((t) => [t.name, t.partitions.map((p) => p.leader)]));
          return ready;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
          return false;
        }
      },
      () => `leaders for ${names.join(', ')} (last: ${last})`,
      timeoutMs,
      100,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Resolves once `condition()` is true, checking every `intervalMs`; rejects with `describe()`
 * after `timeoutMs`. For waiting on real effects (records arrived, state reached).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  describe: () => string,
  timeoutMs = 30_000,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
