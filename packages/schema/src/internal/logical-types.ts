/**
 * The Avro logical types Cascade maps to JavaScript values (see docs/schema.md):
 * - `timestamp-millis` (long) <-> `Date`
 * - `date` (int, days since 1970-01-01) <-> `'YYYY-MM-DD'` string (no time zone to get wrong)
 * - `uuid` (string) <-> string, checked to be a UUID
 * - `decimal` (bytes or fixed, with precision and scale) <-> decimal string such as `'-12.30'`,
 *   exact: the unscaled value is a two's-complement big-endian integer, never a float.
 * `timestamp-micros`, `local-timestamp-*` and `time-micros` stay `bigint`; `time-millis` stays `number`.
 * @module
 */

import avro from 'avsc';

type AvroType = avro.Type;

const msPerDay = 86_400_000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * `timestamp-millis`: a `Date`, written as milliseconds since the epoch. Underneath is avsc's
 * number long (every valid `Date` is within +-8.64e15 ms, below 2^53).
 */
export class TimestampMillisType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'timestamp-millis';
  }
  protected override _fromValue(value: number): Date {
    return new Date(value);
  }
  protected override _toValue(value: unknown): number | undefined {
    if (!(value instanceof Date)) return undefined;
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  protected override _resolve(type: AvroType): ((value: unknown) => Date) | undefined {
    // A writer of the same logical type already decodes to a Date.
    if (type instanceof TimestampMillisType) return (value) => value as Date;
    if (type.typeName === 'abstract:long' || type.typeName === 'long')
      return (value) => new Date(Number(value));
    return undefined;
  }
}

/** `date`: a `'YYYY-MM-DD'` string, written as days since 1970-01-01. */
export class DateType extends avro.types.LogicalType {
  protected override _export(schema: avro.Schema): void {
    (schema as Record<string, unknown>).logicalType = 'date';
  }
  protected override _fromValue(days: number): string {
    return new Date(days * msPerDay).toISOString().slice(0, 10);
  }
  protected override _toValue(value: unknown): number | undefined {
    if (typeof value !== 'string') return undefined;
    const match = datePattern.exec(value);
    if (match === null) return undefined;
    const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    // Reject dates that roll over (2024-02-30).
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) return undefined;
    return ms / msPerDay;
  }
  protected override _resolve(type: AvroType): ((value: unknown) => string) | undefined {
    if (type instanceof DateType) return (value) => value as string;
    if (type.typeName === 'int') return (value) => this._fromValue(value as number);
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
  uuid: { underlying: ['string'], type: UuidType },
  decimal: { underlying: ['bytes', 'fixed'], type: DecimalType },
};
