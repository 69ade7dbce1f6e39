/**
 * Publishes failed records to retry and dead-letter topics. Runs on an idempotent kafkajs
 * producer behind this small interface until `@cascade/producer`'s `createProducer` lands.
 * @module
 */

import type { Headers } from '@cascade/schema';
import type { Kafka, Producer } from 'kafkajs';

/** A record to republish: the original bytes with new headers. */
export interface RepublishRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  readonly timestamp?: string;
}

/** Sends records and waits for acks=all. */
export interface Publisher {
  send(record: RepublishRecord): Promise<void>;
  close(): Promise<void>;
}

/** A publisher on an idempotent kafkajs producer, connected on first use. */
export function createPublisher(kafka: Kafka): Publisher {
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  const connect = (): Promise<Producer> => {
    connecting ??= (async () => {
      const created = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      await created.connect();
      producer = created;
      return created;
    })().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };
  return {
    async send(record) {
      const p = await connect();
      await p.send({
        topic: record.topic,
        acks: -1,
        messages: [{ key: record.key, value: record.value, headers: record.headers }],
      });
    },
    async close() {
      if (connecting) await connecting.catch(() => undefined);
      await producer?.disconnect();
    },
  };
}
