// What send() and sendBatch() do with arguments that are no records: a ConfigError naming the
// argument, before any connection is attempted (the broker address here answers nothing).
import { ConfigError, isCascadeError } from '@cascade/core';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { createProducer } from './producer.js';

const producer = () => createProducer({ brokers: ['127.0.0.1:9'], value: string(), defaultTopic: 't' });

/** A small seeded PRNG (mulberry32): the same values on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const notRecords: readonly unknown[] = [
  null,
  undefined,
  0,
  42,
  'orders',
  true,
  Symbol('r'),
  10n,
  [],
  [{ topic: 't', value: 'x' }],
  () => ({ value: 'x' }),
];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('send() and sendBatch() with arguments that are no records', () => {
  it.each(notRecords.map((value, i) => [`#${i} (${Array.isArray(value) ? 'array' : typeof value})`, value]))(
    'send(%s) rejects with a ConfigError naming record',
    async (_name, value) => {
      const error = await rejection(producer().send(value as never));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ field: 'record', code: 'CASCADE_CONFIG', retriable: false });
    },
  );

  it('names a bad topic or headers object by its path', async () => {
    const p = producer();
    expect(await rejection(p.send({ topic: '', value: 'x' }))).toMatchObject({ field: 'record.topic' });
    expect(await rejection(p.send({ topic: 7 as never, value: 'x' }))).toMatchObject({
      field: 'record.topic',
    });
    expect(await rejection(p.send({ value: 'x', headers: 'h' as never }))).toMatchObject({
      field: 'record.headers',
    });
    expect(await rejection(p.send({ value: 'x', headers: [] as never }))).toMatchObject({
      field: 'record.headers',
    });
  });

  it('rejects a batch that is no array, or holds a non-record, naming its index; nothing is sent', async () => {
    const p = producer();
    expect(await rejection(p.sendBatch(null as never))).toMatchObject({ field: 'records' });
    expect(await rejection(p.sendBatch({ length: 1 } as never))).toMatchObject({ field: 'records' });
    const error = await rejection(p.sendBatch([{ value: 'a' }, null as never, { value: 'c' }]));
    expect(error).toMatchObject({ field: 'records[1]' });
    expect(p.stats.requests).toBe(0);
  });

  it('never throws synchronously and rejects every malformed shape with a ConfigError (property)', async () => {
    const next = random(16);
    const notObjects = [null, undefined, 0, -1, 'x', '', true, 1n, Number.NaN, []];
    const badTopics = [null, 0, '', true, {}, [], 1n];
    const badHeaders = [null, 0, 'h', true, [], 1n];
    const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
    const p = producer();
    for (let i = 0; i < 300; i++) {
      const roll = next();
      const shape =
        roll < 0.4
          ? pick(notObjects)
          : roll < 0.7
            ? { topic: pick(badTopics), value: 'x' }
            : { value: 'x', headers: pick(badHeaders) };
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = p.send(shape as never);
      }, String(i)).not.toThrow();
      const error = await (result as Promise<unknown>).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(i)).toBeInstanceOf(ConfigError);
      expect(isCascadeError(error)).toBe(true);
    }
    expect(p.stats.requests).toBe(0);
  });
});
