import { createRequire } from 'node:module';
import { ConfigError } from '@cascade/core';
import { resolveKafkaConfig } from '@cascade/transport';
import { describe, expect, it, vi } from 'vitest';
import { createKafkaClient, toKafkajsRetry, toTransactionalKafkajsRetry } from './client.js';
import { patchKafkajsNegativeTimeout, patchKafkajsStuckRequests } from './patches.js';

interface RequestQueueLike {
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}

describe('resolveKafkaConfig', () => {
  it('fills in the documented defaults', () => {
    const config = resolveKafkaConfig({ brokers: ['127.0.0.1:9092'] });
    expect(config).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      clientId: 'cascade',
      ssl: false,
      sasl: undefined,
      connectionTimeoutMs: 3_000,
      authenticationTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      clientLogLevel: 'info',
    });
    expect(toKafkajsRetry(config.retry)).toEqual({
      initialRetryTime: 300,
      maxRetryTime: 30_000,
      multiplier: 2,
      factor: 0.2,
      retries: 5,
    });
  });

  it('starts a transactional producer retrying after 20 ms, with no less time in total to ride out an outage', () => {
    const sum = (r: {
      initialRetryTime: number;
      multiplier: number;
      maxRetryTime: number;
      retries: number;
    }) =>
      Array.from({ length: r.retries }, (_, i) =>
        Math.min(r.initialRetryTime * r.multiplier ** i, r.maxRetryTime),
      ).reduce((a, b) => a + b, 0);
    const config = resolveKafkaConfig({ brokers: ['127.0.0.1:9092'] });
    const plain = toKafkajsRetry(config.retry);
    const transactional = toTransactionalKafkajsRetry(config.retry);
    // 300, 600, 1200, 2400, 4800 (9.3 s) becomes 20, 40, ..., 5120 (10.2 s).
    expect(transactional).toEqual({ ...plain, initialRetryTime: 20, retries: 9 });
    expect(sum(transactional)).toBeGreaterThanOrEqual(sum(plain));
    const flat = resolveKafkaConfig({
      brokers: ['h:1'],
      retry: { initialIntervalMs: 100, backoffCoefficient: 1, maximumAttempts: 4 },
    }).retry;
    expect(toTransactionalKafkajsRetry(flat)).toMatchObject({ initialRetryTime: 20, retries: 15 });
    const fast = resolveKafkaConfig({ brokers: ['h:1'], retry: { initialIntervalMs: 10 } }).retry;
    expect(toTransactionalKafkajsRetry(fast)).toEqual(toKafkajsRetry(fast));
  });

  it.each([
    [{ brokers: [] }, 'kafka.brokers'],
    [{ brokers: ['no-port'] }, 'kafka.brokers[0]'],
    [{ brokers: ['h:1'], clientId: ' ' }, 'kafka.clientId'],
    [{ brokers: ['h:1'], requestTimeoutMs: -1 }, 'kafka.requestTimeoutMs'],
    [{ brokers: ['h:1'], retry: { backoffCoefficient: 0 } }, 'kafka.retry.backoffCoefficient'],
    [{ brokers: ['h:1'], sasl: { mechanism: 'gssapi' } }, 'kafka.sasl.mechanism'],
    [{ brokers: ['h:1'], sasl: { mechanism: 'plain', username: 'u', password: '' } }, 'kafka.sasl.password'],
  ])('rejects %j naming the field %s', (input, field) => {
    try {
      resolveKafkaConfig(input as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });

  it('never puts a SASL password in a ConfigError message', () => {
    const password = 'hunter2-very-secret';
    try {
      resolveKafkaConfig({ brokers: ['h:1'], sasl: { mechanism: 'scram-sha-512', username: '', password } });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(password);
      expect(JSON.stringify(error)).not.toContain(password);
    }
  });
});

describe('resolveKafkaConfig: unknown and misspelt keys', () => {
  const fail = (input: unknown, prefix?: string): ConfigError => {
    try {
      resolveKafkaConfig(input as never, prefix);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    return expect.unreachable('accepted');
  };
  const brokers = ['h:1'];

  it('refuses an unknown key, listing the options when none is close', () => {
    const error = fail({ brokers, topic: 'orders' });
    expect(error.field).toBe('kafka.topic');
    expect(error.message).toContain('The options of kafka are: brokers, clientId, ssl, sasl,');
  });

  it('suggests the nearest key of a misspelt one, and the kafkajs name a Cascade one replaces', () => {
    expect(fail({ brokers, requestTimeoutMS: 1 }).message).toBe(
      'Invalid option kafka.requestTimeoutMS: unknown option (option names are case-sensitive). Did you mean requestTimeoutMs?',
    );
    expect(fail({ brokers, connectionTimeout: 1 }).message).toContain('Did you mean connectionTimeoutMs?');
    expect(fail({ broker: brokers }).message).toContain('Did you mean brokers?');
  });

  it('names the path the caller gave', () => {
    expect(fail({ brokers, clientID: 'x' }, 'consumer.kafka').field).toBe('consumer.kafka.clientID');
  });

  it('checks sasl, ssl and retry, naming their nested paths', () => {
    const sasl = fail({ brokers, sasl: { mechanism: 'plain', username: 'u', pasword: 'hunter2' } });
    expect(sasl.field).toBe('kafka.sasl.pasword');
    expect(sasl.message).toContain('Did you mean password?');
    expect(sasl.message).not.toContain('hunter2');
    expect(fail({ brokers, sasl: { mechansim: 'plain', username: 'u', password: 'p' } }).field).toBe(
      'kafka.sasl.mechansim',
    );
    const ssl = fail({ brokers, ssl: { rejectUnauthorised: false } });
    expect(ssl.field).toBe('kafka.ssl.rejectUnauthorised');
    expect(ssl.message).toContain('Did you mean rejectUnauthorized?');
    const retry = fail({ brokers, retry: { retries: 3 } });
    expect(retry.field).toBe('kafka.retry.retries');
    expect(retry.message).toContain('Did you mean maximumAttempts?'); // kafkajs' name of it
    expect(fail({ brokers, logLevel: 4 }).message).toContain('Did you mean clientLogLevel?');
    expect(fail({ brokers, retry: { maximumAttemps: 3 } }).message).toContain(
      'Did you mean maximumAttempts?',
    );
  });

  it("refuses a SASL key of another mechanism, naming the mechanism's keys", () => {
    const error = fail({
      brokers,
      sasl: { mechanism: 'plain', username: 'u', password: 'p', oauthBearerProvider: () => ({}) },
    });
    expect(error.field).toBe('kafka.sasl.oauthBearerProvider');
    expect(error.message).toBe(
      "Invalid option kafka.sasl.oauthBearerProvider: not an option of SASL mechanism 'plain', which takes mechanism, username, password.",
    );
  });

  it('refuses nested options that are not plain objects', () => {
    expect(fail({ brokers, retry: [1] }).field).toBe('kafka.retry');
    expect(fail({ brokers, sasl: 'plain' }).field).toBe('kafka.sasl');
    expect(fail({ brokers, ssl: new Map() }).field).toBe('kafka.ssl');
    expect(fail([]).field).toBe('kafka');
  });

  it('accepts every documented key, tls.connect options, and known keys set to undefined', () => {
    const config = resolveKafkaConfig({
      brokers,
      clientId: 'c',
      ssl: { rejectUnauthorized: true, ca: 'pem', servername: 'kafka', minVersion: 'TLSv1.2' },
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 't' }) },
      connectionTimeoutMs: 1,
      authenticationTimeoutMs: 1,
      requestTimeoutMs: 1,
      retry: { maximumAttempts: 2, nonRetryableErrorTypes: [], jitter: 0 },
      logger: undefined,
      clientLogLevel: 'warn',
    } as never);
    expect(config.clientId).toBe('c');
  });
});

describe('TimeoutNegativeWarning (tulios/kafkajs#1751)', () => {
  it("comes from kafkajs' RequestQueue scheduling with a negative delay, and is gone once patched", async () => {
    const require = createRequire(import.meta.url);
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (
      options: object,
    ) => RequestQueueLike;
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    // The delays kafkajs hands to setTimeout: the cause, on every Node version.
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
      callback: () => void,
      delay?: number,
    ) => {
      delays.push(delay ?? 0);
      return realSetTimeout(callback, delay);
    }) as typeof setTimeout);
    const schedule = async (): Promise<void> => {
      const queue = new RequestQueue({
        maxInFlightRequests: 1,
        requestTimeout: 1_000,
        clientId: 't',
        broker: 'b',
        logger,
      });
      queue.scheduleCheckPendingRequests();
      queue.destroy();
      await new Promise((resolve) => setImmediate(resolve));
    };
    process.on('warning', onWarning);
    try {
      await schedule();
      expect(Math.min(...delays)).toBeLessThan(0);
      const seen = [...warnings];
      // Whether this Node warns on a negative delay at all (24 does; 22 clamps it silently).
      clearTimeout(realSetTimeout(() => undefined, -1));
      await new Promise((resolve) => setImmediate(resolve));
      const nodeWarns = warnings.includes('TimeoutNegativeWarning');
      expect(seen).toEqual(nodeWarns ? ['TimeoutNegativeWarning'] : []);
      warnings.length = 0;
      delays.length = 0;
      expect(patchKafkajsNegativeTimeout()).toBe(true);
      expect(patchKafkajsNegativeTimeout()).toBe(true);
      await schedule();
      expect(delays.length).toBeGreaterThan(0);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      spy.mockRestore();
    }
  });

  it('is applied by createKafkaClient, so every client Cascade builds is covered', () => {
    createKafkaClient({ brokers: ['127.0.0.1:9092'] });
    const require = createRequire(import.meta.url);
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: object };
    expect(Object.getOwnPropertySymbols(RequestQueue.prototype).map(String)).toContain(
      'Symbol(cascade.kafkajs.timeout-negative-patch)',
    );
  });
});

describe('requests in flight on a closing connection (kafkajs 2.2.4 RequestQueue)', () => {
  it('still time out once the connection is no longer connected, so disconnect() cannot wait forever', async () => {
    expect(patchKafkajsStuckRequests()).toBe(true);
    expect(patchKafkajsStuckRequests()).toBe(true);
    const require = createRequire(import.meta.url);
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (
      options: object,
    ) => {
      inflight: Map<number, unknown>;
      requestTimeoutIntervalId: NodeJS.Timeout | undefined;
      scheduleRequestTimeoutCheck(): void;
      waitForPendingRequests(): Promise<void>;
      destroy(): void;
      emit(event: string): void;
    };
    const silent = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const queue = new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 50,
      enforceRequestTimeout: true,
      clientId: 't',
      broker: 'b',
      logger: silent,
      // The connection is closing: kafkajs' own check stopped timing requests out from here on.
      isConnected: () => false,
    });
    const timedOut: number[] = [];
    // Sent just now, due to time out after 150 ms: not yet overdue at the first check (50 ms).
    queue.inflight.set(7, {
      sentAt: Date.now(),
      requestTimeout: 150,
      timeoutRequest: () => {
        timedOut.push(7);
        queue.inflight.delete(7);
        queue.emit('requestQueueEmpty');
      },
    });
    const drained = queue.waitForPendingRequests().then(() => 'drained');
    queue.scheduleRequestTimeoutCheck();
    const stuck = new Promise((resolve) => setTimeout(() => resolve('stuck'), 2_000).unref());
    expect(await Promise.race([drained, stuck])).toBe('drained');
    expect(timedOut).toEqual([7]);
    // With nothing left in flight on a closed connection the check stops itself.
    await new Promise((resolve) => setTimeout(resolve, 120));
    queue.destroy();
  });
});
