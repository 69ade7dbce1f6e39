// The seam's partition reader on the broker: reads a partition by hand (no consumer group), only
// what committed transactions wrote, past aborted records and transaction markers.
import { transportClientOf } from '@cascade/producer/internal';
import { isTransportError, type PartitionFetch, type TransportPartitionReader } from '@cascade/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName } from '../support/kafka.js';

const kafka = { brokers: cluster().brokers, clientId: uniqueName('reader') };

/** Fetches from `offset` until the high watermark; returns the values read and the fetches made. */
async function readToEnd(
  reader: TransportPartitionReader,
  topic: string,
  offset = '0',
): Promise<{ values: string[]; last: PartitionFetch }> {
  const values: string[] = [];
  let next = offset;
  for (;;) {
    const fetched = await reader.fetch({
      topic,
      partition: 0,
      offset: next,
      maxWaitMs: 100,
      maxBytes: 1024,
      readCommitted: true,
    });
    for (const record of fetched.records) values.push(record.value?.toString() ?? '<null>');
    next = fetched.nextOffset;
    if (BigInt(next) >= BigInt(fetched.lastStableOffset)) return { values, last: fetched };
  }
}

describe('partition reader (kafkajs)', () => {
  const client = transportClientOf(kafka);
  const reader = client.reader();
  const raw = kafkaClient();
  const topic = uniqueName('reader');

  beforeAll(async () => {
    await createTopic(raw, topic, 1);
    const producer = raw.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: 'plain-1' }] });
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
      await aborted.abort();
      await producer.send({ topic, messages: [{ value: 'plain-2' }] });
    } finally {
      await producer.disconnect();
    }
    await reader.connect();
  });

  afterAll(async () => {
    await reader.disconnect();
  });

  it('reads committed records only, past aborted ones and transaction markers, in small fetches', async () => {
    const { values, last } = await readToEnd(reader, topic);
    expect(values).toEqual(['plain-1', 'committed-1', 'committed-2', 'plain-2']);
    // Eight offsets: four records read, two aborted, a commit and an abort marker.
    expect(last.nextOffset).toBe('8');
    expect(last.highWatermark).toBe('8');
    expect(last.logStartOffset).toBe('0');
  });

  it('reads from any offset, and an empty answer at the end says where it stands', async () => {
    const { values } = await readToEnd(reader, topic, '2');
    expect(values).toEqual(['committed-2', 'plain-2']);
    const atEnd = await reader.fetch({
      topic,
      partition: 0,
      offset: '8',
      maxWaitMs: 50,
      maxBytes: 1024,
      readCommitted: true,
    });
    expect(atEnd).toMatchObject({ records: [], nextOffset: '8', highWatermark: '8' });
  });

  it('refuses an offset past the end and a partition that does not exist with typed errors', async () => {
    const past = reader.fetch({
      topic,
      partition: 0,
      offset: '50',
      maxWaitMs: 50,
      maxBytes: 1024,
      readCommitted: true,
    });
    await expect(past).rejects.toSatisfy(
      (error: unknown) => isTransportError(error) && error.kafkaType === 'OFFSET_OUT_OF_RANGE',
    );
    const missing = reader.fetch({
      topic,
      partition: 7,
      offset: '0',
      maxWaitMs: 50,
      maxBytes: 1024,
      readCommitted: true,
    });
    await expect(missing).rejects.toSatisfy(
      (error: unknown) => isTransportError(error) && error.kafkaType === 'UNKNOWN_TOPIC_OR_PARTITION',
    );
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = reader.fetch(
      { topic, partition: 0, offset: '8', maxWaitMs: 10_000, maxBytes: 1024, readCommitted: true },
      controller.signal,
    );
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
  });
});
