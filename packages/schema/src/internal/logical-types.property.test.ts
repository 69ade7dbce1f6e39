// Property tests over the whole range of each logical type, with a seeded generator (fast-check
// is not a dependency): every value round-trips exactly or is refused; none changes. Each
// property mixes uniform values, values of every magnitude and the explicit boundaries.

import { describe, expect, it } from 'vitest';
import { avro } from '../avro-serde.js';
import { DeserializationError } from '../errors.js';
import type { SerdeContext } from '../types.js';
import { createAvroType } from './avro-type.js';
import { encodeLong } from './bigint-long.js';
import { formatIsoDate, maxDateDays, minDateDays, parseIsoDate } from './iso-date.js';

const runs = 1500;
const ctx: SerdeContext = { topic: 't', headers: {}, isKey: false };

/** xorshift128+ on bigints: deterministic across runs and platforms. */
function random(seed: bigint) {
  let s0 = seed | 1n;
  let s1 = (seed * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  const next64 = (): bigint => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= (x << 23n) & 0xffffffffffffffffn;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (s1 + y) & 0xffffffffffffffffn;
  };
  for (let i = 0; i < 20; i++) next64();
  const below = (n: number): number => Number(next64() % BigInt(n));
  return {
    below,
    pick: <T>(items: readonly T[]): T => items[below(items.length)] as T,
    /** A signed 64-bit long: uniform, or of a random bit length (every magnitude is as likely). */
    long(): bigint {
      const raw = BigInt.asIntN(64, next64());
      if (below(2) === 0) return raw;
      const bits = BigInt(below(64));
      const magnitude = BigInt.asUintN(64, raw) & ((1n << bits) - 1n);
      return below(2) === 0 ? magnitude : -magnitude - BigInt(below(2));
    },
    /** An integer in [min, max] (safe integers), uniform or of a random magnitude. */
    int(min: number, max: number): number {
      const span = BigInt(max) - BigInt(min) + 1n;
      if (below(2) === 0) return Number(BigInt(min) + (next64() % span));
      const bits = BigInt(below(span.toString(2).length + 1));
      const offset = (next64() & ((1n << bits) - 1n)) % span;
      return Number(below(2) === 0 ? BigInt(min) + offset : BigInt(max) - offset);
    },
  };
}

/** The boundaries every property checks, then `runs` generated values. */
function* cases<T>(boundaries: readonly T[], generate: () => T): Generator<T> {
  yield* boundaries;
  for (let i = 0; i < runs; i++) yield generate();
}

const intBoundaries = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 30, -(2 ** 30) - 1, 63, 64, -64, -65];
const longBoundaries = [
  0n,
  1n,
  -1n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 52n,
  -(2n ** 52n),
  2n ** 52n + 1n,
  -(2n ** 52n) - 1n,
  2n ** 53n - 1n,
  -(2n ** 53n) + 1n,
  2n ** 53n,
  -(2n ** 53n),
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  8_640_000_000_000_000n,
  -8_640_000_000_000_000n,
  8_640_000_000_000_001n,
  -8_640_000_000_000_001n,
  2n ** 63n - 1n,
  -(2n ** 63n),
];

describe('date over the whole int range of days', () => {
  const type = createAvroType({ type: 'int', logicalType: 'date' });
  const canonical =
    /^(?:\d{4}|\+[1-9]\d{4,}|-(?:\d{4}|[1-9]\d{4,}))-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;
  const daysPer400Years = 146_097;
  const jsDateDays = 100_000_000; // a Date holds ±1e8 days
  const dateBoundaries = [
    ...intBoundaries,
    minDateDays,
    maxDateDays,
    -719_528, // 0000-01-01
    -719_529, // -0001-12-31
    -719_162, // 0001-01-01
    -682_977, // 0100-01-01
    -682_978, // 0099-12-31
    2_932_896, // 9999-12-31
    2_932_897, // 10000-01-01
    jsDateDays,
    -jsDateDays,
  ];

  it('writes each day as its zigzag int and reads back a canonical date that parses to the same day', () => {
    const rng = random(8n);
    for (const days of cases(dateBoundaries, () => rng.int(minDateDays, maxDateDays))) {
      const bytes = type.toBuffer(formatIsoDate(days));
      expect(bytes).toEqual(encodeLong(BigInt(days)));
      const text = type.fromBuffer(bytes) as string;
      expect(text).toMatch(canonical);
      expect(parseIsoDate(text)).toBe(days);
      expect(type.fromBuffer(type.toBuffer(text))).toBe(text);
    }
  });

  it.each([
    [-401, 101],
    [1899, 2101],
    [9899, 10_101],
  ])('walks every day of the years %i to %i, each the calendar day after the one before', (from, to) => {
    // Month lengths from the JavaScript calendar, mapped to 2000-2399 (the same 400-year cycle).
    const monthLength = (year: number, month: number) =>
      new Date(Date.UTC(2000 + (((year % 400) + 400) % 400), month, 0)).getUTCDate();
    let days = parseIsoDate(`${from < 0 ? `-${String(-from).padStart(4, '0')}` : from}-01-01`) as number;
    let [year, month, day] = [from, 1, 1];
    while (year <= to) {
      const text = formatIsoDate(days);
      const [y, m, d] = text.split(/(?<=\d)-/).map(Number) as [number, number, number];
      if (y !== year || m !== month || d !== day || parseIsoDate(text) !== days) {
        expect({ days, text }).toEqual({ days, text: `${year}-${month}-${day}` });
      }
      days++;
      if (day < monthLength(year, month)) day++;
      else if (month < 12) [month, day] = [month + 1, 1];
      else [year, month, day] = [year + 1, 1, 1];
    }
    expect(year).toBe(to + 1);
  });

  it('agrees with the JavaScript Date calendar wherever a Date reaches (±1e8 days)', () => {
    const rng = random(9n);
    for (const days of cases(
      dateBoundaries.filter((d) => Math.abs(d) <= jsDateDays),
      () => rng.int(-jsDateDays, jsDateDays),
    )) {
      const date = new Date(days * 86_400_000);
      const [year, month, day] = formatIsoDate(days).split(/(?<=\d)-/);
      expect([Number(year), Number(month), Number(day)]).toEqual([
        date.getUTCFullYear(),
        date.getUTCMonth() + 1,
        date.getUTCDate(),
      ]);
    }
  });

  it('repeats the Gregorian 400-year cycle out to the ends of the int range', () => {
    const rng = random(10n);
    for (const days of cases(dateBoundaries, () => rng.int(minDateDays, maxDateDays))) {
      const cycles = days > 0 ? -rng.below(14_000) : rng.below(14_000);
      const shifted = days + cycles * daysPer400Years;
      if (shifted < minDateDays || shifted > maxDateDays) continue;
      const [year, rest] = splitYear(formatIsoDate(days));
      const [shiftedYear, shiftedRest] = splitYear(formatIsoDate(shifted));
      expect(shiftedRest).toBe(rest);
      expect(shiftedYear).toBe(year + cycles * 400);
    }
  });

  it('accepts a generated year-month-day exactly when the month has that day, and reads it back unchanged', () => {
    const rng = random(11n);
    const formatYear = (y: number) =>
      y > 9999 ? `+${y}` : y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
    const two = (n: number) => String(n).padStart(2, '0');
    for (let i = 0; i < runs; i++) {
      const year = rng.pick([rng.int(-200, 200), rng.int(-5_877_641, 5_881_580), rng.int(1900, 2100)]);
      const month = rng.int(1, 12);
      const day = rng.int(1, 31);
      const text = `${formatYear(year)}-${two(month)}-${two(day)}`;
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      const monthLength = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
      const inMonth = day <= monthLength;
      const days = parseIsoDate(text);
      if (!inMonth) expect(days).toBeUndefined();
      else if (days !== undefined) expect(type.fromBuffer(type.toBuffer(text))).toBe(text);
      else expect(year === -5_877_641 || year === 5_881_580).toBe(true); // beyond the int days at the ends
    }
  });

  it('never accepts a mutated date string it would read back differently', () => {
    const rng = random(12n);
    const alphabet = '0123456789-+ T:Z';
    for (let i = 0; i < runs * 2; i++) {
      const chars = formatIsoDate(rng.int(minDateDays, maxDateDays)).split('');
      for (let m = rng.int(1, 3); m > 0; m--) {
        const at = rng.below(chars.length + 1);
        const op = rng.below(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, rng.pick(alphabet.split('')));
        else chars[at] = rng.pick(alphabet.split(''));
      }
      const text = chars.join('');
      if (type.isValid(text)) expect(type.fromBuffer(type.toBuffer(text))).toBe(text);
      else expect(() => type.toBuffer(text)).toThrow();
    }
  });
});

function splitYear(text: string): [number, string] {
  const at = text.indexOf('-', 1);
  return [Number(text.slice(0, at)), text.slice(at)];
}

describe('timestamp-millis over the whole long range', () => {
  const type = createAvroType({ type: 'long', logicalType: 'timestamp-millis' });
  const record = avro({
    type: 'record',
    name: 'E',
    fields: [
      { name: 'n', type: 'int' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    ],
  } as const);
  const long = createAvroType('long');
  const fromLong = type.createResolver(long);
  const inDateRange = (ms: bigint) => ms >= -8_640_000_000_000_000n && ms <= 8_640_000_000_000_000n;

  it('writes every Date as its epoch milliseconds, byte for byte, and reads the same instant back', () => {
    const rng = random(20n);
    for (const ms of cases(longBoundaries.filter(inDateRange), () => BigInt(rng.int(-8.64e15, 8.64e15)))) {
      const bytes = type.toBuffer(new Date(Number(ms)));
      expect(bytes).toEqual(encodeLong(ms));
      expect(BigInt((type.fromBuffer(bytes) as Date).getTime())).toBe(ms);
    }
  });

  it('reads any long Java can write as the same instant, or refuses it naming the field and the value', () => {
    const rng = random(21n);
    for (const ms of cases(longBoundaries, () => rng.long())) {
      const bytes = Buffer.concat([Buffer.from([0x02]), encodeLong(ms)]);
      let value: unknown;
      let error: unknown;
      try {
        value = record.deserialize(bytes, ctx);
      } catch (e) {
        error = e;
      }
      if (inDateRange(ms)) {
        expect(error).toBeUndefined();
        expect(BigInt((value as { at: Date }).at.getTime())).toBe(ms);
        // Through a plain long writer as well.
        expect(BigInt((type.fromBuffer(encodeLong(ms), fromLong) as Date).getTime())).toBe(ms);
      } else {
        expect(error).toBeInstanceOf(DeserializationError);
        expect(error).toMatchObject({ reason: 'invalid-value', fieldPath: 'at' });
        expect((error as Error).message).toContain(`timestamp-millis ${ms},`);
        expect(() => type.fromBuffer(encodeLong(ms), fromLong)).toThrow(ms.toString());
      }
    }
  });
});

describe('time-millis and time-micros over the whole int and long ranges', () => {
  it('writes exactly the times of day and reads every int back unchanged', () => {
    const type = createAvroType({ type: 'int', logicalType: 'time-millis' });
    const rng = random(30n);
    const boundaries = [...intBoundaries, 86_399_999, 86_400_000];
    for (const ms of cases(boundaries, () =>
      rng.pick([rng.int(-(2 ** 31), 2 ** 31 - 1), rng.int(-10, 86_400_010)]),
    )) {
      const bytes = encodeLong(BigInt(ms));
      expect(type.fromBuffer(bytes)).toBe(ms);
      expect(type.isValid(ms)).toBe(ms >= 0 && ms < 86_400_000);
      if (ms >= 0 && ms < 86_400_000) expect(type.toBuffer(ms)).toEqual(bytes);
    }
  });

  it('writes exactly the microsecond times of day and reads every long back unchanged', () => {
    const type = createAvroType({ type: 'long', logicalType: 'time-micros' });
    const rng = random(31n);
    const boundaries = [...longBoundaries, 86_399_999_999n, 86_400_000_000n];
    for (const us of cases(boundaries, () => rng.long())) {
      expect(type.fromBuffer(encodeLong(us))).toBe(us);
      expect(type.isValid(us)).toBe(us >= 0n && us < 86_400_000_000n);
      if (type.isValid(us)) expect(type.toBuffer(us)).toEqual(encodeLong(us));
    }
  });
});

describe('timestamp-micros, timestamp-nanos and local-timestamp-* over the whole long range', () => {
  it.each([
    'timestamp-micros',
    'timestamp-nanos',
    'local-timestamp-millis',
    'local-timestamp-micros',
    'local-timestamp-nanos',
  ])('%s writes and reads every long as the same bigint, byte for byte', (logicalType) => {
    const type = createAvroType({ type: 'long', logicalType });
    const rng = random(40n);
    for (const value of cases(longBoundaries, () => rng.long())) {
      expect(type.toBuffer(value)).toEqual(encodeLong(value));
      expect(type.fromBuffer(encodeLong(value))).toBe(value);
    }
  });
});

/** Java's `BigInteger.toByteArray()`: the shortest two's complement, `bitLength / 8 + 1` bytes. */
function javaBytes(unscaled: bigint): Buffer {
  const bitLength = (unscaled < 0n ? -unscaled - 1n : unscaled).toString(2).replace(/^0$/, '').length;
  const length = Math.floor(bitLength / 8) + 1;
  const hex = BigInt.asUintN(length * 8, unscaled)
    .toString(16)
    .padStart(length * 2, '0');
  return Buffer.from(hex, 'hex');
}

/** `unscaled * 10^-scale` as a plain decimal string with exactly `scale` fraction digits. */
function decimalText(unscaled: bigint, scale: number): string {
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const point = digits.length - scale;
  const sign = unscaled < 0n ? '-' : '';
  return scale === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

describe('decimal for any precision and scale', () => {
  const randomUnscaled = (rng: ReturnType<typeof random>, precision: number): bigint => {
    const digits = rng.int(1, precision);
    let text = '';
    for (let i = 0; i < digits; i++) text += String(rng.below(10));
    const magnitude = rng.below(8) === 0 ? 10n ** BigInt(precision) - 1n : BigInt(text);
    return rng.below(2) === 0 ? -magnitude : magnitude;
  };

  it('writes bytes decimals as Java BigDecimal does and reads the same value back', () => {
    const rng = random(50n);
    for (let i = 0; i < runs; i++) {
      const precision = rng.pick([rng.int(1, 40), rng.int(1, 400)]);
      const scale = rng.int(0, precision);
      const type = createAvroType({ type: 'bytes', logicalType: 'decimal', precision, scale });
      const unscaled = rng.below(20) === 0 ? 0n : randomUnscaled(rng, precision);
      const text = decimalText(unscaled, scale);
      const expected = javaBytes(unscaled);
      const bytes = type.toBuffer(text);
      expect(bytes.subarray(bytes.length - expected.length)).toEqual(expected);
      expect(bytes.subarray(0, bytes.length - expected.length)).toEqual(encodeLong(BigInt(expected.length)));
      expect(type.fromBuffer(bytes)).toBe(text);
    }
  });

  it('reads any two-complement bytes, redundant 0x00 and 0xFF sign bytes included, as their exact value', () => {
    const rng = random(51n);
    const bytesType = createAvroType('bytes');
    for (let i = 0; i < runs; i++) {
      const length = rng.int(1, 48);
      const body = Buffer.from(Array.from({ length }, () => rng.below(256)));
      if (rng.below(3) === 0) body[0] = rng.pick([0x00, 0xff]);
      const scale = rng.int(0, 30);
      const type = createAvroType({ type: 'bytes', logicalType: 'decimal', precision: 200, scale });
      const unscaled = BigInt.asIntN(length * 8, BigInt(`0x${body.toString('hex')}`));
      const text = decimalText(unscaled, scale);
      expect(type.fromBuffer(bytesType.toBuffer(body))).toBe(text);
      // Written back, it is the same value in the shortest form.
      expect(type.toBuffer(text)).toEqual(bytesType.toBuffer(javaBytes(unscaled)));
    }
  });

  it('sign-extends fixed decimals to their size and reads every fixed back as its exact value', () => {
    const rng = random(52n);
    for (let i = 0; i < runs; i++) {
      const size = rng.int(1, 32);
      // The largest precision the spec allows for the size: floor(log10(2^(8 size - 1) - 1)).
      const maxPrecision = (2n ** BigInt(8 * size - 1) - 1n).toString().length - 1;
      if (maxPrecision < 1) continue;
      const precision = rng.int(1, maxPrecision);
      const scale = rng.int(0, precision);
      const type = createAvroType({
        type: 'fixed',
        name: 'D',
        size,
        logicalType: 'decimal',
        precision,
        scale,
      });
      const unscaled = randomUnscaled(rng, precision);
      const text = decimalText(unscaled, scale);
      const bytes = type.toBuffer(text);
      expect(bytes).toEqual(
        Buffer.from(
          BigInt.asUintN(size * 8, unscaled)
            .toString(16)
            .padStart(size * 2, '0'),
          'hex',
        ),
      );
      expect(type.fromBuffer(bytes)).toBe(text);
      const any = Buffer.from(Array.from({ length: size }, () => rng.below(256)));
      expect(type.fromBuffer(any)).toBe(
        decimalText(BigInt.asIntN(size * 8, BigInt(`0x${any.toString('hex')}`)), scale),
      );
    }
  });

  it('keeps the value of text with fewer fraction digits or leading zeros, and refuses what it would round', () => {
    const rng = random(53n);
    for (let i = 0; i < runs; i++) {
      const precision = rng.int(1, 30);
      const scale = rng.int(0, precision);
      const type = createAvroType({ type: 'bytes', logicalType: 'decimal', precision, scale });
      const unscaled = randomUnscaled(rng, precision);
      const text = decimalText(unscaled, scale);
      const [whole = '', fraction = ''] = text.split('.');
      const trimmed = fraction.replace(/0+$/, '');
      const shorter = `${whole.replace(/^(-?)/, `$1${'0'.repeat(rng.below(3))}`)}${trimmed === '' ? '' : `.${trimmed}`}`;
      expect(type.fromBuffer(type.toBuffer(shorter))).toBe(text);
      expect(type.isValid(`${text}${scale === 0 ? '.' : ''}1`)).toBe(false);
    }
  });
});

describe('uuid', () => {
  it('accepts every 128-bit value in 8-4-4-4-12 hex, in any case, and reads it back unchanged; refuses one character off', () => {
    const type = createAvroType({ type: 'string', logicalType: 'uuid' });
    const rng = random(60n);
    for (let i = 0; i < runs; i++) {
      const hex = (BigInt.asUintN(64, rng.long()) * 2n ** 64n + BigInt.asUintN(64, rng.long()))
        .toString(16)
        .padStart(32, '0');
      const cased = hex
        .split('')
        .map((c) => (rng.below(2) === 0 ? c.toUpperCase() : c))
        .join('');
      const id = `${cased.slice(0, 8)}-${cased.slice(8, 12)}-${cased.slice(12, 16)}-${cased.slice(16, 20)}-${cased.slice(20)}`;
      expect(type.isValid(id)).toBe(true);
      expect(type.fromBuffer(type.toBuffer(id))).toBe(id);
      const at = rng.below(id.length);
      const broken = rng.pick([
        `${id.slice(0, at)}${rng.pick(['g', 'z', '-', ' ', '_'])}${id.slice(at + 1)}`,
        `${id.slice(0, at)}${id.slice(at + 1)}`,
        `${id.slice(0, at)}${rng.pick(['0', 'a', '-'])}${id.slice(at)}`,
      ]);
      if (broken !== id) expect(type.isValid(broken)).toBe(false);
    }
  });
});
