// Shutdown: stop() drains in-flight handlers and commits them, abandons those past the deadline
// (their records stay uncommitted and are delivered again), and a service drains on SIGTERM.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createConsumer } from '@cascade/consumer';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce } from './helpers.js';

const service = fileURLToPath(new URL('./fixtures/sigterm-service.ts', import.meta.url));

describe('shutdown', () => {
  it('waits for in-flight handlers on stop() and commits what they finished', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('drain');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic);
    await produce(kafka, topic, [{ value: 'a' }, { value: 'b' }]);
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handled: string[] = [];
    const started: string[] = [];
    const consumer = createConsumer({ kafka: { brokers: cluster().brokers }, groupId, fromBeginning: true });
    consumer.subscribe({
      topic,
      value: string(),
      tombstones: 'skip',
      handler: async (m) => {
        started.push(m.value);
        await gate;
        handled.push(m.value);
      },
    });
    await consumer.start();
    await waitFor(
      () => started.length === 1,
      () => 'the first record in flight',
    );
    let stopped = false;
    const stopping = consumer.stop().then(() => {
      stopped = true;
    });
    await waitFor(
      () => consumer.state === 'stopping',
      () => 'stopping',
    );
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(consumer.state).toBe('stopped');
    // The in-flight record finished and was committed; the next one was never started.
    expect(handled).toEqual(['a']);
    expect(started).toEqual(['a']);
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '1' });
  });

  it('abandons a handler still running at stopTimeoutMs: its record stays uncommitted and comes back', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('abandon');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic);
    await produce(kafka, topic, [{ value: 'stuck' }]);
    const first = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      stopTimeoutMs: 300,
    });
    const aborted: boolean[] = [];
    first.subscribe({
      topic,
      value: string(),
      tombstones: 'skip',
      handler: async (m) => {
        m.signal.addEventListener('abort', () => aborted.push(true));
        await new Promise(() => {});
      },
    });
    await first.start();
    await waitFor(
      () => aborted.length === 0 && first.stats().inFlight === 1,
      () => 'the record in flight',
    );
    await first.stop();
    expect(aborted).toEqual([true]);
    // Nothing was committed past the abandoned record (offset 0 is the next to read).
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '0' });
    const again: string[] = [];
    const second = createConsumer({ kafka: { brokers: cluster().brokers }, groupId, fromBeginning: true });
    second.subscribe({
      topic,
      value: string(),
      tombstones: 'skip',
      handler: (m) => void again.push(m.value),
    });
    await second.start();
    await waitFor(
      () => again.length === 1,
      () => 'the abandoned record delivered again',
    );
    await second.stop();
    expect(again).toEqual(['stuck']);
  });

  it('drains a service on SIGTERM with stopOnSignals: the record in flight finishes, is committed, the process exits 0, and stderr stays empty', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('sigterm');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic);
    await produce(kafka, topic, [{ value: 'one' }, { value: 'two' }, { value: 'three' }]);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@cascade/source',
        service,
        cluster().brokers.join(','),
        topic,
        groupId,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const events: Array<{ started?: string; finished?: string }> = [];
    createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line)));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(
      () => events.some((e) => e.started === '0'),
      () => 'the first handler to start',
    );
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(events).toEqual([{ started: '0' }, { finished: '0' }]);
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '1' });
    // Node 24 + kafkajs print TimeoutNegativeWarning (kafkajs #1751) unless patched: nothing reaches stderr.
    expect(stderr).toBe('');
  });
});
