// A consumer whose start() failed can start again once the cause is gone; lifecycle misuse is a
// StateError.
import { createConsumer, MissingTopicsError } from '@cascade/consumer';
import { StateError } from '@cascade/core';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { produce } from './helpers.js';

describe('consumer lifecycle', () => {
  it('starts again after a start that failed, once the missing topic exists', async () => {
    const topic = uniqueName('late-topic');
    const seen: string[] = [];
    await using consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId: uniqueName('restart'),
      fromBeginning: true,
    });
    consumer.subscribe({
      topic,
      value: string(),
      tombstones: 'skip',
      dlt: false,
      handler: (m) => void seen.push(m.value),
    });
    await expect(consumer.start()).rejects.toBeInstanceOf(MissingTopicsError);
    expect(consumer.state).toBe('failed');

    const kafka = kafkaClient();
    await createTopic(kafka, topic, 1);
    await produce(kafka, topic, [{ value: 'v1' }, { value: 'v2' }]);
    await consumer.start();
    expect(consumer.state).toBe('running');
    await waitFor(
      () => seen.length >= 2,
      () => `2 records, got ${seen.length}`,
    );
    expect(seen).toEqual(['v1', 'v2']);
    await consumer.close();
    expect(consumer.state).toBe('stopped');
  });

  it('refuses calls out of order with StateError', async () => {
    const consumer = createConsumer({ kafka: { brokers: cluster().brokers }, groupId: uniqueName('state') });
    await expect(consumer.start()).rejects.toBeInstanceOf(StateError);
    await expect(consumer.seek({ topic: 't', partition: 0, offset: '0' })).rejects.toMatchObject({
      code: 'CASCADE_STATE',
      operation: 'seek',
      retriable: false,
    });
    await consumer.close();
  });
});
