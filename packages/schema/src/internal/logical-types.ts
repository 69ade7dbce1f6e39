/**
 * The Avro logical types Cascade maps to JavaScript values (see docs/schema.md). Every value Java
 * Avro can write reads back exactly or fails with an error naming the field; none changes silently.
 * - `timestamp-millis` (long) <-> `Date`; a long beyond a `Date` (±8.64e15 ms) is refused on read
 * - `date` (int, days since 1970-01-01) <-> ISO date string, `'YYYY-MM-DD'` for years 0000-9999,
 *   `'+10000-01-01'` / `'-0001-01-01'` beyond, as Java's `LocalDate` (no time zone to get wrong)
 * - `time-millis` (int) <-> `number`, `time-micros` (long) <-> `bigint`; only a time of day is written
 * - `uuid` (string) <-> string, checked to be a UUID
 * - `decimal` (bytes or fixed, with precision and scale) <-> decimal string such as `'-12.30'`,
 *   exact: the unscaled value is a two's-complement big-endian integer, never a float.
 * `timestamp-micros`, `timestamp-nanos` and `local-timestamp-*` stay `bigint` (no logical type here).
 *
 * Reading is lenient wherever the JavaScript value holds the written one exactly (a `time-millis`
 * past midnight, a uuid string of another form); writing refuses what Java's conversions refuse.
 * @module
 */

import avro from 'avsc';
import { decodeLong } from './bigint-long.js';
import { formatIsoDate, parseIsoDate } from './iso-date.js';

type AvroType = avro.Type;

/** avsc's read/write cursor (not in its typings). */
interface Tap {
  buf: Buffer;
  pos: number;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The largest distance from the epoch a JavaScript `Date` holds, in milliseconds. */
const maxDateMs = 8.64e15;
const msPerDay = 86_400_000;
const microsPerDay = 86_400_000_000n;

/**
 * Thrown while decoding a value whose logical type has no exact JavaScript representation for it
 * (a `timestamp-millis` beyond a `Date`). The decoder turns it into a `DeserializationError`
 * naming the field.
 */
export class UnrepresentableValueError extends Error {
  /** The logical type, e.g. `timestamp-millis`. */
  readonly logicalType: string;
  /** The written value, exactly (a long as its decimal digits). */
  readonly value: string;

  constructor(logicalType: string, value: string, limits: string) {
    super(`${logicalType} ${value}, outside ${limits}`);
    this.name = 'UnrepresentableValueError';
    this.logicalType = logicalType;
    this.value = value;
  }
}

let marking = false;

/**
 * Runs `decode` with each unrepresentable value decoded as its {@link UnrepresentableValueError}
 * instead of throwing it, so that the caller can find the field holding it.
 */
export function decodeMarkingUnrepresentable<T>(decode: () => T): T {
  marking = true;
  try {
    return decode();
  } finally {
    marking = false;
  }
}

function unrepresentableTimestamp(ms: bigint): UnrepresentableValueError {
  const error = new UnrepresentableValueError(
    'timestamp-millis',
    ms.toString(),
    'the range of a JavaScript Date (-8640000000000000 to 8640000000000000 ms since the epoch, years -271821 to 275760)',
  );
  if (marking) return error;
  throw error;
}

function dateOfMs(ms: number): Date | UnrepresentableValueError {
  return ms >= -maxDateMs && ms <= maxDateMs ? new Date(ms) : unrepresentableTimestamp(BigInt(ms));
}

function dateOfLong(ms: bigint): Date | UnrepresentableValueError {
  return ms >= -8_640_000_000_000_000n && ms <= 8_640_000_000_000_000n
    ? new Date(Number(ms))
    : unrepresentableTimestamp(ms);
}

/**
 * `timestamp-millis`: a `Date`, written as milliseconds since the epoch. Reads and writes the
 * zigzag varint itself, exactly over the whole `Date` range (avsc's number long flips the sign
 * below -2^52: `-2n - 1` is not a double there). A long beyond a `Date` is an
 * {@link UnrepresentableValueError}, never an invalid `Date`.
 */
export class TimestampMillisType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'timestamp-millis';
  }
  protected override _fromValue(value: number): Date | UnrepresentableValueError {
    return dateOfMs(value);
  }
  protected override _toValue(value: unknown): number | undefined {
    if (!(value instanceof Date)) return undefined;
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  protected override _resolve(
    type: AvroType,
  ): ((value: unknown) => Date | UnrepresentableValueError | undefined) | undefined {
    // A writer of the same logical type already decodes to a Date.
    if (type instanceof TimestampMillisType) return (value) => value as Date;
    // A plain long: Cascade's bigint long (undefined when the bytes are truncated).
    if (type.typeName === 'abstract:long' || type.typeName === 'long') {
      return (value) =>
        typeof value === 'bigint'
          ? dateOfLong(value)
          : typeof value === 'number'
            ? dateOfMs(value)
            : undefined;
    }
    return undefined;
  }

  /** Decodes the varint as floor(zigzag / 2) and the sign bit: exact for any `Date`. */
  _read(tap: Tap): Date | UnrepresentableValueError | undefined {
    const buf = tap.buf;
    const start = tap.pos;
    let pos = start;
    let byte = buf[pos++] as number; // undefined past the end: & gives 0
    const negative = byte & 1;
    let half = (byte & 0x7f) >>> 1;
    // Int arithmetic for the first 27 bits, then doubles (exact below 2^53).
    for (let shift = 6; byte & 0x80 && shift < 27; shift += 7) {
      byte = buf[pos++] as number;
      half |= (byte & 0x7f) << shift;
    }
    for (let weight = 134_217_728; byte & 0x80; weight *= 128) {
      byte = buf[pos++] as number;
      half += (byte & 0x7f) * weight;
    }
    tap.pos = pos;
    if (pos > buf.length) return undefined; // truncated: avsc's decode reports it
    if (pos - start > 10) throw new Error('invalid long encoding: more than 10 bytes');
    // -half - 1 >= -8.64e15 and half <= 8.64e15; `!(<=)` also catches NaN.
    if (!(half <= maxDateMs - negative))
      return unrepresentableTimestamp(decodeLong(buf.subarray(start, pos)));
    return new Date(negative === 1 ? -half - 1 : half);
  }

  /** Encodes the epoch milliseconds as a zigzag varint, exactly (no `2n` beyond 2^53). */
  _write(tap: Tap, value: unknown): void {
    const ms = this._toValue(value);
    if (ms === undefined) throw new Error(`invalid "timestamp-millis": not a valid Date (${typeof value})`);
    const buf = tap.buf;
    let pos = tap.pos;
    const negative = ms < 0;
    // zigzag = 2 * half + sign, half < 2^53: written 6 bits, then 7 bits at a time.
    let half = negative ? -ms - 1 : ms;
    let byte = ((half % 64) << 1) | (negative ? 1 : 0);
    half = Math.floor(half / 64);
    while (half > 0) {
      buf[pos++] = byte | 0x80; // past the end: ignored, avsc's encode grows the buffer
      byte = half % 128;
      half = Math.floor(half / 128);
    }
    buf[pos++] = byte;
    tap.pos = pos;
  }
}

/**
 * `date`: an ISO date string, written as days since 1970-01-01: `'YYYY-MM-DD'` for years
 * 0000-9999, `'+YYYYY-MM-DD'` after and `'-YYYY-MM-DD'` before, over the whole int range of days
 * (`'-5877641-06-23'` to `'+5881580-07-11'`), as Java's `LocalDate.toString()`.
 */
export class DateType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'date';
  }
  protected override _fromValue(days: number): string {
    // avsc reads an over-long int varint as a larger number: corrupt, not a date.
    if ((days | 0) !== days) throw new Error(`invalid int encoding: ${days} is not a 32-bit integer`);
    return formatIsoDate(days);
  }
  protected override _toValue(value: unknown): number | undefined {
    return typeof value === 'string' ? parseIsoDate(value) : undefined;
  }
  protected override _resolve(type: AvroType): ((value: unknown) => string) | undefined {
    if (type instanceof DateType) return (value) => value as string;
    if (type.typeName === 'int') return (value) => this._fromValue(value as number);
    return undefined;
  }
}

/**
 * `time-millis`: milliseconds after midnight as a `number`. Writes only a time of day (0 to
 * 86399999, as Java's `LocalTime`); reads any int unchanged.
 */
export class TimeMillisType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'time-millis';
  }
  protected override _fromValue(value: number): number {
    return value;
  }
  protected override _toValue(value: unknown): number | undefined {
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < msPerDay
      ? value
      : undefined;
  }
  protected override _resolve(type: AvroType): ((value: unknown) => number) | undefined {
    if (type instanceof TimeMillisType || type.typeName === 'int') return (value) => value as number;
    return undefined;
  }
}

/**
 * `time-micros`: microseconds after midnight as a `bigint`. Writes only a time of day (0 to
 * 86399999999, as Java's `LocalTime`); reads any long unchanged.
 */
export class TimeMicrosType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'time-micros';
  }
  protected override _fromValue(value: bigint): bigint {
    return value;
  }
  protected override _toValue(value: unknown): bigint | undefined {
    return typeof value === 'bigint' && value >= 0n && value < microsPerDay ? value : undefined;
  }
  protected override _resolve(type: AvroType): ((value: unknown) => bigint) | undefined {
    if (type instanceof TimeMicrosType || type.typeName === 'abstract:long')
      return (value) => value as bigint;
    return undefined;
  }
}

/** `uuid`: a string in the 8-4-4-4-12 hex form. */
export class UuidType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'uuid';
  }
  protected override _fromValue(value: string): string {
    return value;
  }
  protected override _toValue(value: unknown): string | undefined {
    return typeof value === 'string' && uuidPattern.test(value) ? value : undefined;
  }
  protected override _resolve(type: AvroType): ((value: unknown) => string) | undefined {
    if (type instanceof UuidType || type.typeName === 'string') return (value) => value as string;
    return undefined;
  }
}

interface DecimalSchema {
  readonly precision?: unknown;
  readonly scale?: unknown;
  readonly size?: unknown;
}

/**
 * `decimal`: a decimal string (`'1234.50'`, `'-0.01'`). Serializing accepts at most `scale`
 * fraction digits (fewer are padded; more are an error, never rounded) and at most `precision`
 * digits in all. Deserializing always returns exactly `scale` fraction digits.
 */
export class DecimalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;
  readonly #fixedSize: number | undefined;
  readonly #pattern: RegExp;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const { precision, scale = 0, size } = schema as DecimalSchema;
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
      throw new Error('decimal precision must be a positive integer');
    }
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error('decimal scale must be an integer between 0 and precision');
    }
    this.precision = precision;
    this.scale = scale;
    this.#fixedSize = typeof size === 'number' ? size : undefined;
    this.#pattern = new RegExp(`^(-?)(\\d+)(?:\\.(\\d{1,${Math.max(scale, 1)}}))?$`);
  }

  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'decimal';
    (schema as Record<string, unknown>).precision = this.precision;
    (schema as Record<string, unknown>).scale = this.scale;
  }

  protected override _fromValue(bytes: Buffer): string {
    let unscaled = 0n;
    for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
    if (bytes.length > 0 && ((bytes[0] as number) & 0x80) !== 0) unscaled -= 1n << BigInt(bytes.length * 8);
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale);
    return `${negative ? '-' : ''}${whole}${this.scale > 0 ? `.${fraction}` : ''}`;
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== 'string') return undefined;
    const match = this.#pattern.exec(value);
    if (match === null) return undefined;
    const fraction = match[3] ?? '';
    if (this.scale === 0 && fraction !== '') return undefined;
    const digits = `${match[2]}${fraction.padEnd(this.scale, '0')}`.replace(/^0+(?=\d)/, '');
    if (digits.length > this.precision) return undefined;
    const unscaled = BigInt(match[1] === '-' ? `-${digits}` : digits);
    return toTwosComplement(unscaled, this.#fixedSize);
  }

  protected override _resolve(type: AvroType): ((value: unknown) => string) | undefined {
    // The writer's decimal type already decodes to a string with the same scale.
    if (type instanceof DecimalType) {
      return type.scale === this.scale && type.precision <= this.precision
        ? (value) => value as string
        : undefined;
    }
    // Plain bytes or fixed of the same size: read as this decimal (the reader's logical type applies).
    if (
      type.typeName === 'bytes' ||
      (type.typeName === 'fixed' && (type as avro.types.FixedType).size === this.#fixedSize)
    ) {
      return (value) => this._fromValue(value as Buffer);
    }
    return undefined;
  }
}

function toTwosComplement(value: bigint, fixedSize: number | undefined): Buffer | undefined {
  let length = 1;
  while (value < -(1n << BigInt(length * 8 - 1)) || value >= 1n << BigInt(length * 8 - 1)) length++;
  if (fixedSize !== undefined) {
    if (length > fixedSize) return undefined;
    length = fixedSize;
  }
  const out = Buffer.alloc(length);
  let rest = BigInt.asUintN(length * 8, value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** The logical types Cascade implements, by `logicalType` name and underlying Avro type. */
export const logicalTypes: Readonly<
  Record<string, { readonly underlying: readonly string[]; readonly type: typeof avro.types.LogicalType }>
> = {
  'timestamp-millis': { underlying: ['long'], type: TimestampMillisType },
  date: { underlying: ['int'], type: DateType },
  'time-millis': { underlying: ['int'], type: TimeMillisType },
  'time-micros': { underlying: ['long'], type: TimeMicrosType },
  uuid: { underlying: ['string'], type: UuidType },
  decimal: { underlying: ['bytes', 'fixed'], type: DecimalType },
};
