/**
 * The kafkajs client the consumer runs on: `@cascade/producer`'s shared factory, so the
 * connection config, the logger bridge and the kafkajs `TimeoutNegativeWarning` fix are the same
 * for producers and consumers.
 * @module
 */

import { createKafkaClient, type ResolvedKafkaConfig, reportDeclinedPatch } from '@cascade/producer';
import type { Kafka } from 'kafkajs';
import { patchKafkajsCoordinatorRediscovery, patchKafkajsFetchFailover } from './kafkajs-group-patch.js';

/**
 * Builds the kafkajs client of a resolved connection config, with the consumer group's failover
 * fixes applied (see `kafkajs-group-patch.ts`).
 */
export function createClient(config: ResolvedKafkaConfig): Kafka {
  reportDeclinedPatch(
    config.logger,
    'coordinator-rediscovery',
    patchKafkajsCoordinatorRediscovery(),
    "after the group coordinator's broker dies, commits go to the dead node until the member rejoins (consumption nearly stops for a minute or more).",
  );
  reportDeclinedPatch(
    config.logger,
    'fetch-failover',
    patchKafkajsFetchFailover(),
    'one unreachable broker stops the fetches of every broker, and a dead preferred read replica is kept until metadataMaxAgeMs.',
  );
  return createKafkaClient(config);
}
