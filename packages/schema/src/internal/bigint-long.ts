/**
 * An avsc `long` type whose values are `bigint`s, so the whole signed 64-bit range round-trips
 * (avsc's own `long` throws beyond 2^53). Reads and writes the zigzag varint directly.
 * @module
 */

import avro from 'avsc';

const minLong = -(2n ** 63n);
const maxLong = 2n ** 63n - 1n;

/** Whether `value` is a bigint in the signed 64-bit range. */
export function isLong(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= minLong && value <= maxLong;
}

/** Encodes a signed 64-bit integer as an Avro zigzag varint. */
export function encodeLong(value: bigint): Buffer {
  let zigzag = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  if (zigzag <= 0xfffffffn) {
    // Up to 4 varint bytes: number arithmetic is much faster than bigint.
    let n = Number(zigzag);
    const out = Buffer.allocUnsafe(n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
    let i = 0;
    while (n >= 0x80) {
      out[i++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[i] = n;
    return out;
  }
  const bytes: number[] = [];
  while (zigzag >= 0x80n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80);
    zigzag >>= 7n;
  }
  bytes.push(Number(zigzag));
  return Buffer.from(bytes);
}

/** Decodes an Avro zigzag varint (the exact bytes of one long) to a bigint. */
export function decodeLong(bytes: Buffer): bigint {
  const length = bytes.length;
  if (length <= 4) {
    let n = 0;
    let shift = 0;
    for (let i = 0; i < length; i++) {
      n += ((bytes[i] as number) & 0x7f) * 2 ** shift;
      shift += 7;
    }
    // zigzag decode on a non-negative number < 2^28.
    return BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
  }
  let zigzag = 0n;
  let shift = 0n;
  for (let i = 0; i < length; i++) {
    zigzag |= BigInt((bytes[i] as number) & 0x7f) << shift;
    shift += 7n;
  }
  return (zigzag & 1n) === 0n ? zigzag >> 1n : -((zigzag + 1n) >> 1n);
}

/** The avsc type: pass it as `registry: { long: bigintLongType }` to `Type.forSchema`. */
export const bigintLongType: avro.types.LongType = avro.types.LongType.__with(
  {
    fromBuffer: decodeLong,
    toBuffer: encodeLong,
    fromJSON: (json: unknown): bigint => {
      if (typeof json === 'bigint') return json;
      if (typeof json === 'number' || typeof json === 'string') return BigInt(json);
      throw new Error(`invalid long: ${String(json)}`);
    },
    toJSON: (value: bigint): number | string =>
      value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString(),
    isValid: isLong,
    compare: (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0),
  },
  true,
);
