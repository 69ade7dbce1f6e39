/**
 * The transport a connection config runs on: its `transport`, else kafkajs.
 * @module
 */

import { kafkajsTransport } from '@cascade/kafkajs';
import {
  isResolvedKafkaConfig,
  type KafkaConfig,
  type ResolvedKafkaConfig,
  resolveKafkaConfig,
  type TransportClient,
} from '@cascade/transport';

/** The transport client of a connection config (resolving it first when it is not). @internal */
export function transportClientOf(config: KafkaConfig | ResolvedKafkaConfig): TransportClient {
  const resolved = isResolvedKafkaConfig(config) ? config : resolveKafkaConfig(config);
  return (resolved.transport ?? kafkajsTransport).client(resolved);
}
