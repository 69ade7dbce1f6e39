import { describe, expect, it } from 'vitest';
import { ConfigError, TimeoutError } from './errors.js';
import {
  createLogger,
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
    expect(safeLogger(undefined)).toBe(noopLogger);
  });
});
