// A registry (or a proxy in front of it) that echoes the request's credentials in its error body
// must not put them into Cascade's errors. An in-process HTTP server plays that registry.

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type LogMeta, serializeError } from '@cascade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSchemaError, RegistryRequestError, SchemaIncompatibleError } from './errors.js';
import { compatibilityMessages, errorBody, parseJson } from './internal/registry-responses.js';
import { SchemaRegistry } from './schema-registry.js';

const password = 'hunter2-Pa55';
const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJl';
const basic = Buffer.from(`svc:${password}`).toString('base64');
const schema = { schema: JSON.stringify({ type: 'record', name: 'Order', fields: [] }) };

/** How the fake registry answers the next request: status and a body built from the request. */
let answer: (request: http.IncomingMessage) => { status: number; body: string } = () => ({
  status: 500,
  body: '',
});
let server: http.Server;
let origin = '';

beforeAll(async () => {
  server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const { status, body } = answer(request);
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

const auths = ['basic auth', 'a bearer token', 'user info in the URL'] as const;

/** A client of the fake registry with each kind of credentials, not retrying. */
function registry(auth: (typeof auths)[number] = 'basic auth'): SchemaRegistry {
  const retry = { retries: 0 };
  switch (auth) {
    case 'basic auth':
      return new SchemaRegistry({ url: origin, auth: { username: 'svc', password }, retry });
    case 'a bearer token':
      return new SchemaRegistry({ url: origin, auth: { token }, retry });
    case 'user info in the URL':
      return new SchemaRegistry({ url: origin.replace('http://', `http://svc:${password}@`), retry });
  }
}

/** Every way the fake registry echoes what it received. */
function echoes(request: http.IncomingMessage): string[] {
  const authorization = request.headers.authorization ?? '';
  return [
    `bad request, headers: {Authorization=[${authorization}], Accept=[application/json]}`,
    `rejected ${authorization} for https://svc:${password}@registry.example:8081/subjects`,
    `{"authorization":"${authorization}","password":"${password}"}`,
    `GET /subjects?user=svc&password=${password}`,
  ];
}

async function failure(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(password);
  expect(text).not.toContain(token);
  expect(text).not.toContain(basic);
}

describe('registry errors never carry credentials the registry echoed', () => {
  it.each(auths)('keeps them out of a RegistryRequestError with %s', async (auth) => {
    const client = registry(auth);
    for (const index of [0, 1, 2, 3]) {
      answer = (request) => ({
        status: 400,
        body: JSON.stringify({ error_code: 40001, message: echoes(request)[index] }),
      });
      const error = await failure(client.getSchemaById(7 + index));
      expect(error).toBeInstanceOf(RegistryRequestError);
      expect((error as RegistryRequestError).code).toBe('CASCADE_REGISTRY_REQUEST');
      expect(error.message).toContain('[redacted]');
      expectNoSecret(error.message);
      expectNoSecret(JSON.stringify(error));
    }
    await client.close();
  });

  it('keeps them out of a body that is not JSON (a proxy error page)', async () => {
    const client = registry();
    answer = (request) => ({
      status: 400,
      body: `<html><body>Bad request. Authorization: ${request.headers.authorization}</body></html>`,
    });
    const error = await failure(client.getSchemaById(1));
    expect(error).toBeInstanceOf(RegistryRequestError);
    expect(error.message).toContain('Authorization: [redacted]');
    expectNoSecret(error.message);
    await client.close();
  });

  it('keeps them out of InvalidSchemaError, SchemaIncompatibleError and compatibility messages', async () => {
    const client = registry('a bearer token');
    answer = (request) => ({
      status: 422,
      body: JSON.stringify({ error_code: 42201, message: echoes(request)[1] }),
    });
    const invalid = await failure(client.register('orders-value', schema));
    expect(invalid).toBeInstanceOf(InvalidSchemaError);
    expectNoSecret(invalid.message);

    answer = (request) => ({
      status: 409,
      body: JSON.stringify({ error_code: 409, message: echoes(request)[0] }),
    });
    const incompatible = await failure(client.register('orders-value', schema));
    expect(incompatible).toBeInstanceOf(SchemaIncompatibleError);
    expectNoSecret(incompatible.message);
    expectNoSecret((incompatible as SchemaIncompatibleError).reasons.join(' '));

    answer = (request) => ({
      status: 200,
      body: JSON.stringify({ is_compatible: false, messages: echoes(request) }),
    });
    const verdict = await client.checkCompatibility('orders-value', schema);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages).toHaveLength(4);
    expectNoSecret(verdict.messages.join(' '));
    await client.close();
  });

  it('keeps them out of what the logger writes for such an error', async () => {
    const lines: string[] = [];
    const logger = createLogger((level, message, meta: LogMeta) =>
      lines.push(JSON.stringify({ level, message, ...meta })),
    );
    const client = registry();
    answer = (request) => ({ status: 400, body: JSON.stringify({ message: echoes(request).join(' | ') }) });
    const error = await failure(client.getSchemaById(99));
    logger.error('Record dead-lettered.', { error });
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      error: {
        name: 'RegistryRequestError',
        code: 'CASCADE_REGISTRY_REQUEST',
        status: 400,
        retriable: false,
      },
    });
    expectNoSecret(lines[0] ?? '');
    expectNoSecret(JSON.stringify(serializeError(error)));
    await client.close();
  });
});

describe('registry responses', () => {
  it('redact the message of an error body, a non-JSON body and compatibility messages', () => {
    const echo = `header Authorization: Basic ${basic}`;
    expect(errorBody({ error_code: 40101, message: echo })).toEqual({
      code: 40101,
      message: 'header Authorization: [redacted]',
    });
    expect(parseJson(`<h1>401</h1> ${echo}`)).toEqual({
      message: '<h1>401</h1> header Authorization: [redacted]',
    });
    expect(compatibilityMessages({ messages: [echo, { detail: `Bearer ${token}` }] })).toEqual([
      'header Authorization: [redacted]',
      '{"detail":"Bearer [redacted]"}',
    ]);
  });

  it('cut a huge registry message after redacting it', () => {
    const { message } = errorBody({
      message: `${'x'.repeat(1_970)} https://svc:${password}@registry/x ${'y'.repeat(50_000)}`,
    });
    expect(message.length).toBeLessThanOrEqual(2_001);
    expect(message).not.toContain(password);
    expect(message).toContain('https://[redacted]@');
  });
});
