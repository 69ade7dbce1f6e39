import { describe, expect, it } from 'vitest';
import { avro } from './avro-serde.js';
import { bytes } from './bytes-serde.js';
import { DeserializationError, InvalidSchemaError, SerializationError } from './errors.js';
import { json } from './json-serde.js';
import { string } from './string-serde.js';
import type { SerdeContext } from './types.js';

const ctx: SerdeContext = { topic: 'orders', headers: {}, isKey: false, partition: 3, offset: '1812' };

describe('string()', () => {
  it('writes UTF-8 and reads it back', async () => {
    const serde = string();
    const encoded = await serde.serialize('größe ✓', ctx);
    expect(encoded).toEqual(Buffer.from([0x67, 0x72, 0xc3, 0xb6, 0xc3, 0x9f, 0x65, 0x20, 0xe2, 0x9c, 0x93]));
    expect(await serde.deserialize(encoded, ctx)).toBe('größe ✓');
  });

  it('refuses malformed UTF-8 as a corrupt payload with the record location', () => {
    const error = catchError(() => string().deserialize(Buffer.from([0x61, 0xff, 0x62]), ctx));
    expect(error).toBeInstanceOf(DeserializationError);
    expect(error).toMatchObject({
      code: 'CASCADE_SERDE_DESERIALIZE',
      reason: 'corrupt-payload',
      retriable: false,
      topic: 'orders',
      partition: 3,
      offset: '1812',
    });
  });

  it('refuses a non-string with a SerializationError', () => {
    const error = catchError(() => string().serialize(42 as unknown as string, ctx));
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({ code: 'CASCADE_SERDE_SERIALIZE', fieldPath: '', expectedType: 'string' });
  });
});

describe('bytes()', () => {
  it('passes the same buffer through both ways', async () => {
    const buffer = Buffer.from([0, 1, 255]);
    expect(await bytes().serialize(buffer, ctx)).toBe(buffer);
    expect(await bytes().deserialize(buffer, ctx)).toBe(buffer);
  });

  it('refuses a string', () => {
    expect(catchError(() => bytes().serialize('x' as unknown as Buffer, ctx))).toMatchObject({
      code: 'CASCADE_SERDE_SERIALIZE',
      expectedType: 'Buffer',
    });
  });
});

describe('json()', () => {
  interface Order {
    id: string;
    total: number;
  }
  const isOrder = (value: unknown): value is Order =>
    typeof value === 'object' && value !== null && typeof (value as Order).id === 'string';

  it('writes compact JSON and parses it back', async () => {
    const serde = json<Order>({ validate: isOrder });
    const encoded = await serde.serialize({ id: 'o-1', total: 9.5 }, ctx);
    expect(encoded.toString('utf8')).toBe('{"id":"o-1","total":9.5}');
    expect(await serde.deserialize(encoded, ctx)).toEqual({ id: 'o-1', total: 9.5 });
  });

  it('refuses malformed JSON as a corrupt payload', () => {
    const error = catchError(() => json().deserialize(Buffer.from('{"id":'), ctx));
    expect(error).toMatchObject({
      code: 'CASCADE_SERDE_DESERIALIZE',
      reason: 'corrupt-payload',
      offset: '1812',
    });
  });

  it('refuses JSON that validate rejects as an invalid value, on both sides', () => {
    const serde = json<Order>({ validate: isOrder });
    expect(catchError(() => serde.deserialize(Buffer.from('{"total":1}'), ctx))).toMatchObject({
      code: 'CASCADE_SERDE_DESERIALIZE',
      reason: 'invalid-value',
    });
    expect(catchError(() => serde.serialize({ total: 1 } as unknown as Order, ctx))).toMatchObject({
      code: 'CASCADE_SERDE_SERIALIZE',
      expectedType: 'a value accepted by validate',
    });
  });

  it('keeps the error a throwing validator raised as the cause', () => {
    const failure = new Error('id is required');
    const serde = json<Order>({
      validate: () => {
        throw failure;
      },
    });
    const error = catchError(() => serde.deserialize(Buffer.from('{}'), ctx));
    expect(error).toMatchObject({ reason: 'invalid-value', cause: failure });
    expect((error as Error).message).toContain('id is required');
  });

  it('refuses values JSON cannot represent', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(catchError(() => json().serialize(cyclic, ctx))).toBeInstanceOf(SerializationError);
    expect(catchError(() => json().serialize({ n: 1n }, ctx))).toBeInstanceOf(SerializationError);
    expect(catchError(() => json().serialize(undefined, ctx))).toBeInstanceOf(SerializationError);
  });
});

describe('avro()', () => {
  const schema = {
    type: 'record',
    name: 'Ping',
    fields: [
      { name: 'id', type: 'int' },
      { name: 'count', type: 'long' },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    ],
  } as const;

  it('writes plain Avro binary with bigint longs and Date timestamps', async () => {
    const serde = avro(schema);
    const at = new Date(1_700_000_000_123);
    const encoded = await serde.serialize({ id: 1, count: 2n ** 62n, at }, ctx);
    // int 1 -> zigzag 2; long 2^62 -> zigzag 2^63 as a 10-byte varint; 1700000000123 ms -> zigzag varint.
    expect(encoded.subarray(0, 1)).toEqual(Buffer.from([0x02]));
    expect(encoded.subarray(1, 11)).toEqual(
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
    );
    expect(await serde.deserialize(encoded, ctx)).toEqual({ id: 1, count: 2n ** 62n, at });
  });

  it('names the offending field and its expected type', () => {
    const error = catchError(() =>
      avro(schema).serialize({ id: 1, count: 5 as unknown as bigint, at: new Date(0) }, ctx),
    );
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({ fieldPath: 'count', expectedType: 'long (bigint)', topic: 'orders' });
    expect((error as Error).message).toContain('field count should be long (bigint), got number 5');
  });

  it('tells a truncated payload from trailing bytes', async () => {
    const encoded = await avro(schema).serialize({ id: 1, count: 1n, at: new Date(0) }, ctx);
    expect(catchError(() => avro(schema).deserialize(encoded.subarray(0, 2), ctx))).toMatchObject({
      reason: 'truncated',
    });
    expect(
      catchError(() => avro(schema).deserialize(Buffer.concat([encoded, Buffer.from([0])]), ctx)),
    ).toMatchObject({
      reason: 'corrupt-payload',
    });
  });

  it('refuses an invalid schema with InvalidSchemaError', () => {
    expect(
      catchError(() => avro({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'nope' }] })),
    ).toMatchObject({
      code: 'CASCADE_SCHEMA_INVALID',
    });
    expect(catchError(() => avro({ type: 'record', name: 'X' }))).toBeInstanceOf(InvalidSchemaError);
  });
});

function catchError(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
