// A TCC participant over real HTTP on loopback: the wire contract of protocol.ts — try, confirm,
// cancel, duplicates, empty rollback, hanging try, expiry — and what malformed requests get.
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BusinessFailure,
  createTccGuard,
  memoryGuardStore,
  reservationUri,
  type TccContext,
  type TccHttpHandler,
  tccHeaders,
  tccHttpHandler,
  tccMediaType,
} from '@cascade/saga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/kafka.js';

const clock = { now: 1_700_000_000_000 };
const log: string[] = [];
const guard = createTccGuard({ store: memoryGuardStore(), clock: () => clock.now });
let handler: TccHttpHandler;
let server: Server;
let base: string;

const entry = (phase: string, payload: unknown, context: TccContext) =>
  `${phase} ${context.transaction}/${context.branch} ${JSON.stringify(payload)} ${context.cause}`;

beforeAll(async () => {
  handler = tccHttpHandler(
    {
      try: (payload, context) => {
        const { amount } = payload as { amount: number };
        if (amount > 1_000) throw new BusinessFailure('CardDeclined', 'over the limit', { limit: 1_000 });
        if (amount === 13) throw new Error('the card network is down');
        log.push(entry('try', payload, context));
        return { holdId: `h-${context.transaction}`, ttl: context.reservationTtlMs };
      },
      confirm: (payload, context) => {
        log.push(entry('confirm', payload, context));
      },
      cancel: (payload, context) => {
        log.push(entry('cancel', payload, context));
      },
    },
    { guard, basePath: '/payments/authorize', defaultTtlMs: 60_000, maxBodyBytes: 1_024 },
  );
  server = createServer((request, response) =>
    handler.middleware(request, response, () => {
      response.writeHead(418).end();
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payments/authorize`;
});

afterAll(async () => {
  await handler?.close();
  server?.close();
});

function tryHeaders(transaction: string, branch = 'authorize', ttlMs?: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    [tccHeaders.transaction]: transaction,
    [tccHeaders.branch]: branch,
    [tccHeaders.idempotencyKey]: `${transaction}/${branch}/invoke`,
    ...(ttlMs === undefined ? {} : { [tccHeaders.reservationTtl]: String(ttlMs) }),
  };
}

const post = (transaction: string, body: unknown = { amount: 120 }, ttlMs?: number) =>
  fetch(base, {
    method: 'POST',
    headers: tryHeaders(transaction, 'authorize', ttlMs),
    body: JSON.stringify(body),
  });
const confirm = (uri: string) =>
  fetch(uri, { method: 'PUT', headers: { 'content-type': tccMediaType }, body: '{"capture":true}' });
const cancel = (uri: string) => fetch(uri, { method: 'DELETE' });
const ofTransaction = (transaction: string) => log.filter((line) => line.includes(` ${transaction}/`));

describe('a TCC participant over HTTP', () => {
  it('tries with a reservation link and confirms it, once, answering duplicates the same', async () => {
    const tx = uniqueName('happy');
    const tried = await post(tx, { amount: 120 }, 30_000);
    expect(tried.status).toBe(201);
    const uri = reservationUri(base, tx, 'authorize');
    expect(tried.headers.get('location')).toBe(uri);
    const body = await tried.json();
    expect(body).toEqual({
      participantLink: { uri, expires: new Date(clock.now + 30_000).toISOString() },
      result: { holdId: `h-${tx}`, ttl: 30_000 },
    });

    const duplicate = await post(tx, { amount: 120 }, 30_000);
    expect(duplicate.status).toBe(200);
    expect(duplicate.headers.get('location')).toBe(uri);
    expect(await duplicate.json()).toEqual(body);

    expect((await confirm(uri)).status).toBe(204);
    expect((await confirm(uri)).status).toBe(204);
    expect(ofTransaction(tx)).toEqual([
      `try ${tx}/authorize {"amount":120} call`,
      `confirm ${tx}/authorize {"capture":true} call`,
    ]);
  });

  it('cancels once, answers a duplicate cancel, and 409s a cancel after a confirm', async () => {
    const tx = uniqueName('cancel');
    await post(tx);
    const uri = reservationUri(base, tx, 'authorize');
    expect((await cancel(uri)).status).toBe(204);
    expect((await cancel(uri)).status).toBe(204);
    // DELETE has no body: the cancel gets the try's payload.
    expect(ofTransaction(tx)).toEqual([
      `try ${tx}/authorize {"amount":120} call`,
      `cancel ${tx}/authorize {"amount":120} call`,
    ]);
    const confirmed = uniqueName('confirmed');
    await post(confirmed);
    await confirm(reservationUri(base, confirmed, 'authorize'));
    const late = await cancel(reservationUri(base, confirmed, 'authorize'));
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ type: 'AlreadyConfirmed' });
  });

  it('answers an empty rollback on the conventional URI and refuses the hanging try with 409', async () => {
    const tx = `${uniqueName('hanging')}/with slash`;
    const uri = reservationUri(base, tx, 'authorize');
    expect(uri).toContain('%2Fwith%20slash');
    expect((await cancel(uri)).status).toBe(204);
    const hanging = await post(tx);
    expect(hanging.status).toBe(409);
    expect(await hanging.json()).toEqual({
      type: 'TryAfterCancel',
      message: `The try of ${tx}/authorize came after its cancel; refused.`,
    });
    expect((await confirm(uri)).status).toBe(410);
    expect(ofTransaction(tx)).toEqual([]);
  });

  it('answers 410 to a confirm after the reservation lapsed, and runs the cancel', async () => {
    const tx = uniqueName('lapsed');
    await post(tx, { amount: 50 }, 1_000);
    clock.now += 1_000;
    const late = await confirm(reservationUri(base, tx, 'authorize'));
    expect(late.status).toBe(410);
    expect(await late.json()).toMatchObject({ type: 'ReservationCancelled' });
    expect(ofTransaction(tx)).toEqual([
      `try ${tx}/authorize {"amount":50} call`,
      `cancel ${tx}/authorize {"amount":50} expiry`,
    ]);
  });

  it('sweeps lapsed reservations on its timer', async () => {
    const sweeping = tccHttpHandler(
      {
        try: () => ({}),
        confirm: () => {},
        cancel: (_payload, context) => log.push(`swept ${context.transaction}`),
      },
      { guard, basePath: '/sweeping', sweepIntervalMs: 20, defaultTtlMs: 1_000 },
    );
    try {
      const tx = uniqueName('swept');
      await guard.try({ transaction: tx, branch: 'b' }, async () => ({}), {
        resource: '/sweeping',
        payload: {},
        expiresAt: clock.now + 1_000,
        cancel: async () => {},
      });
      clock.now += 1_000;
      await waitFor(
        () => log.includes(`swept ${tx}`),
        () => `the sweep cancelling ${tx}`,
      );
    } finally {
      await sweeping.close();
    }
  });

  it('answers 404 to a confirm of a reservation never tried', async () => {
    const response = await confirm(reservationUri(base, uniqueName('never'), 'authorize'));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'NotTried' });
  });

  it('answers a business refusal with 409 and a failure with 500, without a stack trace', async () => {
    const declined = await post(uniqueName('declined'), { amount: 5_000 });
    expect(declined.status).toBe(409);
    expect(await declined.json()).toEqual({
      type: 'CardDeclined',
      message: 'over the limit',
      details: { limit: 1_000 },
    });
    const failed = await post(uniqueName('failed'), { amount: 13 });
    expect(failed.status).toBe(500);
    // The error's class name only: its message stays in the log (test/tcc/http-fuzz.test.ts).
    expect(await failed.json()).toEqual({
      type: 'Error',
      message: expect.stringMatching(
        /^The participant could not handle the request; its log has the error under errorId [0-9a-f-]{36}\.$/,
      ),
    });
  });

  it('rejects malformed requests with typed errors', async () => {
    const tx = uniqueName('malformed');
    const noHeaders = await fetch(base, { method: 'POST', body: '{}' });
    expect(noHeaders.status).toBe(400);
    expect(await noHeaders.json()).toEqual({
      type: 'MissingHeader',
      message: 'The request has no cascade-transaction header.',
    });
    const notJson = await fetch(base, { method: 'POST', headers: tryHeaders(tx), body: '{"amount":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ type: 'MalformedBody' });
    const badTtl = await fetch(base, {
      method: 'POST',
      headers: tryHeaders(tx, 'authorize', -5),
      body: '{}',
    });
    expect(badTtl.status).toBe(400);
    expect(await badTtl.json()).toMatchObject({ type: 'InvalidHeader' });
    const tooBig = await fetch(base, {
      method: 'POST',
      headers: tryHeaders(tx),
      body: JSON.stringify({ amount: 1, note: 'x'.repeat(2_048) }),
    });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ type: 'BodyTooLarge' });

    // Streamed without a length: cut off once past the limit.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(base, { method: 'POST', headers: tryHeaders(tx) }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      for (let i = 0; i < 4; i += 1) request.write('x'.repeat(512));
      request.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ type: 'BodyTooLarge' });

    const getBase = await fetch(base);
    expect(getBase.status).toBe(405);
    expect(getBase.headers.get('allow')).toBe('POST');
    const patch = await fetch(`${base}/t/b`, { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('PUT, DELETE');
    const deep = await fetch(`${base}/t/b/extra`, { method: 'PUT' });
    expect(deep.status).toBe(404);
    expect(await deep.json()).toMatchObject({ type: 'NotFound' });
    const badEncoding = await fetch(`${base}/%E0%A4%A/b`, { method: 'DELETE' });
    expect(badEncoding.status).toBe(400);
    // Outside the base path: the middleware hands the request on.
    expect((await fetch(base.replace('/payments/authorize', '/elsewhere'))).status).toBe(418);
    expect(ofTransaction(tx)).toEqual([]);
  });

  it('answers 404 outside its base path when used as a plain request listener', async () => {
    const plain = createServer(handler);
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/other`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ type: 'NotFound' });
    } finally {
      plain.close();
    }
  });
});
