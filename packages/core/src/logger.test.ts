import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, TimeoutError } from './errors.js';
import {
  createLogger,
  defaultLogger,
  formatLogLine,
  type LogLevel,
  type LogMeta,
  noopLogger,
  redactSecrets,
  safeLogger,
} from './logger.js';
import { redactUrl } from './redact.js';

function capture(level: LogLevel = 'debug') {
  const records: Array<{ level: LogLevel; message: string; meta: LogMeta }> = [];
  const logger = createLogger((l, message, meta) => records.push({ level: l, message, meta }), { level });
  return { logger, records };
}

function causeMessage(serialized: Record<string, unknown>, depth: number): unknown {
  let current: unknown = serialized;
  for (let i = 0; i < depth; i++) current = (current as { cause?: unknown }).cause;
  return (current as { message?: unknown }).message;
}

describe('logger', () => {
  it('redacts secret-looking keys at any depth', () => {
    const meta = redactSecrets({
      brokers: ['a:9092'],
      sasl: { mechanism: 'plain', username: 'svc', password: 'hunter2' },
      registry: { auth: { username: 'u', password: 'p' }, bearerToken: 't0k3n' },
      headers: { Authorization: 'Basic abc' },
      apiKey: 'k',
    });
    expect(meta).toEqual({
      brokers: ['a:9092'],
      sasl: '[redacted]',
      registry: { auth: { username: 'u', password: '[redacted]' }, bearerToken: '[redacted]' },
      headers: { Authorization: '[redacted]' },
      apiKey: '[redacted]',
    });
    expect(JSON.stringify(meta)).not.toMatch(/hunter2|t0k3n|Basic abc/);
  });

  it('removes credentials from URLs in values and messages', () => {
    expect(redactUrl('GET https://user:pw@registry.example:8081/subjects failed')).toBe(
      'GET https://[redacted]@registry.example:8081/subjects failed',
    );
    expect(redactUrl('http://host:8081/x')).toBe('http://host:8081/x');
    const { logger, records } = capture();
    logger.warn('registry http://admin:secret@r:1/ down', { url: 'http://admin:secret@r:1/' });
    expect(records[0]?.message).toBe('registry http://[redacted]@r:1/ down');
    expect(records[0]?.meta).toEqual({ url: 'http://[redacted]@r:1/' });
  });

  it('drops records below the level and merges child context', () => {
    const { logger, records } = capture('info');
    logger.debug('hidden');
    const child = logger.child({ component: 'producer' }).child({ topic: 'orders' });
    child.info('sent', { count: 3 });
    child.error('failed');
    expect(records).toEqual([
      { level: 'info', message: 'sent', meta: { component: 'producer', topic: 'orders', count: 3 } },
      { level: 'error', message: 'failed', meta: { component: 'producer', topic: 'orders' } },
    ]);
  });

  it('keeps buffers and dates whole, survives cycles and cuts meta deeper than 8 levels', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { password: 'hunter2' };
    for (let i = 0; i < 12; i++) deep = { inner: deep };
    const meta = redactSecrets({ bytes: Buffer.from('x'), at: new Date(0), cyclic, deep });
    expect(meta.bytes).toEqual(Buffer.from('x'));
    expect(meta.at).toEqual(new Date(0));
    expect(meta.cyclic).toEqual({ name: 'a', self: '[circular]' });
    expect(JSON.stringify(meta.deep)).toContain('"[truncated]"');
    expect(JSON.stringify(meta.deep)).not.toContain('hunter2');
  });

  it('gives a JSON-lines sink a readable error: name, code, message, retriable, fields, cause chain, bounded stack', () => {
    const lines: string[] = [];
    const logger = createLogger((level, message, meta) =>
      lines.push(JSON.stringify({ level, message, ...meta })),
    );
    const failure = new Error('handler failed', {
      cause: new TimeoutError('Producing to orders', 30_000, { cause: 'socket hang up' }),
    });
    logger.warn('Record dead-lettered.', { topic: 'orders', partition: 3, error: failure });

    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toEqual({
      level: 'warn',
      message: 'Record dead-lettered.',
      topic: 'orders',
      partition: 3,
      error: {
        name: 'Error',
        message: 'handler failed',
        cause: {
          name: 'TimeoutError',
          code: 'CASCADE_TIMEOUT',
          message: 'Producing to orders did not finish within 30000 ms.',
          retriable: true,
          timeoutMs: 30_000,
          cause: 'socket hang up',
          stack: expect.stringMatching(/^TimeoutError: Producing to orders/),
        },
        stack: expect.stringMatching(/^Error: handler failed\n\s+at /),
      },
    });
    const stack = (line.error as { stack: string }).stack;
    expect(stack.split('\n').filter((l) => /^\s+at /.test(l)).length).toBeLessThanOrEqual(20);
    expect(stack.length).toBeLessThanOrEqual(4_000);
  });

  it('serializes errors nested anywhere in meta, in arrays and in child context', () => {
    const { logger, records } = capture();
    const config = new ConfigError('producer.lingerMs', 'expected an integer >= 0, got -5.');
    logger
      .child({ startup: config })
      .error('failed', { attempts: [{ error: new AggregateError([config], 'both failed') }] });
    const meta = JSON.parse(JSON.stringify(records[0]?.meta)) as Record<string, unknown>;
    expect(meta.startup).toMatchObject({
      name: 'ConfigError',
      code: 'CASCADE_CONFIG',
      field: 'producer.lingerMs',
    });
    expect(meta.attempts).toEqual([
      {
        error: expect.objectContaining({
          name: 'AggregateError',
          message: 'both failed',
          errors: [expect.objectContaining({ name: 'ConfigError', retriable: false })],
        }),
      },
    ]);
  });

  it('redacts secrets in the serialized form: messages, fields and nested causes', () => {
    const secret = 'c3ZjOmh1bnRlcjI=';
    const lines: string[] = [];
    const logger = createLogger((level, message, meta) =>
      lines.push(JSON.stringify({ level, message, ...meta })),
    );
    const echo = new Error(
      `registry said: {"error_code":50001,"message":"header Authorization: Basic ${secret}"}`,
    );
    const error = Object.assign(
      new Error('lookup failed', { cause: new Error('wrapped', { cause: echo }) }),
      {
        url: `https://svc:${secret}@registry:8081`,
        token: secret,
      },
    );
    logger.error(`calling https://svc:${secret}@registry:8081 failed with Bearer ${secret}`, { error });
    expect(lines[0]).not.toContain(secret);
    const line = JSON.parse(lines[0] ?? '{}') as { message: string; error: Record<string, unknown> };
    expect(line.message).toBe('calling https://[redacted]@registry:8081 failed with Bearer [redacted]');
    expect(line.error).toMatchObject({ url: 'https://[redacted]@registry:8081', token: '[redacted]' });
    expect(causeMessage(line.error, 2)).toBe(
      'registry said: {"error_code":50001,"message":"header Authorization: [redacted]"}',
    );
  });

  it('hands a wrapped createLogger the same serialized error, readable as a string', () => {
    const seen: LogMeta[] = [];
    const inner = createLogger((_level, _message, meta) => seen.push(meta));
    safeLogger(inner).warn('retrying', { error: new TimeoutError('Fetching metadata', 1_000) });
    expect(String(seen[0]?.error)).toBe('TimeoutError: Fetching metadata did not finish within 1000 ms.');
    expect(seen[0]?.error).toMatchObject({ name: 'TimeoutError', code: 'CASCADE_TIMEOUT', retriable: true });
  });

  it('wraps a user logger so it only ever sees redacted records', () => {
    const seen: unknown[] = [];
    const user = {
      debug: (m: string, meta?: LogMeta) => seen.push([m, meta]),
      info: (m: string, meta?: LogMeta) => seen.push([m, meta]),
      warn: (m: string, meta?: LogMeta) => seen.push([m, meta]),
      error: (m: string, meta?: LogMeta) => seen.push([m, meta]),
      child: () => user,
    };
    safeLogger(user).info('connect', { sasl: { password: 'pw' } });
    expect(seen).toEqual([['connect', { sasl: '[redacted]' }]]);
  });

  it('gives the default logger when none is passed, and keeps noopLogger and the default as they are', () => {
    expect(safeLogger(undefined)).toBe(defaultLogger);
    expect(safeLogger(defaultLogger)).toBe(defaultLogger);
    expect(safeLogger(noopLogger)).toBe(noopLogger);
  });
});

describe('default logger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function stderrLines(): string[] {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    return lines;
  }

  it('writes warnings and errors to stderr, one line each, and nothing for debug and info', () => {
    const lines = stderrLines();
    const logger = defaultLogger.child({ groupId: 'billing' });
    logger.debug('fetching');
    logger.info('Consumer started');
    logger.warn('Record dead-lettered.', { topic: 'orders', partition: 0, offset: '42' });
    logger.error('Could not publish the failed record.\nThe partition does not advance.');
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1)).toBe(true);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN {2}cascade: Record dead-lettered\. \{"groupId":"billing","topic":"orders","partition":0,"offset":"42"\}\n$/,
    );
    expect(lines[1]).toMatch(
      /Z ERROR cascade: Could not publish the failed record\. The partition does not advance\. \{"groupId":"billing"\}\n$/,
    );
  });

  it('writes an error in meta in its serialized form, redacted', () => {
    const lines = stderrLines();
    defaultLogger.error('Send failed.', {
      error: new TimeoutError('Fetching metadata', 1_000),
      registry: 'http://svc:s3cret@registry:8081',
      sasl: { password: 'hunter2' },
    });
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]?.slice(lines[0].indexOf('{')) ?? '{}');
    expect(json.error).toMatchObject({
      name: 'TimeoutError',
      code: 'CASCADE_TIMEOUT',
      message: 'Fetching metadata did not finish within 1000 ms.',
      retriable: true,
    });
    expect(json.error.stack).toContain('TimeoutError');
    expect(lines[0]).not.toContain('s3cret');
    expect(lines[0]).not.toContain('hunter2');
    expect(json.sasl).toBe('[redacted]');
  });

  it('formats a line without meta, with bigints and buffers, and never throws on odd meta', () => {
    const at = new Date('2025-05-01T09:30:00.000Z');
    expect(formatLogLine('warn', 'Producer circuit breaker opened.', {}, at)).toBe(
      '2025-05-01T09:30:00.000Z WARN  cascade: Producer circuit breaker opened.\n',
    );
    expect(formatLogLine('error', 'x', { offset: 42n, key: Buffer.from('abc') }, at)).toBe(
      '2025-05-01T09:30:00.000Z ERROR cascade: x {"offset":"42","key":"[Buffer: 3 bytes]"}\n',
    );
    const throwing = {
      toJSON: () => {
        throw new Error('no JSON');
      },
    };
    expect(formatLogLine('warn', 'x', { value: throwing }, at)).toBe(
      '2025-05-01T09:30:00.000Z WARN  cascade: x {"unserializableMeta":"Error: no JSON"}\n',
    );
  });

  it('keeps logging when stderr throws', () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => {
      throw new Error('EPIPE');
    });
    expect(() => defaultLogger.error('Record failed.')).not.toThrow();
  });
});

// The example docs/core.md quotes under "Logging" (after its import line), compiled and run here.
// example:start
const quiet = { brokers: ['127.0.0.1:9092'], logger: noopLogger }; // a KafkaConfig that logs nothing
const everything = createLogger(
  (level, message, meta) => process.stderr.write(`${level} ${message} ${JSON.stringify(meta)}\n`),
  { level: 'debug' },
);
// example:end

describe('the logging section of docs/core.md', () => {
  const doc = readFileSync(new URL('../../../docs/core.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Logging'), doc.indexOf('## What a sink receives'));

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('quotes the example as it is compiled here, and it does what it says', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const example = source.slice(
      source.indexOf('// example:start\n') + '// example:start\n'.length,
      source.indexOf('// example:end'),
    );
    const start = section.indexOf('```ts\n') + '```ts\n'.length;
    expect(section.slice(start, section.indexOf('```\n', start))).toBe(
      `import { createLogger, noopLogger } from '@cascade/core';\n\n${example}`,
    );
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    safeLogger(quiet.logger).error('dropped');
    everything.debug('fetching', { topic: 'orders' });
    expect(lines).toEqual(['debug fetching {"topic":"orders"}\n']);
  });

  it('shows lines in the format the default logger writes', () => {
    const start = section.indexOf('```text\n') + '```text\n'.length;
    const shown = section.slice(start, section.indexOf('```\n', start)).trimEnd().split('\n');
    const at = new Date('2025-05-01T09:30:00.000Z');
    expect(shown[0]?.startsWith(formatLogLine('warn', 'Record dead-lettered.', {}, at).trimEnd())).toBe(true);
    const meta = {
      groupId: 'billing',
      topic: 'orders',
      partition: 0,
      offset: '42',
      attempts: 3,
      target: 'orders.dlt',
    };
    expect(shown[0]?.startsWith(formatLogLine('warn', 'Record dead-lettered.', meta, at).slice(0, -2))).toBe(
      true,
    );
    expect(shown[1]).toMatch(/^\S+Z ERROR cascade: The consumer of group billing crashed and stopped\. /);
  });
});
