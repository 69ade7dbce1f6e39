// The local cluster can lose and regain its broker, and leaves nothing behind, even when the
// process that started it is killed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fetchMetadata, startCluster, UnsupportedOperationError } from '@cascade/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/kafka.js';

const fixture = fileURLToPath(new URL('./fixtures/start-and-hold.ts', import.meta.url));

async function answers(bootstrap: string): Promise<boolean> {
  const [host = '', port = ''] = bootstrap.split(':');
  return fetchMetadata(host, Number(port), 1_000).then(
    () => true,
    () => false,
  );
}

describe('local cluster lifecycle', () => {
  it('stops, kills and restarts the broker on the same port, keeping its records', async () => {
    await using cluster = await startCluster({ mode: 'jvm', registry: false });
    const bootstrap = cluster.brokers[0] ?? '';
    const kafka = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName('restart');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'before-restart' }] });
    await producer.disconnect();

    await cluster.stopBroker();
    expect(await answers(bootstrap)).toBe(false);
    await cluster.startBroker();
    expect(await answers(bootstrap)).toBe(true);
    await cluster.killBroker();
    expect(await answers(bootstrap)).toBe(false);
    await cluster.startBroker();

    const consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? ''),
    });
    await waitFor(
      () => values.length > 0,
      () => 'the record written before the restarts',
    );
    await consumer.disconnect();
    expect(values).toEqual(['before-restart']);
  });

  it('refuses to restart a broker it did not start', async () => {
    await using external = await startCluster({
      registry: false,
      env: { KAFKA_BROKERS: '127.0.0.1:9' },
    });
    expect(external.mode).toBe('external');
    await expect(external.stopBroker()).rejects.toBeInstanceOf(UnsupportedOperationError);
  });

  it('kills the JVM and removes its data when the process that started it is killed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@cascade/source', fixture], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before starting`)));
    });
    const { brokers, dataDir } = JSON.parse(first) as { brokers: string[]; dataDir: string };
    const bootstrap = brokers[0] ?? '';
    expect(await answers(bootstrap)).toBe(true);
    expect(existsSync(dataDir)).toBe(true);

    child.kill('SIGKILL');

    await waitFor(
      async () => !(await answers(bootstrap)) && !existsSync(dataDir),
      () => `the orphaned broker at ${bootstrap} to be gone and ${dataDir} removed`,
      20_000,
      100,
    );
  });
});
