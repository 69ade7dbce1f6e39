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
    const [fetched] = (await reader.fetch({
      topic,
      partitions: [{ partition: 0, offset: next }],
      maxWaitMs: 100,
      maxBytes: 1024,
      readCommitted: true,
    })) as [PartitionFetch];
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
      partitions: [{ partition: 0, offset: '8' }],
      maxWaitMs: 50,
      maxBytes: 1024,
      readCommitted: true,
    });
    expect(atEnd).toMatchObject([{ partition: 0, records: [], nextOffset: '8', highWatermark: '8' }]);
  });

  it('refuses an offset past the end and a partition that does not exist with typed errors', async () => {
    const past = reader.fetch({
      topic,
      partitions: [{ partition: 0, offset: '50' }],
      maxWaitMs: 50,
      maxBytes: 1024,
      readCommitted: true,
    });
    await expect(past).rejects.toSatisfy(
      (error: unknown) => isTransportError(error) && error.kafkaType === 'OFFSET_OUT_OF_RANGE',
    );
    const missing = reader.fetch({
      topic,
      partitions: [{ partition: 7, offset: '0' }],
      maxWaitMs: 50,
      maxBytes: 1024,
      readCommitted: true,
    });
    await expect(missing).rejects.toSatisfy(
      (error: unknown) => isTransportError(error) && error.kafkaType === 'UNKNOWN_TOPIC_OR_PARTITION',
    );
  });

  it('fetches several partitions in one call, each from its own offset, in the order asked', async () => {
    const wide = uniqueName('reader-wide');
    await createTopic(raw, wide, 3);
    const producer = raw.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: wide,
      messages: [0, 1, 2].flatMap((partition) =>
        ['a', 'b'].map((value) => ({ partition, value: `${partition}${value}` })),
      ),
    });
    await producer.disconnect();
    const fetched = await reader.fetch({
      topic: wide,
      partitions: [
        { partition: 2, offset: '1' },
        { partition: 0, offset: '0' },
        { partition: 1, offset: '2' },
      ],
      maxWaitMs: 100,
      maxBytes: 1024,
      readCommitted: true,
    });
    expect(
      fetched.map((p) => [p.partition, p.records.map((r) => r.value?.toString()), p.nextOffset]),
    ).toEqual([
      [2, ['2b'], '2'],
      [0, ['0a', '0b'], '2'],
      [1, [], '2'],
    ]);
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = reader.fetch(
      {
        topic,
        partitions: [{ partition: 0, offset: '8' }],
        maxWaitMs: 10_000,
        maxBytes: 1024,
        readCommitted: true,
      },
      controller.signal,
    );
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
  });
});
