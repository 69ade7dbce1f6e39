import { describe, expect, it } from 'vitest';
import { avro } from '../avro-serde.js';
import { DeserializationError, SerializationError } from '../errors.js';
import type { SerdeContext } from '../types.js';
import { createAvroType } from './avro-type.js';
import { encodeLong } from './bigint-long.js';
import { decodeAvro } from './codec.js';

const decimal = (precision: number, scale: number, fixedSize?: number) =>
  createAvroType(
    fixedSize === undefined
      ? { type: 'bytes', logicalType: 'decimal', precision, scale }
      : { type: 'fixed', name: 'D', size: fixedSize, logicalType: 'decimal', precision, scale },
  );

describe('decimal', () => {
  it('round-trips exactly, padding to the scale', () => {
    const type = decimal(38, 10);
    for (const [input, output] of [
      ['0', '0.0000000000'],
      ['-0.0000000001', '-0.0000000001'],
      ['123456789012345678901234567.8901234567', '123456789012345678901234567.8901234567'],
      ['-5.5', '-5.5000000000'],
    ]) {
      expect(type.fromBuffer(type.toBuffer(input))).toBe(output);
    }
  });

  it('refuses more fraction digits than the scale, more digits than the precision, and non-decimal text', () => {
    const type = decimal(5, 2);
    expect(type.isValid('123.45')).toBe(true);
    expect(type.isValid('1.234')).toBe(false);
    expect(type.isValid('1234.5')).toBe(false);
    expect(type.isValid('1e3')).toBe(false);
    expect(type.isValid(1.5)).toBe(false);
    expect(type.isValid(' 1.5')).toBe(false);
    expect(decimal(3, 0).isValid('1.0')).toBe(false);
  });

  it('sign-extends into a fixed and refuses values that do not fit it', () => {
    const type = decimal(4, 0, 2);
    expect(type.toBuffer('-1')).toEqual(Buffer.from([0xff, 0xff]));
    expect(type.toBuffer('255')).toEqual(Buffer.from([0x00, 0xff]));
    expect(type.fromBuffer(Buffer.from([0x80, 0x00]))).toBe('-32768');
    expect(decimal(9, 0, 2).isValid('40000')).toBe(false);
  });

  it('resolves plain bytes to a decimal reader, and refuses another scale', () => {
    const reader = decimal(9, 2);
    const bytes = createAvroType('bytes');
    expect(reader.fromBuffer(bytes.toBuffer(Buffer.from([0x02, 0xbc])), reader.createResolver(bytes))).toBe(
      '7.00',
    );
    expect(() => reader.createResolver(decimal(9, 3))).toThrow(/cannot read/);
    const wider = decimal(12, 2);
    expect(wider.fromBuffer(reader.toBuffer('1.25'), wider.createResolver(reader))).toBe('1.25');
  });

  it('reads a negative zero back as zero, the same number (Java BigDecimal has no -0 either)', () => {
    const type = decimal(5, 2);
    expect(type.toBuffer('-0.00')).toEqual(Buffer.from([0x02, 0x00]));
    expect(type.fromBuffer(type.toBuffer('-0'))).toBe('0.00');
  });

  it('falls back to bytes when the decimal attributes are invalid, as the spec says', () => {
    const type = createAvroType({ type: 'bytes', logicalType: 'decimal', scale: 2 });
    expect(type.typeName).toBe('bytes');
  });
});

describe('exported schemas', () => {
  it('keep the logical type and its attributes', () => {
    expect(decimal(9, 2).schema({ exportAttrs: true })).toEqual({
      type: 'bytes',
      logicalType: 'decimal',
      precision: 9,
      scale: 2,
    });
    expect(
      createAvroType({ type: 'long', logicalType: 'timestamp-millis' }).schema({ exportAttrs: true }),
    ).toEqual({
      type: 'long',
      logicalType: 'timestamp-millis',
    });
    expect(createAvroType({ type: 'int', logicalType: 'date' }).schema({ exportAttrs: true })).toEqual({
      type: 'int',
      logicalType: 'date',
    });
  });
});

const ctx: SerdeContext = { topic: 'events', headers: {}, isKey: false, partition: 1, offset: '7' };
const bytesOf = (...bytes: number[]) => Buffer.from(bytes);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('date', () => {
  const type = createAvroType({ type: 'int', logicalType: 'date' });

  // Expected bytes from the Avro specification: days since 1970-01-01 as a zigzag varint int.
  it.each([
    ['1970-01-01', 0, [0x00]],
    ['1970-01-02', 1, [0x02]],
    ['1969-12-31', -1, [0x01]],
    ['0001-01-01', -719_162, [0xf3, 0xe4, 0x57]],
    ['0000-01-01', -719_528, [0xcf, 0xea, 0x57]],
    ['9999-12-31', 2_932_896, [0xc0, 0x82, 0xe6, 0x02]],
    ['+10000-01-01', 2_932_897, [0xc2, 0x82, 0xe6, 0x02]],
    ['+5881580-07-11', 2_147_483_647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    ['-5877641-06-23', -2_147_483_648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('writes %s as day %i with the bytes Java Avro writes, and reads it back', (text, days, bytes) => {
    expect(type.toBuffer(text)).toEqual(Buffer.from(bytes));
    expect(createAvroType('int').fromBuffer(Buffer.from(bytes))).toBe(days);
    expect(type.fromBuffer(Buffer.from(bytes))).toBe(text);
  });

  it.each([
    ['0000-01-01'],
    ['0001-01-01'],
    ['0099-12-31'],
    ['0100-01-01'],
    ['0999-03-01'],
    ['9999-12-31'],
    ['+10000-01-01'],
    ['-0001-12-31'],
    ['-0001-01-01'],
    ['-0100-02-28'],
    ['-1000000-01-01'],
    ['+1000000-12-31'],
    ['2024-02-29'],
    ['0000-02-29'],
    ['-0004-02-29'],
  ])('round-trips %s exactly, years 0000-0099 included', (text) => {
    expect(type.isValid(text)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(text))).toBe(text);
  });

  it.each([
    ['2023-02-29', 'not a leap year'],
    ['1900-02-29', 'a century that is not a leap year'],
    ['-0100-02-29', 'a negative century that is not a leap year'],
    ['2024-13-01', 'month 13'],
    ['2024-00-10', 'month 0'],
    ['2024-04-31', 'day 31 in April'],
    ['2024-01-00', 'day 0'],
    ['2023-2-1', 'missing zero padding'],
    ['10000-01-01', 'a five-digit year without its + sign'],
    ['+0001-01-01', 'a + sign on a four-digit year'],
    ['+010000-01-01', 'a padded expanded year (the JavaScript toISOString form)'],
    ['-000001-01-01', 'a padded negative year (the JavaScript toISOString form)'],
    ['-0000-01-01', 'year minus zero'],
    ['-001-01-01', 'a negative year of three digits'],
    ['+5881580-07-12', 'the day after the last int day'],
    ['-5877641-06-22', 'the day before the first int day'],
    ['2024-01-01T00:00:00Z', 'a timestamp'],
    [' 2024-01-01', 'leading space'],
  ])('refuses %s (%s)', (text) => {
    expect(type.isValid(text)).toBe(false);
    expect(() => type.toBuffer(text)).toThrow();
  });

  it('refuses a Date, a number and null', () => {
    expect(type.isValid(new Date())).toBe(false);
    expect(type.isValid(0)).toBe(false);
    expect(type.isValid(null)).toBe(false);
  });

  it('names the field and the expected format when a date is refused', async () => {
    const serde = avro({
      type: 'record',
      name: 'R',
      fields: [{ name: 'day', type: { type: 'int', logicalType: 'date' } }],
    } as const);
    const error = await Promise.resolve()
      .then(() => serde.serialize({ day: '10000-01-01' }, ctx))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({ code: 'CASCADE_SERDE_SERIALIZE', fieldPath: 'day' });
    expect((error as Error).message).toContain('+10000-01-01');
  });

  it('refuses an int varint beyond 32 bits as a corrupt payload, not a date', () => {
    const serde = avro({ type: 'int', logicalType: 'date' } as const);
    const error = caught(() => serde.deserialize(encodeLong(2n ** 31n), ctx));
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({ code: 'CASCADE_SERDE_DESERIALIZE', reason: 'corrupt-payload' });
  });

  it('reads an int writer into a date reader over the whole int range', () => {
    const int = createAvroType('int');
    const resolver = type.createResolver(int);
    expect(type.fromBuffer(int.toBuffer(365), resolver)).toBe('1971-01-01');
    expect(type.fromBuffer(int.toBuffer(2_147_483_647), resolver)).toBe('+5881580-07-11');
    expect(type.fromBuffer(int.toBuffer(-719_162), resolver)).toBe('0001-01-01');
  });
});

describe('timestamp-millis', () => {
  const type = createAvroType({ type: 'long', logicalType: 'timestamp-millis' });
  const record = avro({
    type: 'record',
    name: 'Event',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    ],
  } as const);
  /** An Event record's bytes: id 'e' then `at` as any long (what Java Avro could write). */
  const eventBytes = (at: bigint) => Buffer.concat([bytesOf(0x02, 0x65), encodeLong(at)]);

  // Expected bytes from the Avro specification: milliseconds since the epoch as a zigzag varint long.
  it.each([
    [0, [0x00]],
    [1, [0x02]],
    [-2, [0x03]],
    [1_764_672_000_000, [0x80, 0xc0, 0xae, 0xea, 0xdb, 0x66]],
    [-(2 ** 52) - 1, [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]],
    [8.64e15, [0x80, 0x80, 0xe0, 0xad, 0x98, 0x82, 0xd9, 0x1e]],
    [-8.64e15, [0xff, 0xff, 0xdf, 0xad, 0x98, 0x82, 0xd9, 0x1e]],
  ])('writes %i ms with the bytes Java Avro writes and reads them back', (ms, bytes) => {
    expect(type.toBuffer(new Date(ms))).toEqual(Buffer.from(bytes));
    expect((type.fromBuffer(Buffer.from(bytes)) as Date).getTime()).toBe(ms);
  });

  it.each([
    -8.64e15,
    -8.64e15 + 1,
    -(2 ** 52) - 1,
    -(2 ** 52),
    -(2 ** 52) + 1,
    -(2 ** 31) - 1,
    -(2 ** 31),
    -1,
    0,
    2 ** 31 - 1,
    2 ** 52 - 1,
    2 ** 52,
    2 ** 52 + 1,
    8.64e15 - 1,
    8.64e15,
  ])('round-trips %i ms without changing its sign or value', (ms) => {
    const wire = type.toBuffer(new Date(ms));
    expect(wire).toEqual(encodeLong(BigInt(ms)));
    expect((type.fromBuffer(wire) as Date).getTime()).toBe(ms);
  });

  it.each([
    8_640_000_000_000_001n,
    -8_640_000_000_000_001n,
    2n ** 53n - 1n,
    -(2n ** 53n) + 1n,
    2n ** 53n,
    -(2n ** 53n),
    2n ** 63n - 1n,
    -(2n ** 63n),
  ])('refuses to read %s ms, beyond a JavaScript Date, naming the field and the value', (ms) => {
    const error = caught(() => record.deserialize(eventBytes(ms), ctx));
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({
      code: 'CASCADE_SERDE_DESERIALIZE',
      reason: 'invalid-value',
      fieldPath: 'at',
      topic: 'events',
      offset: '7',
    });
    expect((error as Error).message).toContain(`field at`);
    expect((error as Error).message).toContain('timestamp-millis');
    expect((error as Error).message).toContain(ms.toString());
  });

  it('names the array index and the union field of a timestamp beyond a Date, also when a plain long wrote it', () => {
    const schema = (at: object) => ({
      type: 'record',
      name: 'Batch',
      fields: [
        {
          name: 'events',
          type: {
            type: 'array',
            items: { type: 'record', name: 'Ev', fields: [{ name: 'at', type: ['null', at] }] },
          },
        },
      ],
    });
    const reader = createAvroType(schema({ type: 'long', logicalType: 'timestamp-millis' }));
    const writer = createAvroType(schema({ type: 'long' }));
    // events: [{ at: 1 }, { at: -8640000000000001 }] written with plain longs.
    const bytes = writer.toBuffer({ events: [{ at: 1n }, { at: -8_640_000_000_000_001n }] });
    for (const resolver of [undefined, reader.createResolver(writer)]) {
      const error = caught(() => decodeAvro(reader, bytes, 0, resolver, ctx));
      expect(error).toBeInstanceOf(DeserializationError);
      expect(error).toMatchObject({ reason: 'invalid-value', fieldPath: 'events[1].at' });
      expect((error as Error).message).toContain(
        'field events[1].at holds timestamp-millis -8640000000000001',
      );
    }
  });

  it('still reports a truncated timestamp as truncated', () => {
    const error = caught(() => record.deserialize(eventBytes(-8_640_000_000_000_001n).subarray(0, 6), ctx));
    expect(error).toMatchObject({ code: 'CASCADE_SERDE_DESERIALIZE', reason: 'truncated' });
  });

  it('refuses an invalid Date and a number when writing', () => {
    expect(type.isValid(new Date(Number.NaN))).toBe(false);
    expect(type.isValid(5)).toBe(false);
    expect(() => type.toBuffer(new Date(Number.NaN))).toThrow();
  });

  it('reads a long writer into a timestamp reader, refusing longs beyond a Date', () => {
    const long = createAvroType('long');
    const resolver = type.createResolver(long);
    expect(type.fromBuffer(long.toBuffer(1000n), resolver)).toEqual(new Date(1000));
    expect((type.fromBuffer(long.toBuffer(-8_640_000_000_000_000n), resolver) as Date).getTime()).toBe(
      -8.64e15,
    );
    expect(() => type.fromBuffer(long.toBuffer(-8_640_000_000_000_001n), resolver)).toThrow(
      /timestamp-millis/,
    );
  });

  it('reads a timestamp-millis writer into a plain long reader exactly', () => {
    const long = createAvroType('long');
    expect(long.fromBuffer(type.toBuffer(new Date(-8.64e15)), long.createResolver(type))).toBe(
      -8_640_000_000_000_000n,
    );
  });
});

describe('time-millis and time-micros', () => {
  const millis = createAvroType({ type: 'int', logicalType: 'time-millis' });
  const micros = createAvroType({ type: 'long', logicalType: 'time-micros' });

  it('writes milliseconds after midnight as an int number, up to 23:59:59.999', () => {
    expect(millis.toBuffer(0)).toEqual(bytesOf(0x00));
    expect(millis.toBuffer(86_399_999)).toEqual(bytesOf(0xfe, 0xef, 0xb2, 0x52));
    expect(millis.fromBuffer(bytesOf(0xfe, 0xef, 0xb2, 0x52))).toBe(86_399_999);
  });

  it('refuses to write a time-millis outside the day, as Java LocalTime does', () => {
    for (const bad of [-1, 86_400_000, 2 ** 31 - 1, 1.5, Number.NaN, 5n])
      expect(millis.isValid(bad)).toBe(false);
  });

  it('reads every int of a time-millis unchanged, even outside the day', () => {
    const int = createAvroType('int');
    for (const value of [-1, 86_400_000, -(2 ** 31), 2 ** 31 - 1]) {
      expect(millis.fromBuffer(int.toBuffer(value))).toBe(value);
    }
  });

  it('writes microseconds after midnight as a bigint long, up to 23:59:59.999999', () => {
    expect(micros.toBuffer(86_399_999_999n)).toEqual(encodeLong(86_399_999_999n));
    expect(micros.fromBuffer(encodeLong(86_399_999_999n))).toBe(86_399_999_999n);
    for (const bad of [-1n, 86_400_000_000n, 5]) expect(micros.isValid(bad)).toBe(false);
    expect(micros.fromBuffer(encodeLong(-(2n ** 63n)))).toBe(-(2n ** 63n));
  });

  it('names the field of a time-millis outside the day', async () => {
    const serde = avro({
      type: 'record',
      name: 'R',
      fields: [{ name: 'opensAt', type: { type: 'int', logicalType: 'time-millis' } }],
    } as const);
    const error = await Promise.resolve()
      .then(() => serde.serialize({ opensAt: 86_400_000 }, ctx))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({ fieldPath: 'opensAt' });
    expect((error as Error).message).toContain('86399999');
  });
});

describe('uuid', () => {
  const type = createAvroType({ type: 'string', logicalType: 'uuid' });

  it('accepts the 8-4-4-4-12 hex form in either case and reads it back unchanged', () => {
    for (const id of ['5F0C6F1E-8A3B-4C1D-9E2F-0123456789AB', '00000000-0000-0000-0000-000000000000']) {
      expect(type.isValid(id)).toBe(true);
      expect(type.fromBuffer(type.toBuffer(id))).toBe(id);
    }
  });

  it.each([
    'not-a-uuid',
    '5f0c6f1e8a3b4c1d9e2f0123456789ab',
    '{5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab}',
    '5f0c6f1e-8a3b-4c1d-9e2f-0123456789a',
    '5f0c6f1e-8a3b-4c1d-9e2f-0123456789abc',
    '5f0c6f1g-8a3b-4c1d-9e2f-0123456789ab',
    '5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab\n',
  ])('refuses %s', (id) => {
    expect(type.isValid(id)).toBe(false);
  });

  it('reads any string of a uuid written elsewhere unchanged', () => {
    const string = createAvroType('string');
    expect(type.fromBuffer(string.toBuffer('1-1-1-1-1'))).toBe('1-1-1-1-1');
  });
});

describe('longs that stay bigint', () => {
  it.each([
    'timestamp-micros',
    'timestamp-nanos',
    'local-timestamp-millis',
    'local-timestamp-micros',
    'local-timestamp-nanos',
  ])('%s round-trips the whole long range as bigint', (logicalType) => {
    const type = createAvroType({ type: 'long', logicalType });
    for (const value of [0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect(type.toBuffer(value)).toEqual(encodeLong(value));
      expect(type.fromBuffer(encodeLong(value))).toBe(value);
    }
    expect(type.isValid(1)).toBe(false);
    expect(type.isValid(new Date())).toBe(false);
  });
});

describe('logical types Cascade does not map', () => {
  it('reads big-decimal and a uuid on fixed(16) as their underlying bytes, exactly', () => {
    const bigDecimal = createAvroType({ type: 'bytes', logicalType: 'big-decimal' });
    expect(bigDecimal.fromBuffer(bigDecimal.toBuffer(Buffer.from([0x01, 0x80, 0x02])))).toEqual(
      Buffer.from([0x01, 0x80, 0x02]),
    );
    const fixedUuid = createAvroType({ type: 'fixed', name: 'U', size: 16, logicalType: 'uuid' });
    expect(fixedUuid.fromBuffer(Buffer.alloc(16, 0xab))).toEqual(Buffer.alloc(16, 0xab));
  });
});

describe('duration', () => {
  it('stays a 12-byte fixed Buffer (months, days, milliseconds as unsigned little-endian ints)', () => {
    const type = createAvroType({ type: 'fixed', name: 'Duration', size: 12, logicalType: 'duration' });
    const value = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0x80]);
    expect(type.toBuffer(value)).toEqual(value);
    expect(type.fromBuffer(value)).toEqual(value);
    expect(type.isValid(Buffer.alloc(11))).toBe(false);
  });
});
