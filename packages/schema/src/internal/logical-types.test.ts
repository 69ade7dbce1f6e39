import { describe, expect, it } from 'vitest';
import { createAvroType } from './avro-type.js';

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

describe('date, timestamp-millis, uuid', () => {
  it('reads a date as YYYY-MM-DD and refuses impossible dates', () => {
    const type = createAvroType({ type: 'int', logicalType: 'date' });
    expect(type.toBuffer('1970-01-02')).toEqual(Buffer.from([0x02]));
    expect(type.fromBuffer(Buffer.from([0x01]))).toBe('1969-12-31');
    expect(type.isValid('2024-02-29')).toBe(true);
    expect(type.isValid('2023-02-29')).toBe(false);
    expect(type.isValid('2023-2-1')).toBe(false);
    expect(type.isValid(new Date())).toBe(false);
  });

  it('writes timestamp-millis as the epoch milliseconds long, refusing an invalid Date', () => {
    const type = createAvroType({ type: 'long', logicalType: 'timestamp-millis' });
    expect(type.toBuffer(new Date(1))).toEqual(Buffer.from([0x02]));
    expect(type.fromBuffer(Buffer.from([0x03]))).toEqual(new Date(-2));
    expect(type.isValid(new Date(Number.NaN))).toBe(false);
    expect(type.isValid(5)).toBe(false);
  });

  it('checks uuid strings', () => {
    const type = createAvroType({ type: 'string', logicalType: 'uuid' });
    expect(type.isValid('5F0C6F1E-8A3B-4C1D-9E2F-0123456789AB')).toBe(true);
    expect(type.isValid('not-a-uuid')).toBe(false);
  });

  it('resolves an int writer to a date reader and a long writer to a timestamp reader', () => {
    const date = createAvroType({ type: 'int', logicalType: 'date' });
    const int = createAvroType('int');
    expect(date.fromBuffer(int.toBuffer(365), date.createResolver(int))).toBe('1971-01-01');
    const ts = createAvroType({ type: 'long', logicalType: 'timestamp-millis' });
    const long = createAvroType('long');
    expect(ts.fromBuffer(long.toBuffer(1000n), ts.createResolver(long))).toEqual(new Date(1000));
  });
});
