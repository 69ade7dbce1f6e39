import { Partitioners as KafkajsPartitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, murmur2Partition, toPositive } from './murmur2.js';

// Produced by the Java client itself (kafka-clients 4.4.0): `Utils.murmur2(key.getBytes(UTF_8))`
// and `Utils.toPositive(hash) % n` for n = 1, 3, 6, 7, 12, 100 (see docs/producer.md).
const javaVectors = [
  { key: '', hash: 275646681, partitions: [0, 0, 3, 2, 9, 81] },
  { key: 'a', hash: -1563381124, partitions: [0, 1, 4, 5, 4, 24] },
  { key: 'ab', hash: 316155434, partitions: [0, 2, 2, 0, 2, 34] },
  { key: 'abc', hash: 479470107, partitions: [0, 0, 3, 4, 3, 7] },
  { key: 'abcd', hash: -1323649548, partitions: [0, 2, 2, 5, 8, 0] },
  { key: 'abcde', hash: 461995741, partitions: [0, 1, 1, 4, 1, 41] },
  { key: 'hello', hash: 2132663229, partitions: [0, 0, 3, 4, 9, 29] },
  { key: 'key-0', hash: 29210041, partitions: [0, 1, 1, 0, 1, 41] },
  { key: 'key-1', hash: 193331640, partitions: [0, 0, 0, 5, 0, 40] },
  { key: 'key-42', hash: -187086521, partitions: [0, 0, 3, 3, 3, 27] },
  { key: 'order-123', hash: -940440895, partitions: [0, 1, 1, 0, 1, 53] },
  { key: 'customer:0042', hash: 299599026, partitions: [0, 0, 0, 6, 6, 26] },
  { key: 'ünïcödé', hash: 201421315, partitions: [0, 1, 1, 4, 7, 15] },
  { key: '日本語のキー', hash: -734675706, partitions: [0, 2, 2, 0, 2, 42] },
  { key: '🚀 rocket', hash: -1710445744, partitions: [0, 1, 4, 2, 4, 4] },
  { key: 'The quick brown fox jumps over the lazy dog', hash: 495243318, partitions: [0, 0, 0, 3, 6, 18] },
  { key: '21', hash: -973932308, partitions: [0, 0, 0, 3, 0, 40] },
] as const;
const counts = [1, 3, 6, 7, 12, 100] as const;

describe('murmur2', () => {
  it.each(javaVectors)('hashes $key exactly as the Java client does', ({ key, hash, partitions }) => {
    const bytes = Buffer.from(key, 'utf8');
    expect(murmur2(bytes)).toBe(hash);
    expect(counts.map((n) => murmur2Partition(bytes, n))).toEqual(partitions);
  });

  it('hashes raw bytes with the sign bit set like Java (bytes ff 80 00 7f fe)', () => {
    const bytes = Buffer.from([0xff, 0x80, 0x00, 0x7f, 0xfe]);
    expect(murmur2(bytes)).toBe(768357719);
    expect(counts.map((n) => murmur2Partition(bytes, n))).toEqual([0, 2, 5, 3, 11, 19]);
  });

  it('makes hashes positive by clearing the sign bit, not with Math.abs', () => {
    expect(toPositive(-2_147_483_648)).toBe(0);
    expect(toPositive(-1)).toBe(2_147_483_647);
  });

  it("agrees with kafkajs' Java-compatible DefaultPartitioner for 2,000 keys", () => {
    const kafkajs = KafkajsPartitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (let i = 0; i < 2_000; i++) {
      const key = `key-${i}-${'é'.repeat(i % 7)}`;
      const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
      expect(murmur2Partition(Buffer.from(key), 12)).toBe(expected);
    }
  });
});
