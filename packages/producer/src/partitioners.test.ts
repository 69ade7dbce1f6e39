import { describe, expect, it } from 'vitest';
import { murmur2Partition } from './murmur2.js';
import { type PartitionerContext, type PartitionerRecord, Partitioners } from './partitioners.js';

const record = (
  key: string | null,
  sizeBytes = 100,
  value: unknown = {},
): PartitionerRecord<unknown, unknown> => ({
  topic: 't',
  key,
  keyBytes: key === null ? null : Buffer.from(key),
  value,
  sizeBytes,
});

const context = (queued: Record<number, number> = {}, batchBytes = 1_000): PartitionerContext => ({
  queuedBytes: (p) => queued[p] ?? 0,
  batchBytes,
});

describe('partitioners', () => {
  it('places keyed records by murmur2 in the default partitioner', () => {
    const partitioner = Partitioners.default();
    for (const key of ['a', 'order-123', '日本語のキー', '']) {
      expect(partitioner(record(key), 12, context())).toBe(murmur2Partition(Buffer.from(key), 12));
    }
  });

  it('keeps null keys on one partition until batchBytes were placed there, then switches (uniform sticky)', () => {
    const partitioner = Partitioners.uniformSticky({ adaptive: false, random: () => 0.5 });
    const placed = Array.from({ length: 25 }, () => partitioner(record(null, 100), 6, context({}, 1_000)));
    // 10 records of 100 bytes fill a 1,000-byte batch: runs of 10.
    expect(new Set(placed.slice(0, 10)).size).toBe(1);
    expect(placed[10]).not.toBe(placed[9]);
    expect(new Set(placed.slice(10, 20)).size).toBe(1);
    expect(placed[20]).not.toBe(placed[19]);
  });

  it('switches to the partitions with the least queued data when adaptive', () => {
    const picks = new Map<number, number>();
    for (let seed = 0; seed < 200; seed++) {
      const partitioner = Partitioners.uniformSticky({ random: () => (seed + 0.5) / 200 });
      // Fill the first sticky partition, then see where the next record goes.
      const busy = { 0: 1_000_000, 1: 1_000_000, 2: 0, 3: 1_000_000 };
      let first = -1;
      for (let i = 0; i < 10; i++) first = partitioner(record(null, 100), 4, context(busy));
      const next = partitioner(record(null, 100), 4, context(busy));
      if (first !== 2) picks.set(next, (picks.get(next) ?? 0) + 1);
    }
    const toIdle = picks.get(2) ?? 0;
    const total = [...picks.values()].reduce((a, b) => a + b, 0);
    expect(toIdle / total).toBeGreaterThan(0.95);
  });

  it('cycles through partitions per record with roundRobin, ignoring keys', () => {
    const partitioner = Partitioners.roundRobin();
    expect(Array.from({ length: 7 }, () => partitioner(record('same'), 3, context()))).toEqual([
      0, 1, 2, 0, 1, 2, 0,
    ]);
  });

  it('partitions by a field of the value with keyField, like a key with that value', () => {
    const partitioner = Partitioners.keyField((order: { customer: string }) => order.customer);
    const r = { ...record(null), value: { customer: 'customer:0042' } };
    expect(partitioner(r, 7, context())).toBe(6);
    expect(partitioner(r, 100, context())).toBe(26);
  });
});
