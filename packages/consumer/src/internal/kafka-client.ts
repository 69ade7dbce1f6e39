/**
 * The kafkajs client the consumer runs on: `@cascade/producer`'s shared factory, so the
 * connection config, the logger bridge and the kafkajs `TimeoutNegativeWarning` fix are the same
 * for producers and consumers.
 * @module
 */

import { createKafkaClient, type ResolvedKafkaConfig } from '@cascade/producer';
import type { Kafka } from 'kafkajs';
import { patchKafkajsCoordinatorRediscovery, patchKafkajsFetchFailover } from './kafkajs-group-patch.js';

/**
 * Builds the kafkajs client of a resolved connection config, with the consumer group's failover
 * fixes applied (see `kafkajs-group-patch.ts`).
 */
export function createClient(config: ResolvedKafkaConfig): Kafka {
  patchKafkajsCoordinatorRediscovery();
  patchKafkajsFetchFailover();
  return createKafkaClient(config);
}
