/**
 * The kafkajs client the consumer runs on: `@cascade/producer`'s shared factory, so the
 * connection config, the logger bridge and the kafkajs `TimeoutNegativeWarning` fix are the same
 * for producers and consumers.
 * @module
 */

import { createKafkaClient, type ResolvedKafkaConfig } from '@cascade/producer';
import type { Kafka } from 'kafkajs';

/** Builds the kafkajs client of a resolved connection config. */
export function createClient(config: ResolvedKafkaConfig): Kafka {
  return createKafkaClient(config);
}
