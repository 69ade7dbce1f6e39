import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { OutboundRecord } from '@cascade/transport';
import { describe, expect, it } from 'vitest';
import { patchKafkajsProduceEncoding } from './patches.js';
import { crc32c, encodeProduceRequest, type ProduceArgs } from './record-batch.js';

const require = createRequire(import.meta.url);
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
const kafkajsProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (
  args: ProduceArgs & { compression?: number },
) => { encode(): Promise<{ buffer: Buffer }> };
const { requests: kafkajsRequests } = require('kafkajs/src/protocol/requests/index.js') as {
  requests: {
    Produce: {
      protocol(o: { version: number }): (args: ProduceArgs & { compression?: number }) => {
        request: { apiVersion: number; encode(): Promise<{ buffer: Buffer }> };
      };
    };
  };
};
const { lookupCodec } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodec(type: number): { compress(e: { buffer: Buffer }): Promise<Buffer> };
};
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  d: unknown,
) => Promise<{
  records: {
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer | Buffer[]>;
    timestamp: string;
  }[];
}>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;

async function kafkajsBytes(args: ProduceArgs, compression = 0): Promise<Buffer> {
  return (await kafkajsProduceV3({ ...args, compression }).encode()).buffer;
}

const t0 = 1_790_000_000_000;

/** A request of one batch of `messages` to partition 0 of topic `t`. */
function onePartition(
  messages: ProduceArgs['topicData'][number]['partitions'][number]['messages'],
): ProduceArgs {
  return { acks: -1, timeout: 1_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] };
}

/** A request mixing every field shape kafkajs accepts. */
function mixedRequest(): ProduceArgs {
  return {
    acks: -1,
    timeout: 30_000,
    transactionalId: 'tx-é-1',
    producerId: '9007199254740993',
    producerEpoch: 7,
    topicData: [
      {
        topic: 'orders',
        partitions: [
          {
            partition: 0,
            firstSequence: 41,
            messages: [
              { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: t0 + 5 },
              {
                key: null,
                value: 'plain string ✓',
                headers: { a: 'x', b: Buffer.from([0, 1, 2]) },
                timestamp: t0,
              },
              {
                key: 'string key',
                value: null,
                headers: { multi: ['one', Buffer.from('two')] },
                timestamp: t0 + 70,
              },
            ],
          },
          {
            partition: 2,
            firstSequence: 0,
            messages: Array.from({ length: 300 }, (_, i) => ({
              key: Buffer.from(`key-${i}`),
              value: randomBytes(i * 7),
              timestamp: t0 + i * 1_000,
            })),
          },
        ],
      },
      {
        topic: 'payments',
        partitions: [{ partition: 5, messages: [{ value: randomBytes(2_000), timestamp: String(t0 + 1) }] }],
      },
    ],
  };
}

describe('crc32c', () => {
  it('matches the standard check value and kafkajs on random inputs', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    for (let length = 0; length < 200; length += 1) {
      const buffer = randomBytes(length);
      expect(crc32c(buffer)).toBe(kafkajsCrc32c(buffer));
    }
    const big = randomBytes(1_000_003);
    expect(crc32c(big)).toBe(kafkajsCrc32c(big));
    expect(crc32c(big, 17, 9_000)).toBe(kafkajsCrc32c(big.subarray(17, 9_000)));
  });
});

describe('encodeProduceRequest', () => {
  it('writes exactly the bytes kafkajs writes for the same request', async () => {
    const args = mixedRequest();
    expect(await encodeProduceRequest(args)).toEqual(await kafkajsBytes(args));
  });

  it('does so for non-transactional, non-idempotent requests and numeric producer ids', async () => {
    const args: ProduceArgs = {
      acks: 1,
      timeout: 5_000,
      producerId: -1,
      producerEpoch: 0,
      topicData: [
        {
          topic: 't',
          partitions: [{ partition: 1, messages: [{ key: null, value: Buffer.from('x'), timestamp: t0 }] }],
        },
      ],
    };
    expect(await encodeProduceRequest(args)).toEqual(await kafkajsBytes(args));
  });

  it('encodes timestamp deltas beyond 32 bits (varlong) as kafkajs does', async () => {
    const days = 86_400_000;
    const args = onePartition([
      { value: 'a', timestamp: t0 },
      { value: 'b', timestamp: t0 + 30 * days },
      { value: 'c', timestamp: t0 + 3_000 * days },
    ]);
    expect(await encodeProduceRequest(args)).toEqual(await kafkajsBytes(args));
  });

  it('compresses each batch with the kafkajs codec, as kafkajs does (gzip)', async () => {
    const args = mixedRequest();
    const gzip = lookupCodec(1);
    const ours = await encodeProduceRequest(args, 1, (records) => gzip.compress({ buffer: records }));
    expect(ours).toEqual(await kafkajsBytes(args, 1));
  });

  it('keeps a timestamp of 0 (kafkajs would take it for "now")', async () => {
    const args = onePartition([
      { value: 'epoch', timestamp: 0 },
      { value: 'later', timestamp: 5 },
    ]);
    const bytes = await encodeProduceRequest(args);
    // transactional id (2) + acks (2) + timeout (4) + topics (4) + "t" (3) + partitions (4) + partition (4) + size (4)
    const batch = bytes.subarray(27);
    const decoded = await RecordBatchDecoder(new Decoder(batch));
    expect(decoded.records.map((r) => [String(r.value), r.timestamp])).toEqual([
      ['epoch', '0'],
      ['later', '5'],
    ]);
  });

  it('refuses compression without a codec', async () => {
    await expect(encodeProduceRequest(mixedRequest(), 1)).rejects.toThrow(/no codec/);
  });
});

describe('patchKafkajsProduceEncoding', () => {
  it("encodes requests of Cascade's records with Cascade's encoder and leaves others to kafkajs", async () => {
    expect(patchKafkajsProduceEncoding()).toBe(true);
    expect(patchKafkajsProduceEncoding()).toBe(true);
    const factory = kafkajsRequests.Produce.protocol({ version: 7 });
    const record = new OutboundRecord(Buffer.from('k'), Buffer.from('v'), { h: 'x' }, t0, 10);
    const cascadeArgs = {
      acks: -1,
      timeout: 1_000,
      compression: 0,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [record] }] }],
    };
    const plainArgs = {
      ...cascadeArgs,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ ...record }] }] }],
    };
    const cascade = factory(cascadeArgs).request;
    const plain = factory(plainArgs).request;
    expect(cascade.apiVersion).toBe(7);
    expect(cascade.encode.toString()).not.toContain('topicEncoder');
    expect(plain.encode.toString()).toContain('topicEncoder');
    expect((await cascade.encode()).buffer).toEqual((await plain.encode()).buffer);
  });
});
