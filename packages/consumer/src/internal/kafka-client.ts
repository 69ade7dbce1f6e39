/**
 * The kafkajs client the consumer runs on. A small adapter until `@cascade/producer` exports
 * its shared client factory (`createKafkaClient`, with the `TimeoutNegativeWarning` fix and
 * the logger bridge); then this file delegates to it.
 * @module
 */

import type { Logger } from '@cascade/core';
import { Kafka, logLevel } from 'kafkajs';

/** Builds a kafkajs client whose log records go to `logger` (warn and up). */
export function createClient(brokers: readonly string[], clientId: string, logger: Logger): Kafka {
  return new Kafka({
    brokers: [...brokers],
    clientId,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, timestamp: _t, logger: _l, ...meta } = log;
        const withNs = { kafkajs: namespace, ...meta };
        if (level === logLevel.ERROR) logger.error(message, withNs);
        else if (level === logLevel.WARN) logger.warn(message, withNs);
        else logger.debug(message, withNs);
      },
  });
}
