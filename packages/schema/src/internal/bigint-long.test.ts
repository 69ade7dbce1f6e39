import { describe, expect, it } from 'vitest';
import { bigintLongType, decodeLong, encodeLong } from './bigint-long.js';

describe('bigint long', () => {
  it.each([
    [0n, [0x00]],
    [-1n, [0x01]],
    [1n, [0x02]],
    [-64n, [0x7f]],
    [64n, [0x80, 0x01]],
    [2n ** 27n, [0x80, 0x80, 0x80, 0x80, 0x01]],
    [2n ** 63n - 1n, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [-(2n ** 63n), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ])('encodes %s as the Avro zigzag varint', (value, bytes) => {
    expect(encodeLong(value)).toEqual(Buffer.from(bytes));
    expect(decodeLong(Buffer.from(bytes))).toBe(value);
  });

  it('round-trips values around every varint length boundary', () => {
    for (let bits = 0n; bits < 63n; bits++) {
      for (const value of [2n ** bits - 1n, 2n ** bits, -(2n ** bits), -(2n ** bits) - 1n]) {
        expect(decodeLong(encodeLong(value))).toBe(value);
      }
    }
  });

  it('refuses numbers and values outside 64 bits', () => {
    expect(bigintLongType.isValid(1)).toBe(false);
    expect(bigintLongType.isValid(2n ** 63n)).toBe(false);
    expect(bigintLongType.isValid(-(2n ** 63n))).toBe(true);
  });
});
