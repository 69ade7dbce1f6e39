/**
 * Publishes failed records to retry and dead-letter topics through a Cascade producer
 * (idempotent, acks = all), with the original key and value bytes.
 * @module
 */

import { createProducer, type Producer, type ResolvedKafkaConfig } from '@cascade/producer';
import { bytes, type Headers } from '@cascade/schema';

/** A record to republish: the original bytes with new headers. */
export interface RepublishRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
}

/** Sends records and waits for acks=all. */
export interface Publisher {
  send(record: RepublishRecord): Promise<void>;
  close(): Promise<void>;
}

/**
 * A publisher on a Cascade producer, created on first use. `maxBlockMs` bounds how long one
 * attempt waits for a missing topic's metadata before the caller retries.
 */
export function createPublisher(kafka: ResolvedKafkaConfig, maxBlockMs = 5_000): Publisher {
  let producer: Producer<string | Buffer, Buffer> | undefined;
  const get = (): Producer<string | Buffer, Buffer> => {
    const { sasl, ...connection } = kafka;
    producer ??= createProducer({
      ...connection,
      ...(sasl === undefined ? {} : { sasl }),
      value: bytes(),
      lingerMs: 0,
      maxBlockMs,
      deliveryTimeoutMs: Math.max(maxBlockMs, kafka.requestTimeoutMs) + 5_000,
    });
    return producer;
  };
  return {
    async send(record) {
      await get().send({
        topic: record.topic,
        key: record.key,
        value: record.value as Buffer,
        headers: record.headers,
      });
    },
    async close() {
      await producer?.close();
    },
  };
}
