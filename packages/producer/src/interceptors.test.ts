import { createLogger, type LogLevel } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { composeSend, type ProducerInterceptor, runOnSend } from './interceptors.js';
import type { OutgoingRecord, RecordMetadata } from './types.js';

type Rec = OutgoingRecord<string, string>;
const record: Rec = { topic: 't', value: 'v' };
const stored = (r: Rec): Promise<RecordMetadata> =>
  Promise.resolve({ topic: r.topic, partition: 0, offset: r.value, timestamp: 1 });

function capture(): { logger: ReturnType<typeof createLogger>; lines: Array<[LogLevel, string]> } {
  const lines: Array<[LogLevel, string]> = [];
  return {
    logger: createLogger((level, message) => lines.push([level, message]), { level: 'debug' }),
    lines,
  };
}

describe('runOnSend', () => {
  it('chains onSend in order and skips one that throws or returns nothing', () => {
    const { logger, lines } = capture();
    const interceptors: ProducerInterceptor<string, string>[] = [
      { onSend: (r) => ({ ...r, value: `${r.value}1` }) },
      {
        name: 'broken',
        onSend: () => {
          throw new Error('bug');
        },
      },
      { onSend: () => undefined as unknown as Rec },
      { onSend: (r) => ({ ...r, value: `${r.value}2` }) },
    ];
    expect(runOnSend(interceptors, record, logger).value).toBe('v12');
    expect(lines.map(([level]) => level)).toEqual(['warn', 'warn']);
  });
});

describe('composeSend', () => {
  it('costs nothing when no interceptor wraps send', () => {
    expect(composeSend([{ onSend: (r) => r }], capture().logger)).toBeUndefined();
  });

  it('runs send interceptors outermost first, each able to change the record', async () => {
    const events: string[] = [];
    const wrap = (name: string): ProducerInterceptor<string, string> => ({
      send: async (r, next) => {
        events.push(`${name}:before`);
        const metadata = await next({ ...r, value: `${r.value}-${name}` });
        events.push(`${name}:after`);
        return metadata;
      },
    });
    const chain = composeSend([wrap('a'), wrap('b')], capture().logger);
    const metadata = await chain?.(record, stored);
    expect(metadata?.offset).toBe('v-a-b');
    expect(events).toEqual(['a:before', 'b:before', 'b:after', 'a:after']);
  });

  it('sends the record unchanged when an interceptor throws before next(), and logs it', async () => {
    const { logger, lines } = capture();
    const chain = composeSend<string, string>(
      [
        {
          name: 'sync-bug',
          send: () => {
            throw new Error('sync bug');
          },
        },
        { name: 'async-bug', send: async () => Promise.reject(new Error('async bug')) },
      ],
      logger,
    );
    expect((await chain?.(record, stored))?.offset).toBe('v');
    expect(lines).toHaveLength(2);
  });

  it("passes the send's own error through an interceptor that called next()", async () => {
    const failure = new Error('broker said no');
    const chain = composeSend<string, string>([{ send: (r, next) => next(r) }], capture().logger);
    await expect(chain?.(record, () => Promise.reject(failure))).rejects.toBe(failure);
  });
});
