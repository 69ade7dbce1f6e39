import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClosedError } from '@cascade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistry } from './schema-registry.js';

// A stand-in registry answering schema id 1, to see requests reach it before close() and not after.
let url = '';
let requests = 0;
const server = createServer((_request, response) => {
  requests++;
  response.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
  response.end(JSON.stringify({ schema: '"string"' }));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('SchemaRegistry lifecycle', () => {
  it('is running until close(), then refuses requests with ClosedError and sends none', async () => {
    const registry = new SchemaRegistry({ url });
    expect(registry.state).toBe('running');
    await expect(registry.getSchemaById(1)).resolves.toMatchObject({ schema: '"string"' });
    const before = requests;
    await registry.close();
    await registry.close(); // idempotent
    expect(registry.state).toBe('stopped');
    const error = await registry.getSchemaById(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClosedError);
    expect(error).toMatchObject({ code: 'CASCADE_CLOSED', retriable: false });
    expect(requests).toBe(before);
    // What it cached before still serves.
    await expect(registry.getSchemaById(1)).resolves.toMatchObject({ schema: '"string"' });
  });

  it('closes at the end of an await using scope', async () => {
    let outer: SchemaRegistry | undefined;
    {
      await using registry = new SchemaRegistry({ url });
      outer = registry;
      expect(registry.state).toBe('running');
    }
    expect(outer.state).toBe('stopped');
  });
});
