// Every bad input of the issue, against the real registry: each fails with its own error class,
// `code`, `reason` and the record location, and a poison pill is never retriable.
import { isRetriable } from '@cascade/core';
import {
  DeserializationError,
  InvalidSchemaError,
  registryAvro,
  SchemaRegistry,
  SerializationError,
} from '@cascade/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';
import { caught } from './caught.js';
import { rest } from './registry-rest.js';

const schema = {
  type: 'record',
  name: 'Cart',
  namespace: 'com.acme.shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'coupon', type: ['null', 'string'], default: null },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'qty', type: 'int' },
          ],
        },
      },
    },
  ],
} as const;

const registry = new SchemaRegistry({ url: cluster().registryUrl });
const serde = registryAvro({ registry, schema });
const topic = uniqueName('carts');
const location = { topic, headers: {}, isKey: false, partition: 2, offset: '41' } as const;
let valid: Buffer;
let id: number;

beforeAll(async () => {
  valid = await serde.serialize({ id: 'c-1', coupon: null, items: [{ sku: 'A', qty: 1 }] }, location);
  id = valid.readInt32BE(1);
});
afterAll(() => registry.close());

async function poisonPill(bytes: Buffer): Promise<DeserializationError> {
  const error = await caught(() => serde.deserialize(bytes, location));
  expect(error).toBeInstanceOf(DeserializationError);
  expect(error).toMatchObject({
    code: 'CASCADE_SERDE_DESERIALIZE',
    retriable: false,
    topic,
    partition: 2,
    offset: '41',
  });
  expect(isRetriable(error)).toBe(false);
  return error as DeserializationError;
}

describe('deserializing bad bytes', () => {
  it('says bad magic byte when the first byte is not 0 (e.g. plain JSON)', async () => {
    const error = await poisonPill(Buffer.from('{"id":"c-1"}'));
    expect(error.reason).toBe('bad-magic-byte');
    expect(error.message).toContain('the first byte is 123, not the magic byte 0');
    expect(error.message).toContain(`topic ${topic}, partition 2, offset 41`);
  });

  it('says truncated for an empty payload, a short header, and a cut Avro body', async () => {
    expect((await poisonPill(Buffer.alloc(0))).reason).toBe('truncated');
    expect((await poisonPill(valid.subarray(0, 3))).reason).toBe('truncated');
    const cut = await poisonPill(valid.subarray(0, valid.length - 1));
    expect(cut).toMatchObject({ reason: 'truncated', schemaId: id });
  });

  it('says unknown schema id for an id the registry does not have', async () => {
    const bytes = Buffer.from(valid);
    bytes.writeInt32BE(2_000_000_123, 1);
    const error = await poisonPill(bytes);
    expect(error).toMatchObject({ reason: 'unknown-schema-id', schemaId: 2_000_000_123 });
    expect(error.message).toContain('schema id 2000000123 is not in registry');
  });

  it('says corrupt payload for a bad union branch index and for trailing bytes', async () => {
    // id "c-1", then union index 9 (zigzag 18 = 0x12): no such branch.
    const badBranch = Buffer.concat([valid.subarray(0, 5), Buffer.from([0x06, 0x63, 0x2d, 0x31, 0x12])]);
    expect(await poisonPill(badBranch)).toMatchObject({ reason: 'corrupt-payload', schemaId: id });
    const trailing = Buffer.concat([valid, Buffer.from([0x00, 0x00])]);
    const error = await poisonPill(trailing);
    expect(error.reason).toBe('corrupt-payload');
    expect(error.message).toContain('2 unread bytes follow the Avro value');
  });
});

describe('deserializing with a schema id that is not Avro', () => {
  it('says incompatible schema for an id of a JSON schema', async () => {
    const { status, json } = await rest('POST', `subjects/${uniqueName('json-schema')}-value/versions`, {
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { id: { type: 'string' } } }),
    });
    expect(status).toBe(200);
    const jsonId = (json as { id: number }).id;
    const bytes = Buffer.from(valid);
    bytes.writeInt32BE(jsonId, 1);
    const error = await poisonPill(bytes);
    expect(error).toMatchObject({ reason: 'incompatible-schema', schemaId: jsonId });
    expect(error.message).toContain(`Schema id ${jsonId} is a JSON schema, not Avro`);
  });
});

describe('registering a schema the registry finds invalid', () => {
  it('fails with InvalidSchemaError carrying the subject', async () => {
    const subject = `${uniqueName('invalid')}-value`;
    const error = await caught(() => registry.register(subject, { schema: '{"type":"recordx","name":"X"}' }));
    expect(error).toBeInstanceOf(InvalidSchemaError);
    expect(error).toMatchObject({ code: 'CASCADE_SCHEMA_INVALID', subject, retriable: false });
  });
});

describe('serializing bad values', () => {
  it('names the nested field path and the expected type, with subject and schema id', async () => {
    const error = await caught(() =>
      serde.serialize(
        {
          id: 'c-2',
          items: [
            { sku: 'A', qty: 1 },
            { sku: 7 as unknown as string, qty: 2 },
          ],
        },
        { topic, headers: {}, isKey: false },
      ),
    );
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({
      code: 'CASCADE_SERDE_SERIALIZE',
      retriable: false,
      fieldPath: 'items[1].sku',
      expectedType: 'string',
      subject: `${topic}-value`,
      schemaId: id,
      topic,
    });
    expect((error as Error).message).toContain('field items[1].sku should be string, got number 7');
  });

  it('names a missing field, a bad enum symbol and an int out of range', async () => {
    const status = {
      type: 'record',
      name: 'Status',
      fields: [
        { name: 'state', type: { type: 'enum', name: 'State', symbols: ['OPEN', 'DONE'] } },
        { name: 'count', type: 'int' },
      ],
    } as const;
    const statusSerde = registryAvro({ registry, schema: status });
    const t = { topic: uniqueName('status'), headers: {}, isKey: false };
    expect(await caught(() => statusSerde.serialize({ state: 'LOST' as 'OPEN', count: 1 }, t))).toMatchObject(
      {
        fieldPath: 'state',
        expectedType: 'enum State ("OPEN" | "DONE")',
      },
    );
    expect(await caught(() => statusSerde.serialize({ state: 'OPEN', count: 2 ** 31 }, t))).toMatchObject({
      fieldPath: 'count',
      expectedType: 'int (32-bit integer)',
    });
    expect(
      await caught(() => statusSerde.serialize({ state: 'OPEN' } as { state: 'OPEN'; count: number }, t)),
    ).toMatchObject({
      fieldPath: 'count',
    });
  });
});
