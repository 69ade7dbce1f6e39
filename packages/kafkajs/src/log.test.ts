// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the last test quotes kafkajs source lines, template literals included.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createLogger, type LogLevel, type LogMeta } from '@cascade/core';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsLogCreator } from './client.js';
import { kafkajsLevelOf } from './log.js';

type From = 'error' | 'warn' | 'info';
const levels: Record<From, logLevel> = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO };

function levelOf(from: From, namespace: string, message: string, meta: Record<string, unknown> = {}) {
  return kafkajsLevelOf({ namespace, level: levels[from], message, meta });
}

const broker = { broker: '127.0.0.1:9092', clientId: 'cascade' };

describe('kafkajs log levels', () => {
  it('makes the error answers a fresh cluster gives, which kafkajs retries, debug', () => {
    const answers: Array<[string, string]> = [
      ['GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'],
      [
        'InitProducerId(key: 22, version: 1)',
        "The coordinator is loading and hence can't process requests for this group",
      ],
      ['JoinGroup(key: 11, version: 5)', 'This is not the correct coordinator for this group'],
      [
        'Metadata(key: 3, version: 6)',
        'There is no leader for this topic-partition as we are in the middle of a leadership election',
      ],
      ['Produce(key: 0, version: 7)', 'This server is not the leader for that topic-partition'],
      ['ListOffsets(key: 2, version: 3)', 'This server does not host this topic-partition'],
      ['Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed'],
      ['SyncGroup(key: 14, version: 3)', 'The coordinator is not aware of this member'],
      ['OffsetCommit(key: 8, version: 5)', 'Specified group generation id is not valid'],
      [
        'AddPartitionsToTxn(key: 24, version: 1)',
        'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      ],
    ];
    for (const [request, error] of answers) {
      expect(
        levelOf('error', 'Connection', `Response ${request}`, {
          ...broker,
          error,
          correlationId: 7,
          size: 40,
        }),
        error,
      ).toBe('debug');
    }
  });

  it('keeps an error answer kafkajs gives up on at error', () => {
    for (const error of [
      'Not authorized to access topics: [Topic authorization failed]',
      'The request included a message larger than the max message size the server will accept',
      "Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer's transaction has been expired by the broker",
      'Topic creation errors',
    ]) {
      expect(
        levelOf('error', 'Connection', 'Response Produce(key: 0, version: 7)', { ...broker, error }),
        error,
      ).toBe('error');
    }
  });

  it('makes connection attempts the broker pool retries debug', () => {
    expect(
      levelOf('error', 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
        ...broker,
        stack: 'Error: ...',
      }),
    ).toBe('debug');
    expect(levelOf('error', 'Connection', 'Connection timeout', broker)).toBe('debug');
    expect(
      levelOf(
        'error',
        'BrokerPool',
        'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        { retryCount: 0, retryTime: 300 },
      ),
    ).toBe('debug');
    expect(
      levelOf('error', 'BrokerPool', 'Failed to connect to broker, reconnecting', {
        retryCount: 1,
        retryTime: 600,
      }),
    ).toBe('debug');
  });

  it('makes a retried send or seed-broker answer debug, and keeps one kafkajs bails on at error', () => {
    expect(
      levelOf(
        'error',
        'Producer',
        'Failed to send messages: This server is not the leader for that topic-partition',
        {
          retryCount: 0,
          retryTime: 312,
        },
      ),
    ).toBe('debug');
    expect(
      levelOf(
        'error',
        'BrokerPool',
        "The coordinator is loading and hence can't process requests for this group",
        {
          retryCount: 0,
          retryTime: 290,
        },
      ),
    ).toBe('debug');
    expect(
      levelOf(
        'error',
        'Producer',
        'The request included a message larger than the max message size the server will accept',
        {
          retryCount: 0,
          retryTime: 300,
        },
      ),
    ).toBe('error');
    expect(
      levelOf('error', 'BrokerPool', 'SASL PLAIN authentication failed: Authentication failed', {
        retryCount: 0,
      }),
    ).toBe('error');
  });

  it("makes the kafkajs consumer's crash and restart lines debug: the Cascade consumer logs crashes itself", () => {
    expect(
      levelOf(
        'error',
        'Consumer',
        "Crash: KafkaJSProtocolError: The coordinator is loading and hence can't process requests for this group",
        { groupId: 'billing', retryCount: 0, stack: 'KafkaJSProtocolError: ...' },
      ),
    ).toBe('debug');
    expect(
      levelOf('error', 'Consumer', 'Restarting the consumer in 300ms', {
        retryCount: 0,
        retryTime: 300,
        groupId: 'g',
      }),
    ).toBe('debug');
  });

  it('makes recovered conditions worth knowing about warn', () => {
    const member = { groupId: 'billing', memberId: 'm-1' };
    expect(
      levelOf('error', 'Runner', 'The coordinator is not aware of this member, re-joining the group', {
        ...member,
        error: 'The coordinator is not aware of this member',
      }),
    ).toBe('warn');
    expect(
      levelOf('error', 'ConsumerGroup', 'Offset out of range, resetting to default offset', {
        ...member,
        topic: 'orders',
        partition: 0,
      }),
    ).toBe('warn');
  });

  it('keeps failures kafkajs does not recover from at error', () => {
    expect(
      levelOf('error', 'Consumer', 'Failed to execute listener: boom', { eventName: 'consumer.crash' }),
    ).toBe('error');
    expect(
      levelOf('error', 'Runner', 'Error when calling eachBatch', { topic: 'orders', partition: 0 }),
    ).toBe('error');
    expect(
      levelOf('error', 'Consumer', 'Caught error when stopping the consumer: boom', { groupId: 'g' }),
    ).toBe('error');
    expect(
      levelOf(
        'error',
        'Admin',
        'Could not delete topics, check if "delete.topic.enable" is set to "true" (the default value is "false") or increase the timeout',
        { error: 'The request timed out', retryCount: 0, retryTime: 300 },
      ),
    ).toBe('error');
    // A line another namespace logs with the same words is not taken for the consumer's.
    expect(levelOf('error', 'Producer', 'Crash: something')).toBe('error');
  });

  it('makes warnings about retried admin requests, rebalances and new partitions debug, keeping other warnings', () => {
    expect(
      levelOf('warn', 'Admin', 'Could not create topics', {
        error: 'This is not the correct controller for this cluster',
        retryCount: 0,
        retryTime: 300,
      }),
    ).toBe('debug');
    expect(
      levelOf('warn', 'Runner', 'The group is rebalancing, re-joining', {
        groupId: 'g',
        memberId: 'm',
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
    ).toBe('debug');
    expect(
      levelOf(
        'warn',
        'ConsumerGroup',
        'Consumer is not aware of all assigned partitions, refreshing metadata',
        {
          groupId: 'g',
          topic: 'orders',
          knownPartitions: [0],
          assignedPartitions: [0, 1],
        },
      ),
    ).toBe('debug');
    expect(
      levelOf('warn', 'ConsumerGroup', 'Consumer group received unsubscribed topics', { groupId: 'g' }),
    ).toBe('warn');
    expect(
      levelOf(
        'warn',
        'Producer',
        'Limiting retries for the idempotent producer may invalidate EoS guarantees',
      ),
    ).toBe('drop');
  });

  it("makes the kafkajs consumer's start, stop and pause lines debug, and keeps group joins at info", () => {
    expect(levelOf('info', 'Consumer', 'Starting', { groupId: 'g' })).toBe('debug');
    expect(levelOf('info', 'Consumer', 'Stopped', { groupId: 'g' })).toBe('debug');
    expect(levelOf('info', 'Runner', 'consumer not running, exiting', { groupId: 'g', memberId: 'm' })).toBe(
      'debug',
    );
    expect(levelOf('info', 'ConsumerGroup', 'Pausing fetching from 1 topics', { topicPartitions: [] })).toBe(
      'debug',
    );
    expect(levelOf('info', 'ConsumerGroup', 'Resuming fetching from 1 topics', { topicPartitions: [] })).toBe(
      'debug',
    );
    expect(
      levelOf('info', 'ConsumerGroup', 'Consumer has joined the group', { groupId: 'g', memberId: 'm' }),
    ).toBe('info');
    expect(levelOf('info', 'Fetcher 1', 'Starting fetcher')).toBe('info');
  });

  it('names only messages kafkajs itself logs', () => {
    const root = join(dirname(createRequire(import.meta.url).resolve('kafkajs/package.json')), 'src');
    const source = (path: string) => readFileSync(join(root, path), 'utf8');
    const expected: Array<[string, string]> = [
      ['network/connection.js', 'this.logError(`Response ${requestInfo(entry)}`'],
      ['network/connection.js', 'new KafkaJSConnectionError(`Connection error: ${e.message}`'],
      ['network/connection.js', "new KafkaJSConnectionError('Connection timeout'"],
      [
        'cluster/brokerPool.js',
        '`Failed to connect to seed broker, trying another broker from the list: ${e.message}`',
      ],
      ['cluster/brokerPool.js', 'this.logger.error(`Failed to connect to broker, reconnecting`'],
      ['cluster/brokerPool.js', 'this.logger.error(e.message, { retryCount, retryTime })'],
      [
        'producer/sendMessages.js',
        'logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime })',
      ],
      ['consumer/index.js', 'logger.error(`Crash: ${e.name}: ${e.message}`'],
      ['consumer/index.js', 'logger.error(`Restarting the consumer in ${retryTime}ms`'],
      ['consumer/index.js', "logger.info('Starting', { groupId })"],
      ['consumer/index.js', "logger.info('Stopped', { groupId })"],
      [
        'consumer/runner.js',
        "this.logger.error('The coordinator is not aware of this member, re-joining the group'",
      ],
      ['consumer/runner.js', "this.logger.warn('The group is rebalancing, re-joining'"],
      ['consumer/runner.js', "this.logger.info('consumer not running, exiting'"],
      ['consumer/consumerGroup.js', "this.logger.error('Offset out of range, resetting to default offset'"],
      [
        'consumer/consumerGroup.js',
        "this.logger.warn('Consumer is not aware of all assigned partitions, refreshing metadata'",
      ],
      [
        'consumer/consumerGroup.js',
        'this.logger.info(`Pausing fetching from ${topicPartitions.length} topics`',
      ],
      [
        'consumer/consumerGroup.js',
        'this.logger.info(`Resuming fetching from ${topicPartitions.length} topics`',
      ],
      [
        'admin/index.js',
        "logger.warn('Could not create topics', { error: e.message, retryCount, retryTime })",
      ],
      [
        'producer/index.js',
        "logger.warn('Limiting retries for the idempotent producer may invalidate EoS guarantees')",
      ],
    ];
    for (const [path, text] of expected) expect(source(path), `${path}: ${text}`).toContain(text);
  });
});

describe('kafkajs log bridge', () => {
  function bridge() {
    const lines: Array<{ level: LogLevel; message: string; meta: LogMeta }> = [];
    const logger = createLogger((level, message, meta) => lines.push({ level, message, meta }), {
      level: 'debug',
    });
    return { log: kafkajsLogCreator(logger)(), lines };
  }

  it('forwards records at their mapped level, with the namespace and redacted meta', () => {
    const { log, lines } = bridge();
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        message: 'Response GroupCoordinator(key: 10, version: 2)',
        timestamp: '2025-05-01T09:30:00.000Z',
        logger: 'kafkajs',
        broker: 'b:1',
        error: 'The group coordinator is not available',
        sasl: { password: 'pw-1' },
      },
    });
    log({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        message: 'Failed to execute listener: boom',
        timestamp: 'now',
        logger: 'kafkajs',
        eventName: 'consumer.crash',
      },
    });
    expect(lines).toEqual([
      {
        level: 'debug',
        message: 'Response GroupCoordinator(key: 10, version: 2)',
        meta: {
          kafkajs: 'Connection',
          broker: 'b:1',
          error: 'The group coordinator is not available',
          sasl: '[redacted]',
        },
      },
      {
        level: 'error',
        message: 'Failed to execute listener: boom',
        meta: { kafkajs: 'Consumer', eventName: 'consumer.crash' },
      },
    ]);
  });

  it('turns an Error kafkajs logs as the message into its text, with the error in meta', () => {
    const { log, lines } = bridge();
    const error = Object.assign(new Error('The broker is not available'), { name: 'KafkaJSProtocolError' });
    log({
      namespace: 'BrokerPool',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        message: error as unknown as string,
        timestamp: 'now',
        logger: 'kafkajs',
        retryCount: 0,
        retryTime: 300,
      },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      message: 'The broker is not available',
      meta: {
        kafkajs: 'BrokerPool',
        retryCount: 0,
        error: { name: 'KafkaJSProtocolError', message: 'The broker is not available' },
      },
    });
  });

  it('drops the superseded idempotent-producer warning', () => {
    const { log, lines } = bridge();
    log({
      namespace: 'Producer',
      level: logLevel.WARN,
      label: 'WARN',
      log: {
        message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees',
        timestamp: 'now',
        logger: 'kafkajs',
      },
    });
    expect(lines).toEqual([]);
  });
});
