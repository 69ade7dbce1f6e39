/**
 * What the three services share: a logger on stderr, a PostgreSQL pool on the service's own
 * schema, and the `main()` wrapper that starts a service, says `ready` on stdout, and stops it
 * gracefully on SIGTERM / SIGINT.
 * @module
 */

import { createLogger, type Logger } from '@cascade/core';
import type { KafkaConfig } from '@cascade/producer';
import pg from 'pg';
import { readConfig, type ServiceConfig } from './config.js';

/** Set to `1` by the runner: the service exits when its stdin closes (the runner is gone). */
export const exitWithParentVariable = 'ORDER_SAGA_EXIT_WITH_PARENT';

/** A running service. */
export interface Service {
  stop(): Promise<void>;
}

/** A logger that writes one JSON line per record to stderr (the runner keeps it in a log file). */
export function serviceLogger(service: string, level: ServiceConfig['logLevel'] = 'warn'): Logger {
  return createLogger(
    (lvl, message, meta) =>
      process.stderr.write(
        `${JSON.stringify({ at: new Date().toISOString(), service, level: lvl, message, ...meta }, (_key, value: unknown) => (value instanceof Error ? { name: value.name, message: value.message } : typeof value === 'bigint' ? String(value) : value))}\n`,
      ),
    { level },
  );
}

/**
 * The Kafka connection of a service. Requests time out after 5 s (not 30): after a broker restart
 * a request on a connection to the old process is given up quickly and retried on a new one.
 */
export function kafkaConfig(config: ServiceConfig, clientId: string, logger: Logger): KafkaConfig {
  return {
    brokers: [...config.brokers],
    clientId,
    logger,
    requestTimeoutMs: 5_000,
  };
}

/** A pool whose connections see only `schema` (`search_path`). */
export function schemaPool(config: ServiceConfig, schema: string, max = 8): pg.Pool {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`"${schema}" is not a plain schema name.`);
  return new pg.Pool({
    host: config.postgres.host,
    port: config.postgres.port,
    user: config.postgres.user,
    database: config.postgres.database,
    max,
    options: `-c search_path=${schema}`,
  });
}

/** Runs `fn` in one transaction on one pooled client. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * A service's entry point: reads the config, starts the service, writes `ready` on stdout, and
 * stops it on SIGTERM / SIGINT (exit 0), or exits 1 when it fails to start.
 */
export function main(name: string, start: (config: ServiceConfig, logger: Logger) => Promise<Service>): void {
  const config = readConfig();
  const logger = serviceLogger(name, config.logLevel);
  let stopping = false;
  start(config, logger).then(
    (service) => {
      process.stdout.write('ready\n');
      const stop = () => {
        if (stopping) return;
        stopping = true;
        service.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error('stop failed', { error });
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      // Started by the runner: die with it, even when it is killed (its end of stdin closes).
      if (process.env[exitWithParentVariable] === '1') {
        process.stdin.once('close', () => process.exit(1));
        process.stdin.resume();
      }
    },
    (error: unknown) => {
      logger.error('start failed', { error });
      process.exit(1);
    },
  );
}
