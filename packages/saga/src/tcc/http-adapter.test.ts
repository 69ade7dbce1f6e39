import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@cascade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTccCall, httpTccParticipant } from './http-adapter.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Route = (request: Seen, response: ServerResponse) => void;

let server: Server;
let base: string;
let route: Route = (_request, response) => response.writeHead(500).end();
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      route(entry, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

const call = (phase: HttpTccCall['phase'], extra: Partial<HttpTccCall> = {}): HttpTccCall => ({
  sagaId: 'saga 1',
  step: 'authorize',
  phase,
  attempt: 2,
  idempotencyKey: `saga 1/authorize/${phase}`,
  payload: { amount: 10 },
  ...extra,
});

describe('httpTccParticipant: try', () => {
  it('POSTs the payload with the TCC headers and returns the reservation link and expiry', async () => {
    const expires = '2030-01-01T00:00:00.000Z';
    route = (_request, response) =>
      json(response, 201, {
        participantLink: { uri: `${base}/payments/r-1`, expires },
        result: { id: 'r-1' },
      });
    seen.length = 0;
    const participant = httpTccParticipant({
      url: `${base}/payments`,
      headers: { authorization: 'Bearer s3cret' },
    });
    const reply = await participant.call(call('invoke', { reservationTtlMs: 30_000 }));
    expect(reply).toEqual({
      type: 'reply',
      step: 'authorize',
      phase: 'invoke',
      attempt: 2,
      outcome: 'success',
      result: { id: 'r-1' },
      expiresAt: Date.parse(expires),
      reservationUri: `${base}/payments/r-1`,
    });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/payments',
      body: '{"amount":10}',
      headers: {
        'idempotency-key': 'saga 1/authorize/invoke',
        'cascade-transaction': 'saga 1',
        'cascade-branch': 'authorize',
        'cascade-reservation-ttl-ms': '30000',
        'content-type': 'application/json',
        authorization: 'Bearer s3cret',
      },
    });
  });

  it('takes the reservation URI from Location (relative to the URL) and an epoch-ms expiry', async () => {
    route = (_request, response) =>
      json(response, 200, { expires: 1_900_000_000_000 }, { location: '/payments/r-2' });
    const reply = await httpTccParticipant({ url: `${base}/payments` }).call(call('invoke'));
    expect(reply).toMatchObject({
      outcome: 'success',
      reservationUri: `${base}/payments/r-2`,
      expiresAt: 1_900_000_000_000,
    });
  });

  it('answers a 409 or 422 as a refusal with the body type and message', async () => {
    route = (_request, response) =>
      json(response, 409, { type: 'CardDeclined', message: 'insufficient funds' });
    const reply = await httpTccParticipant({ url: `${base}/payments` }).call(call('invoke'));
    expect(reply).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'CardDeclined', message: 'insufficient funds' },
    });
    route = (_request, response) => response.writeHead(422).end('no');
    expect(await httpTccParticipant({ url: `${base}/payments` }).call(call('invoke'))).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'Refused' },
    });
  });

  it.each([
    ['a body that is not JSON', (response: ServerResponse) => response.writeHead(201).end('<html>')],
    [
      'no reservation URI',
      (response: ServerResponse) => json(response, 201, { expires: '2030-01-01T00:00:00Z' }),
    ],
    ['no expiry', (response: ServerResponse) => json(response, 201, { participantLink: { uri: '/x' } })],
    [
      'an expiry that is no date',
      (response: ServerResponse) => json(response, 201, { uri: '/x', expires: 'soon' }),
    ],
  ])('refuses a success with %s as a malformed, non-retryable answer', async (_why, answer) => {
    route = (_request, response) => answer(response);
    const reply = await httpTccParticipant({ url: `${base}/payments` }).call(call('invoke'));
    expect(reply).toMatchObject({
      outcome: 'error',
      error: { type: 'MalformedResponse', nonRetryable: true },
    });
  });

  it('lets 5xx, 408 and 429 be retried (honouring Retry-After) and refuses to retry other 4xx', async () => {
    route = (_request, response) => response.writeHead(503, { 'retry-after': '2' }).end();
    expect(await httpTccParticipant({ url: `${base}/p` }).call(call('invoke'))).toMatchObject({
      outcome: 'error',
      error: { type: 'Http503', nextRetryDelayMs: 2_000 },
    });
    route = (_request, response) => json(response, 400, { type: 'BadAmount', message: 'negative' });
    const bad = await httpTccParticipant({ url: `${base}/p` }).call(call('invoke'));
    expect(bad).toMatchObject({ outcome: 'error', error: { type: 'BadAmount', nonRetryable: true } });
    expect(bad.outcome === 'error' && bad.error.message).toMatch(/POST .*\/p answered 400: negative/);
  });

  it('fails a call that takes longer than its timeout, retriably', async () => {
    route = () => undefined; // never answers
    const reply = await httpTccParticipant({ url: `${base}/slow`, timeoutMs: 100 }).call(call('invoke'));
    expect(reply).toMatchObject({ outcome: 'error', error: { type: 'Timeout' } });
    expect(reply.outcome === 'error' && reply.error.nonRetryable).toBeFalsy();
  });

  it('fails on a refused connection without leaking credentials from the URL or headers', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const reply = await httpTccParticipant({
      url: `http://user:hunter2@127.0.0.1:${port}/p`,
      headers: () => ({ authorization: 'Bearer s3cret' }),
    }).call(call('invoke'));
    expect(reply).toMatchObject({ outcome: 'error', error: { type: 'NetworkError' } });
    expect(JSON.stringify(reply)).not.toMatch(/hunter2|s3cret/);
  });

  it('refuses an answer larger than maxResponseBytes', async () => {
    route = (_request, response) => response.writeHead(201).end('x'.repeat(5_000));
    const reply = await httpTccParticipant({ url: `${base}/p`, maxResponseBytes: 1_000 }).call(
      call('invoke'),
    );
    expect(reply).toMatchObject({
      outcome: 'error',
      error: { type: 'MalformedResponse', nonRetryable: true },
    });
  });
});

describe('httpTccParticipant: confirm and cancel', () => {
  it('PUTs a confirm on the reservation URI as application/tcc+json', async () => {
    route = (_request, response) => response.writeHead(204).end();
    seen.length = 0;
    const reply = await httpTccParticipant({ url: `${base}/p` }).call(
      call('confirm', { reservationUri: `${base}/p/r-1` }),
    );
    expect(reply).toMatchObject({ outcome: 'success', phase: 'confirm' });
    expect(seen[0]).toMatchObject({
      method: 'PUT',
      url: '/p/r-1',
      headers: { 'content-type': 'application/tcc+json', 'idempotency-key': 'saga 1/authorize/confirm' },
    });
  });

  it.each([404, 410])(
    'reports a %i on confirm as the participant having cancelled (heuristic)',
    async (status) => {
      route = (_request, response) => response.writeHead(status).end();
      const reply = await httpTccParticipant({ url: `${base}/p` }).call(
        call('confirm', { reservationUri: `${base}/p/r` }),
      );
      expect(reply).toMatchObject({ outcome: 'business-failure', error: { type: 'ReservationCancelled' } });
    },
  );

  it('retries a confirm answered 500', async () => {
    route = (_request, response) => response.writeHead(500).end();
    const reply = await httpTccParticipant({ url: `${base}/p` }).call(
      call('confirm', { reservationUri: `${base}/p/r` }),
    );
    expect(reply).toMatchObject({ outcome: 'error', error: { type: 'Http500' } });
    expect(reply.outcome === 'error' && reply.error.nonRetryable).toBeFalsy();
  });

  it('does not retry a confirm or cancel answered 400, as the participant answers input it cannot take', async () => {
    const message =
      'The transaction in the reservation path holds U+0000 (NUL), which a TCC key cannot hold.';
    route = (_request, response) => json(response, 400, { type: 'MalformedPath', message });
    for (const phase of ['confirm', 'compensate'] as const) {
      const reply = await httpTccParticipant({ url: `${base}/p` }).call(
        call(phase, { reservationUri: `${base}/p/r` }),
      );
      expect(reply).toMatchObject({ outcome: 'error', error: { type: 'MalformedPath', nonRetryable: true } });
      expect(reply.outcome === 'error' && reply.error.message).toMatch(/answered 400: The transaction/);
    }
  });

  it('DELETEs the conventional URI when the try never answered, and takes 404/405/410 as cancelled', async () => {
    seen.length = 0;
    for (const status of [204, 404, 405, 410]) {
      route = (_request, response) => response.writeHead(status).end();
      expect(await httpTccParticipant({ url: `${base}/p/` }).call(call('compensate'))).toMatchObject({
        outcome: 'success',
      });
    }
    expect(seen.map((entry) => `${entry.method} ${entry.url}`)).toEqual(
      Array(4).fill('DELETE /p/saga%201/authorize'),
    );
    route = (_request, response) => json(response, 409, { type: 'AlreadyConfirmed', message: 'too late' });
    expect(await httpTccParticipant({ url: `${base}/p` }).call(call('compensate'))).toMatchObject({
      outcome: 'error',
      error: { type: 'AlreadyConfirmed', nonRetryable: true },
    });
  });
});

describe('httpTccParticipant: configuration', () => {
  it('refuses a URL that is not http(s), and bad limits', () => {
    expect(() => httpTccParticipant({ url: 'ftp://x/y' })).toThrow(ConfigError);
    expect(() => httpTccParticipant({ url: 'not a url' })).toThrow(ConfigError);
    expect(() => httpTccParticipant({ url: 'http://x', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
