// Helpers shared by integration tests: unique names, kafkajs clients on the run's cluster, and
// waiting on conditions (never on fixed sleeps).
import { randomUUID } from 'node:crypto';
import { patchKafkajsNegativeTimeout } from '@cascade/producer';
import { Kafka, logLevel } from 'kafkajs';
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
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
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
