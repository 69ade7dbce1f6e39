/**
 * `@cascade/kafkajs`: Cascade's transport on kafkajs 2.2.4, the default of every Cascade client
 * (`KafkaConfig.transport`). Everything of kafkajs lives here: the client factory, the logger
 * bridge, the patches of kafkajs' internals (each warns once when it declines), Cascade's Produce
 * encoder, the rack-aware assignor's protocol, and the one table that classifies kafkajs errors.
 *
 * @example
 * ```ts
 * import { kafkajsTransport } from '@cascade/kafkajs';
 * import { createProducer } from '@cascade/producer';
 *
 * const producer = createProducer({ kafka: { brokers: ['127.0.0.1:9092'], transport: kafkajsTransport }, value: string() });
 * ```
 * @module
 */

export { kafkajsTransport } from './transport.js';
