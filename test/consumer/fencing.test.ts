// The exactly-once fencing scheme, step by step on the real broker: one transactional id per
// input partition, so the member that takes a partition over fences the previous owner, whose
// transaction (output and offsets) then fails and never becomes visible.

import { createConsumer } from '@cascade/consumer';
import { noopLogger } from '@cascade/core';
import { ProducerFencedError, resolveKafkaConfig } from '@cascade/producer';
import { transportClientOf } from '@cascade/producer/internal';
import { bytes } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
// The registry of per-partition producers is internal; the scheme is what this test pins.
import { createTransactionalOutputs } from '../../packages/consumer/src/internal/eos-runner.js';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, readTopic } from './helpers.js';

describe('exactly-once fencing', () => {
  it("fences the previous owner of a partition: the zombie's output and offsets never become visible", async () => {
    const kafka = kafkaClient();
    const input = uniqueName('fence-in');
    const output = uniqueName('fence-out');
    const groupId = uniqueName('fence');
    await createTopic(kafka, input);
    await createTopic(kafka, output);
    const config = resolveKafkaConfig({ brokers: cluster().brokers });
    const options = { transactionalIdPrefix: groupId, transactionTimeoutMs: 30_000, producer: {} };
    const zombie = createTransactionalOutputs(
      transportClientOf(config),
      config,
      groupId,
      options,
      noopLogger,
    );
    const owner = createTransactionalOutputs(transportClientOf(config), config, groupId, options, noopLogger);
    try {
      const { producer: zombieProducer } = await zombie.producerFor(input, 0);
      // The partition moves: the new owner initialises the same transactional id.
      const { producer: ownerProducer, fresh } = await owner.producerFor(input, 0);
      expect(fresh).toBe(true);
      const offsets = (offset: string) => ({
        consumerGroupId: groupId,
        topics: [{ topic: input, partitions: [{ partition: 0, offset }] }],
      });
      const zombieCommit = zombieProducer.transaction(async (tx) => {
        await tx.send({ topic: output, value: Buffer.from('from-zombie') });
        await tx.sendOffsets(offsets('5'));
      });
      await expect(zombieCommit).rejects.toBeInstanceOf(ProducerFencedError);
      await ownerProducer.transaction(async (tx) => {
        await tx.send({ topic: output, value: Buffer.from('from-owner') });
        await tx.sendOffsets(offsets('3'));
      });
      const records = await readTopic(kafka, output, 1);
      expect(records.map((r) => r.value?.toString())).toEqual(['from-owner']);
      expect(await committed(kafka, groupId, input)).toEqual({ 0: '3' });
    } finally {
      await zombie.close();
      await owner.close();
    }
  });

  it("aborts a dead owner's open transaction when the partition is assigned, before any record of it comes", {
    timeout: 30_000,
  }, async () => {
    const kafka = kafkaClient();
    const input = uniqueName('fence-quiet-in');
    const output = uniqueName('fence-quiet-out');
    const groupId = uniqueName('fence-quiet');
    await createTopic(kafka, input);
    await createTopic(kafka, output);
    // The previous owner: a transaction left open on the output (its process died mid-batch),
    // its timeout far off.
    const dead = kafka.producer({
      transactionalId: `${groupId}-${input}-0`,
      transactionTimeout: 60_000,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await dead.connect();
    const open = await dead.transaction();
    await open.send({ topic: output, messages: [{ value: 'never committed' }] });
    const lastStable = async (): Promise<bigint> => {
      const reader = transportClientOf({ brokers: cluster().brokers }).reader();
      await reader.connect();
      try {
        const [fetched] = await reader.fetch({
          topic: output,
          partitions: [{ partition: 0, offset: '0' }],
          maxWaitMs: 0,
          maxBytes: 1024,
          readCommitted: true,
        });
        return BigInt(fetched?.lastStableOffset ?? -1);
      } finally {
        await reader.disconnect();
      }
    };
    expect(await lastStable()).toBe(0n);
    // The new owner: an exactly-once consumer of the quiet input partition.
    await using consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      eos: {},
      logger: noopLogger,
    });
    consumer.subscribe({ topic: input, value: bytes(), dlt: false, handler: () => undefined });
    await consumer.start();
    // Its assignment initialised the transactional id: the open transaction is aborted (its
    // abort marker moves the last stable offset past it) with no input record handled.
    await waitFor(
      async () => (await lastStable()) > 0n,
      () => 'the open transaction aborted',
      15_000,
      100,
    );
    await dead.disconnect().catch(() => undefined);
  });
});
