import { isCascadeError } from '@cascade/core';
import { toTransportError } from '@cascade/kafkajs/internal';
import { describe, expect, it } from 'vitest';
import type { Accumulator } from './accumulator.js';
import { KafkaFatalError, KafkaRetriableError, ProducerFencedError } from './errors.js';
import { toProducerError as mapTransportError } from './internal/error-mapping.js';

/** What the producer gets from the kafkajs transport: its errors classified, then mapped. */
const toProducerError: typeof mapTransportError = (error, site) =>
  mapTransportError(isCascadeError(error) ? error : toTransportError(error), site);

import type { RecordPipeline } from './internal/pipeline.js';
import { isRetriableSendOffsetsError, sendOffsetsBackoffMs, TransactionHandle } from './transaction.js';

/** A kafkajs protocol error as kafkajs 2.2.4 throws it. */
const protocolError = (type: string, retriable = true) =>
  Object.assign(new Error(`The broker says ${type}`), { name: 'KafkaJSProtocolError', type, retriable });

const offsets = {
  consumerGroupId: 'group',
  topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '42' }] }],
};

function handle(sendOffsets: () => Promise<void>, deadline = Number.POSITIVE_INFINITY) {
  return new TransactionHandle(
    {} as RecordPipeline<unknown, unknown>,
    {} as Accumulator,
    { sendOffsets },
    (error, operation) => toProducerError(error, { operation }),
    deadline,
  );
}

describe('sendOffsets in a transaction', () => {
  it.each([
    'COORDINATOR_NOT_AVAILABLE',
    'GROUP_COORDINATOR_NOT_AVAILABLE',
    'NOT_COORDINATOR',
    'NOT_COORDINATOR_FOR_GROUP',
    'COORDINATOR_LOAD_IN_PROGRESS',
    'GROUP_LOAD_IN_PROGRESS',
    'CONCURRENT_TRANSACTIONS',
  ])('retries %s, a coordinator that moved, loads or is busy', (type) => {
    expect(isRetriableSendOffsetsError(protocolError(type))).toBe(true);
  });

  it('retries a coordinator error kafkajs wrapped after its own retries', () => {
    const wrapped = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: protocolError('NOT_COORDINATOR_FOR_GROUP'),
    });
    expect(isRetriableSendOffsetsError(wrapped)).toBe(true);
    const connection = Object.assign(new Error('Connection error: ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
    });
    expect(isRetriableSendOffsetsError(connection)).toBe(true);
  });

  it.each([
    ['a fenced producer', protocolError('PRODUCER_FENCED', false)],
    ['an old epoch', protocolError('INVALID_PRODUCER_EPOCH', false)],
    ['a missing ACL', protocolError('GROUP_AUTHORIZATION_FAILED', false)],
    ['an unknown error', new Error('boom')],
    ['a non-object', 'boom'],
  ])('does not retry %s', (_what, error) => {
    expect(isRetriableSendOffsetsError(error)).toBe(false);
  });

  it('backs off from 20 ms doubling up to 1 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(sendOffsetsBackoffMs)).toEqual([
      20, 40, 80, 160, 320, 640, 1_000, 1_000,
    ]);
  });

  it('sends the offsets again after the group coordinator moved, until they are accepted', async () => {
    const failures = [
      protocolError('GROUP_COORDINATOR_NOT_AVAILABLE'),
      protocolError('NOT_COORDINATOR_FOR_GROUP'),
      protocolError('CONCURRENT_TRANSACTIONS'),
    ];
    let calls = 0;
    const tx = handle(async () => {
      calls += 1;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
    });
    await tx.sendOffsets(offsets);
    expect(calls).toBe(4);
    expect(tx.firstFailure).toBeUndefined();
  });

  it('gives up at the transaction deadline with a retriable error, and the transaction must not commit', async () => {
    let calls = 0;
    const tx = handle(async () => {
      calls += 1;
      throw protocolError('NOT_COORDINATOR_FOR_GROUP');
    }, Date.now() + 100);
    const error = await tx.sendOffsets(offsets).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KafkaRetriableError);
    expect((error as KafkaRetriableError).code).toBe('CASCADE_PRODUCER_RETRIABLE');
    expect((error as KafkaRetriableError).kafkaType).toBe('NOT_COORDINATOR_FOR_GROUP');
    expect(calls).toBeGreaterThan(1);
    expect(tx.firstFailure).toBe(error);
  });

  it('does not retry a fenced producer', async () => {
    let calls = 0;
    const tx = handle(async () => {
      calls += 1;
      throw protocolError('PRODUCER_FENCED', false);
    });
    const error = await tx.sendOffsets(offsets).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerFencedError);
    expect(calls).toBe(1);
  });

  it('does not retry an unknown error', async () => {
    const tx = handle(async () => {
      throw new Error('boom');
    });
    await expect(tx.sendOffsets(offsets)).rejects.toBeInstanceOf(KafkaFatalError);
  });
});
