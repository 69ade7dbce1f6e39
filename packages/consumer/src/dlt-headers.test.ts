import { describe, expect, it } from 'vitest';
import { buildDltHeaders, buildRetryHeaders, int32BE, int64BE, readRetryHeaders } from './dlt-headers.js';
import { SendToDlt } from './errors.js';

const original = { topic: 'orders', partition: 3, offset: '1812', timestamp: 1_700_000_000_123 };

describe('DLT headers', () => {
  it("writes Spring Kafka's binary headers: partition as a 4-byte int, offset and timestamp as 8-byte longs", () => {
    const headers = buildDltHeaders({
      original,
      groupId: 'billing',
      error: new TypeError('bad order'),
      attempts: 3,
      failedAt: 1_700_000_000_999,
    });
    expect(headers['kafka_dlt-original-topic']).toBe('orders');
    expect(headers['kafka_dlt-original-partition']).toEqual(Buffer.from([0, 0, 0, 3]));
    expect((headers['kafka_dlt-original-offset'] as Buffer).readBigInt64BE()).toBe(1812n);
    expect((headers['kafka_dlt-original-timestamp'] as Buffer).readBigInt64BE()).toBe(1_700_000_000_123n);
    expect(headers['kafka_dlt-original-consumer-group']).toBe('billing');
    expect(headers['kafka_dlt-exception-fqcn']).toBe('TypeError');
    expect(headers['kafka_dlt-exception-message']).toBe('bad order');
    expect(String(headers['kafka_dlt-exception-stacktrace'])).toMatch(/^TypeError: bad order/);
  });

  it("writes Cascade's headers with the error code, attempt count and failure time", () => {
    const headers = buildDltHeaders({
      original,
      groupId: 'billing',
      error: new SendToDlt('no customer', { cause: new RangeError('x') }),
      attempts: 1,
      failedAt: 42,
      headers: { traceparent: 'tp', 'cascade-retry-attempts': '2' },
    });
    expect(headers).toMatchObject({
      traceparent: 'tp',
      'cascade-dlt-original-topic': 'orders',
      'cascade-dlt-original-partition': '3',
      'cascade-dlt-original-offset': '1812',
      'cascade-dlt-original-timestamp': '1700000000123',
      'cascade-dlt-error-class': 'SendToDlt',
      'cascade-dlt-error-code': 'CASCADE_CONSUMER_SEND_TO_DLT',
      'cascade-dlt-error-message': 'no customer',
      'cascade-dlt-attempts': '1',
      'cascade-dlt-failed-at': '42',
      'kafka_dlt-exception-cause-fqcn': 'RangeError',
    });
    expect(headers['cascade-retry-attempts']).toBeUndefined();
  });

  it('truncates long stack traces to the limit, the ellipsis included', () => {
    const error = new Error('deep');
    error.stack = 'x'.repeat(10_000);
    const headers = buildDltHeaders({
      original,
      groupId: 'g',
      error,
      attempts: 1,
      failedAt: 0,
      maxStackChars: 100,
    });
    expect(String(headers['cascade-dlt-error-stack'])).toBe(`${'x'.repeat(99)}…`);
  });

  it('keeps stack traces to at most 4,000 characters by default, and a stack of exactly 4,000 whole', () => {
    for (const length of [3_999, 4_000, 4_001, 4_002, 100_000]) {
      const error = new Error('deep');
      error.stack = 's'.repeat(length);
      const headers = buildDltHeaders({ original, groupId: 'g', error, attempts: 1, failedAt: 0 });
      for (const name of ['cascade-dlt-error-stack', 'kafka_dlt-exception-stacktrace']) {
        const stack = String(headers[name]);
        expect(stack.length).toBe(Math.min(length, 4_000));
        expect(stack.endsWith('…')).toBe(length > 4_000);
      }
    }
  });

  it("writes the original record's timestamp type, CreateTime unless it says LogAppendTime", () => {
    const write = (timestampType?: 'CreateTime' | 'LogAppendTime') =>
      buildDltHeaders({
        original: timestampType === undefined ? original : { ...original, timestampType },
        groupId: 'g',
        error: new Error('x'),
        attempts: 1,
        failedAt: 0,
      })['kafka_dlt-original-timestamp-type'];
    expect(write()).toBe('CreateTime');
    expect(write('CreateTime')).toBe('CreateTime');
    expect(write('LogAppendTime')).toBe('LogAppendTime');
  });

  it('carries the original timestamp type through retry topics', () => {
    const appended = { ...original, timestampType: 'LogAppendTime' } as const;
    expect(readRetryHeaders(buildRetryHeaders(appended, {}, 2, 5))?.original).toEqual(appended);
    // A retry record written before the header existed reads as CreateTime.
    const headers = buildRetryHeaders(original, {}, 2, 5);
    delete headers['cascade-retry-original-timestamp-type'];
    expect(readRetryHeaders(headers)?.original.timestampType).toBe('CreateTime');
  });

  it('round-trips retry bookkeeping through headers', () => {
    const headers = buildRetryHeaders(original, { a: 'b' }, 4, 99);
    expect(readRetryHeaders(headers)).toEqual({
      original: { ...original, timestampType: 'CreateTime' },
      attempts: 4,
      dueAt: 99,
    });
    expect(headers.a).toBe('b');
    expect(readRetryHeaders({ a: 'b' })).toBeUndefined();
  });

  it('encodes big-endian ints and longs', () => {
    expect(int32BE(-1)).toEqual(Buffer.from([255, 255, 255, 255]));
    expect(int64BE('9007199254740993')).toEqual(Buffer.from([0, 0x20, 0, 0, 0, 0, 0, 1]));
  });
});
