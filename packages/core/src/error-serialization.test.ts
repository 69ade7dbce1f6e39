import { describe, expect, it } from 'vitest';
import {
  errorSerializationLimits,
  isSerializedError,
  type SerializedError,
  serializeError,
} from './error-serialization.js';
import { ConfigError, TimeoutError } from './errors.js';

/** The JSON a sink would write, parsed back. */
function json(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** Follows `cause` `n` times. */
function causeAt(serialized: unknown, n: number): unknown {
  let current = serialized;
  for (let i = 0; i < n; i++) current = (current as { cause?: unknown }).cause;
  return current;
}

describe('serializeError', () => {
  it('keeps the name, code, message, retriable flag, context fields and the cause chain of a Cascade error', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:8081'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      address: '10.0.0.7',
      port: 8081,
    });
    const error = new TimeoutError('Producing to orders', 30_000, { cause: socket });
    const serialized = serializeError(error);

    expect(json(serialized)).toEqual({
      name: 'TimeoutError',
      code: 'CASCADE_TIMEOUT',
      message: 'Producing to orders did not finish within 30000 ms.',
      retriable: true,
      timeoutMs: 30_000,
      cause: {
        name: 'Error',
        code: 'ECONNREFUSED',
        message: 'connect ECONNREFUSED 10.0.0.7:8081',
        errno: -111,
        syscall: 'connect',
        address: '10.0.0.7',
        port: 8081,
        stack: expect.stringMatching(/^Error: connect ECONNREFUSED 10\.0\.0\.7:8081\n\s+at /),
      },
      stack: expect.stringMatching(
        /^TimeoutError: Producing to orders did not finish within 30000 ms\.\n\s+at /,
      ),
    });
    expect(Object.keys(serialized)).toEqual([
      'name',
      'code',
      'message',
      'retriable',
      'timeoutMs',
      'cause',
      'stack',
    ]);
  });

  it('is what CascadeError.toJSON returns, so JSON.stringify works on any Cascade error', () => {
    const error = new ConfigError('producer.lingerMs', 'expected an integer >= 0, got -5.');
    expect(error.toJSON()).toEqual(serializeError(error));
    expect(JSON.parse(JSON.stringify({ error }))).toEqual({
      error: {
        name: 'ConfigError',
        code: 'CASCADE_CONFIG',
        message: 'Invalid option producer.lingerMs: expected an integer >= 0, got -5.',
        retriable: false,
        field: 'producer.lingerMs',
        stack: expect.stringContaining('ConfigError: Invalid option producer.lingerMs'),
      },
    });
  });

  it('reads errors of the shape kafkajs throws: an enumerable cause, a numeric code, a type', () => {
    class KafkaJSProtocolError extends Error {
      retriable: boolean;
      type: string;
      code: number;
      override cause: unknown;
      constructor(message: string, cause: unknown) {
        super(message);
        this.name = 'KafkaJSProtocolError';
        this.retriable = true;
        this.type = 'NOT_LEADER_FOR_PARTITION';
        this.code = 6;
        this.cause = cause;
      }
    }
    const serialized = json(
      serializeError(new KafkaJSProtocolError('This server is not the leader', 'stale metadata')),
    );
    expect(serialized).toMatchObject({
      name: 'KafkaJSProtocolError',
      code: 6,
      message: 'This server is not the leader',
      retriable: true,
      type: 'NOT_LEADER_FOR_PARTITION',
      cause: 'stale metadata',
    });
  });

  it('ends a cause chain that loops back in [circular]', () => {
    const self = new Error('self') as Error & { cause?: unknown };
    self.cause = self;
    expect(serializeError(self).cause).toBe('[circular]');

    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(causeAt(serializeError(a), 1)).toMatchObject({ name: 'Error', message: 'b', cause: '[circular]' });

    const holder: Record<string, unknown> = { status: 500 };
    holder.self = holder;
    expect(serializeError(new Error('x', { cause: holder })).cause).toEqual({
      status: 500,
      self: '[circular]',
    });
  });

  it('keeps an error that appears twice without a loop', () => {
    const shared = new Error('shared');
    const serialized = serializeError(new AggregateError([shared, shared], 'both'));
    expect(serialized.errors).toEqual([
      expect.objectContaining({ message: 'shared' }),
      expect.objectContaining({ message: 'shared' }),
    ]);
  });

  it('follows a deep cause chain to maxDepth levels and ends it in [truncated]', () => {
    let error: Error = new Error('root cause');
    for (let level = 29; level >= 0; level--) error = new Error(`level ${level}`, { cause: error });
    const serialized = serializeError(error);
    const { maxDepth } = errorSerializationLimits;
    expect(maxDepth).toBe(5);
    for (let level = 0; level <= maxDepth; level++) {
      expect(causeAt(serialized, level)).toMatchObject({ message: `level ${level}` });
    }
    expect(causeAt(serialized, maxDepth + 1)).toBe('[truncated]');
  });

  it('copies causes that are not errors: strings, numbers, null, plain objects (secrets redacted)', () => {
    expect(serializeError(new Error('x', { cause: 'socket hang up' })).cause).toBe('socket hang up');
    expect(serializeError(new Error('x', { cause: 42 })).cause).toBe(42);
    expect(serializeError(new Error('x', { cause: null })).cause).toBeNull();
    expect(serializeError(new Error('x', { cause: 12n })).cause).toBe('12');
    const cause = {
      status: 503,
      body: 'registry at https://svc:hunter2@registry:8081 is down',
      headers: { authorization: 'Basic c3ZjOmh1bnRlcjI=', 'retry-after': '1' },
      at: new Date(0),
      bytes: Buffer.from('abc'),
      retry: () => {},
      nested: { error: new TimeoutError('Fetching', 10) },
    };
    const serialized = json(serializeError(new Error('x', { cause })));
    expect(serialized.cause).toEqual({
      status: 503,
      body: 'registry at https://[redacted]@registry:8081 is down',
      headers: { authorization: '[redacted]', 'retry-after': '1' },
      at: '1970-01-01T00:00:00.000Z',
      bytes: '[Buffer 3 bytes]',
      retry: '[function retry]',
      nested: { error: expect.objectContaining({ name: 'TimeoutError', code: 'CASCADE_TIMEOUT' }) },
    });
    expect(JSON.stringify(serialized)).not.toMatch(/hunter2|c3ZjOmh1bnRlcjI/);
  });

  it('gives a thrown value that is not an error a NonError form', () => {
    expect(json(serializeError('plain string'))).toEqual({ name: 'NonError', message: 'plain string' });
    expect(json(serializeError({ reason: 'nope', token: 't0k3n' }))).toEqual({
      name: 'NonError',
      message: '{"reason":"nope","token":"[redacted]"}',
    });
    expect(json(serializeError(undefined))).toEqual({ name: 'NonError', message: 'undefined' });
  });

  it('bounds a huge message, a long stack and a huge field', () => {
    const limits = errorSerializationLimits;
    const error = new Error('x'.repeat(1_000_000)) as Error & { topic?: string };
    error.topic = 't'.repeat(50_000);
    const serialized = serializeError(error);
    expect(serialized.message.length).toBeLessThan(limits.maxMessageChars + 40);
    expect(serialized.message).toMatch(/… \[996000 more characters\]$/);
    expect((serialized.topic as string).length).toBeLessThan(limits.maxFieldChars + 40);
    expect((serialized.stack as string).length).toBeLessThan(limits.maxStackChars + 40);

    const previousLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 100;
    try {
      const recurse = (n: number): Error => (n === 0 ? new Error('deep') : recurse(n - 1));
      const stack = serializeError(recurse(60)).stack as string;
      const lines = stack.split('\n');
      expect(lines[0]).toBe('Error: deep');
      expect(lines.filter((line) => /^\s+at /.test(line))).toHaveLength(limits.maxStackFrames);
      expect(lines.at(-1)).toMatch(/^ {4}\.\.\. \d+ more$/);
    } finally {
      Error.stackTraceLimit = previousLimit;
    }
  });

  it('keeps at most maxErrors errors of an AggregateError and maxNodes errors in all', () => {
    const many = new AggregateError(
      Array.from({ length: 15 }, (_, i) => new Error(`e${i}`)),
      'all brokers failed',
    );
    const serialized = serializeError(many);
    expect(serialized.errors).toHaveLength(errorSerializationLimits.maxErrors + 1);
    expect(serialized.errors?.at(-1)).toBe('[5 more]');

    // Ten errors per level, five levels: 111,111 errors if nothing bounded them.
    const tree = (depth: number): Error =>
      depth === 0
        ? new Error('leaf')
        : new AggregateError(
            Array.from({ length: 10 }, () => tree(depth - 1)),
            `level ${depth}`,
          );
    const text = JSON.stringify(serializeError(tree(5)));
    const count = text.match(/"name":"(Aggregate)?Error"/g)?.length ?? 0;
    expect(count).toBeLessThanOrEqual(errorSerializationLimits.maxNodes);
    expect(text).toContain('[truncated]');
  });

  it('removes secrets from messages, stacks, fields and causes', () => {
    const secret = 'c3ZjOmh1bnRlcjI=';
    const cause = new Error(
      `registry answered 500: {"message":"bad header","authorization":"Basic ${secret}"}`,
    );
    const error = Object.assign(
      new Error(`GET https://svc:${secret}@registry:8081/subjects failed`, { cause }),
      {
        password: secret,
        sasl: 'plain',
        url: `https://svc:${secret}@registry:8081`,
      },
    );
    const serialized = serializeError(error);
    const text = JSON.stringify(serialized);
    expect(text).not.toContain(secret);
    expect(serialized).toMatchObject({
      message: 'GET https://[redacted]@registry:8081/subjects failed',
      password: '[redacted]',
      sasl: '[redacted]',
      url: 'https://[redacted]@registry:8081',
      cause: { message: 'registry answered 500: {"message":"bad header","authorization":"[redacted]"}' },
    });
    expect(serialized.stack).toMatch(/^Error: GET https:\/\/\[redacted\]@registry/);
  });

  it('leaves out fields that are objects or undefined, and keeps at most maxFields', () => {
    const error = Object.assign(new Error('x'), {
      topic: 'orders',
      partition: 3,
      offset: 1812n,
      isKey: false,
      subject: undefined,
      config: { brokers: ['a:9092'] },
      reasons: ['a'],
    });
    expect(json(serializeError(error))).toEqual({
      name: 'Error',
      message: 'x',
      topic: 'orders',
      partition: 3,
      offset: '1812',
      isKey: false,
      stack: expect.any(String),
    });
    const wide = Object.assign(
      new Error('wide'),
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, i])),
    );
    const fields = Object.keys(serializeError(wide)).filter((key) => key.startsWith('f'));
    expect(fields).toHaveLength(errorSerializationLimits.maxFields);
  });

  it('is a plain object that reads as Name: message and comes back unchanged when serialized again', () => {
    const serialized = serializeError(new TimeoutError('Fetching metadata', 1_000));
    expect(Object.getPrototypeOf(serialized)).toBe(Object.prototype);
    expect(String(serialized)).toBe('TimeoutError: Fetching metadata did not finish within 1000 ms.');
    expect(`${serializeError(new Error(''))}`).toBe('Error');
    expect(isSerializedError(serialized)).toBe(true);
    expect(isSerializedError(json(serialized))).toBe(false);
    expect(serializeError(serialized)).toBe(serialized);
    expect(json(serialized)).toEqual(json(json(serialized)));
  });

  it('never throws, whatever the error does', () => {
    const hostile = new Error('hostile');
    Object.defineProperty(hostile, 'cause', {
      get() {
        throw new Error('getter');
      },
    });
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('getter');
      },
    });
    expect(serializeError(hostile)).toMatchObject({ name: 'Error', message: 'hostile' });

    const polluting = new Error('x', { cause: JSON.parse('{"__proto__":{"polluted":true},"a":1}') });
    const serialized = serializeError(polluting) as SerializedError & { cause: Record<string, unknown> };
    expect(Object.getPrototypeOf(serialized.cause)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(serialized.cause)).toEqual(['__proto__', 'a']);
  });
});
