import { describe, expect, it } from 'vitest';
import {
  createLogger,
  type LogLevel,
  type LogMeta,
  noopLogger,
  redactSecrets,
  redactUrl,
  safeLogger,
} from './logger.js';

function capture(level: LogLevel = 'debug') {
  const records: Array<{ level: LogLevel; message: string; meta: LogMeta }> = [];
  const logger = createLogger((l, message, meta) => records.push({ level: l, message, meta }), { level });
  return { logger, records };
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

  it('keeps errors, buffers and dates whole and survives cycles', () => {
    const error = new Error('boom');
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const meta = redactSecrets({ error, bytes: Buffer.from('x'), at: new Date(0), cyclic });
    expect(meta.error).toBe(error);
    expect(meta.bytes).toEqual(Buffer.from('x'));
    expect(meta.at).toEqual(new Date(0));
    expect(meta.cyclic).toEqual({ name: 'a', self: '[circular]' });
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
