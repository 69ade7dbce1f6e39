/**
 * A TCC participant over HTTP (the Try-Confirm/Cancel REST model, see `protocol.ts`): a node:http
 * request listener, usable as is, from express (`app.use(handler.middleware)`) or from fastify
 * (`reply.hijack(); handler(request.raw, reply.raw)`).
 *
 * - `POST <basePath>` tries: `201` with `Location` and `{ participantLink: { uri, expires }, result }`
 *   (`200` with the same reservation for a duplicate); `409` for a business refusal or a try after
 *   its cancel.
 * - `PUT <basePath>/<transaction>/<branch>` confirms: `204`; `410` when cancelled or lapsed (the
 *   cancel ran); `404` when never tried; `503` while an intent-first try still runs.
 * - `DELETE <basePath>/<transaction>/<branch>` cancels: `204`, also for a duplicate and for an
 *   empty rollback (no try yet); `409` after the confirm.
 * - Bad requests: `400` (a request target that cannot be parsed, a missing header, a body not
 *   JSON, a bad path, a key or body a guard store cannot hold: see ./http-request.ts), `413` (body
 *   too big), `404` (unknown path), `405` (wrong method, with `Allow`). A `400` is the client's
 *   mistake: the coordinator does not retry it. Other failures: `500` with the error's class name
 *   and generic words with an `errorId`; the error itself (a database's message, say) goes only to
 *   the logger, under that `errorId`. Every error body is `{ type, message, details? }`.
 * - No request crashes the process: every rejection is caught, and a connection that closes
 *   mid-body ends the read.
 *
 * @example
 * ```ts
 * const handler = tccHttpHandler(authorize, { guard, basePath: '/payments/authorize', sweepIntervalMs: 10_000 });
 * http.createServer(handler).listen(8080);
 * ```
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type Logger, rejectUnknownKeys, safeLogger } from '@cascade/core';
import { BusinessFailure } from '../participant.js';
import { TccFailureTypes } from './guard.js';
import { bodyProblem, keyProblem, matchTarget } from './http-request.js';
import { tccHttpHandlerOptionKeys } from './options.js';
import { guardedResource, type TccHandlers, type TccParticipantOptions } from './participant.js';
import { reservationUri, type TccErrorBody, type TryResponseBody, tccHeaders } from './protocol.js';

/** Options of {@link tccHttpHandler}. */
export interface TccHttpHandlerOptions<Db> extends TccParticipantOptions<Db> {
  /** The path the resource is served at, e.g. `/payments/authorize` (`''` for the root). */
  readonly basePath: string;
  /** The URL clients reach `basePath` at, for reservation URIs. @default `http://<Host header><basePath>` */
  readonly publicUrl?: string;
  /** Run the guard's expiry sweep this often (an unref'd timer; `close()` stops it). @default no sweep */
  readonly sweepIntervalMs?: number;
  /** The largest request body accepted. @default 1_048_576 (1 MiB) */
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
}

/** A TCC HTTP participant: a request listener with a middleware form, a sweep and a `close()`. */
export interface TccHttpHandler extends AsyncDisposable {
  /** Handles a request; a path outside `basePath` is answered `404`. */
  (request: IncomingMessage, response: ServerResponse): void;
  /** Express/connect style: a path outside `basePath` goes to `next()`. */
  middleware(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void;
  /** Cancels the lapsed reservations of the guard's registered resources now; returns how many. */
  sweep(): Promise<number>;
  /** Stops the sweep and unregisters the resource from the guard. Idempotent. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const json = (body: unknown) => JSON.stringify(body);

function send(
  response: ServerResponse,
  status: number,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.headersSent) return;
  const text = body === undefined ? undefined : json(body);
  response.writeHead(status, {
    ...headers,
    ...(text === undefined
      ? {}
      : {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(text)),
        }),
  });
  response.end(text);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function requiredHeader(request: IncomingMessage, name: string): string {
  const value = header(request, name);
  if (value === undefined) throw new HttpError(400, 'MissingHeader', `The request has no ${name} header.`);
  return value;
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const parsed = (request as { body?: unknown }).body;
  // What a framework's body parser made is held to the same rules as what is parsed here.
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed !== 'string')
    return checkedBody(parsed);
  let text: string;
  if (parsed !== undefined) {
    text = Buffer.isBuffer(parsed) ? parsed.toString('utf8') : parsed;
  } else if (request.readableEnded) {
    // Read already (by a framework that kept nothing of it): there is no body to wait for.
    return undefined;
  } else {
    const length = Number(header(request, 'content-length') ?? 0);
    // Made only when needed: an Error captures a stack, which costs on every request.
    const tooBig = () =>
      new HttpError(413, 'BodyTooLarge', `The request body exceeds ${maxBytes} bytes.`, {
        connection: 'close',
      });
    if (length > maxBytes) throw tooBig();
    // Read by events, not async iteration: leaving the loop early would destroy the socket before
    // the 413 is sent. Past the limit the rest of the body is drained and dropped. A connection
    // that closes (or fails) before the end rejects, so nothing waits on it forever.
    const chunks = await new Promise<Buffer[]>((resolve, reject) => {
      const read: Buffer[] = [];
      let size = 0;
      const cut = () =>
        reject(new HttpError(400, 'MalformedBody', 'The request body ended early: the connection closed.'));
      request.on('data', (chunk: Buffer) => {
        if (size > maxBytes) return;
        size += chunk.length;
        if (size > maxBytes) reject(tooBig());
        else read.push(chunk);
      });
      request.once('end', () => resolve(read));
      request.once('error', cut);
      request.once('close', cut);
    });
    text = Buffer.concat(chunks).toString('utf8');
  }
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'MalformedBody', 'The request body is not JSON.');
  }
  return checkedBody(body);
}

/** A body every guard store can hold, or a 400 that says why not. */
function checkedBody(body: unknown): unknown {
  const problem = bodyProblem(body);
  if (problem !== undefined) {
    throw new HttpError(
      400,
      'MalformedBody',
      `The request body ${problem}, which a TCC payload cannot hold.`,
    );
  }
  return body;
}

/** A TCC key part from a header, or a 400 that says why it cannot be one. */
function keyHeader(request: IncomingMessage, name: string): string {
  const value = requiredHeader(request, name);
  const problem = keyProblem(value);
  if (problem !== undefined) throw new HttpError(400, 'InvalidHeader', `The ${name} header ${problem}.`);
  return value;
}

/** Serves a resource's TCC handlers over HTTP. See the module documentation. */
export function tccHttpHandler<Db>(
  handlers: TccHandlers<Db>,
  options: TccHttpHandlerOptions<Db>,
): TccHttpHandler {
  rejectUnknownKeys('tccHttpHandler', options, tccHttpHandlerOptionKeys);
  const logger = safeLogger(options.logger).child({ resource: options.basePath });
  const basePath = options.basePath.replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const resource = guardedResource(handlers, options, options.resource ?? (basePath === '' ? '/' : basePath));

  const publicUrl = (request: IncomingMessage) => {
    if (options.publicUrl !== undefined) return options.publicUrl;
    const secure = (request.socket as { encrypted?: boolean }).encrypted === true;
    return `${secure ? 'https' : 'http'}://${header(request, 'host') ?? 'localhost'}${basePath}`;
  };

  const tryPhase = async (request: IncomingMessage, response: ServerResponse) => {
    const transaction = keyHeader(request, tccHeaders.transaction);
    const branch = keyHeader(request, tccHeaders.branch);
    const ttl = header(request, tccHeaders.reservationTtl);
    if (ttl !== undefined && !/^[1-9][0-9]{0,14}$/.test(ttl)) {
      throw new HttpError(400, 'InvalidHeader', `${tccHeaders.reservationTtl} must be a positive integer.`);
    }
    const payload = await readBody(request, maxBodyBytes);
    const outcome = await resource.tryPhase({
      key: { transaction, branch },
      payload,
      idempotencyKey: header(request, tccHeaders.idempotencyKey) ?? `${transaction}/${branch}/invoke`,
      ...(ttl === undefined ? {} : { reservationTtlMs: Number(ttl) }),
    });
    if (outcome.outcome === 'refused') {
      throw new HttpError(
        409,
        TccFailureTypes.TryAfterCancel,
        `The try of ${transaction}/${branch} came after its cancel; refused.`,
      );
    }
    const uri = reservationUri(publicUrl(request), transaction, branch);
    const body: TryResponseBody = {
      participantLink: { uri, expires: new Date(outcome.expiresAt ?? 8.64e15).toISOString() },
      result: outcome.result,
    };
    send(response, outcome.duplicate ? 200 : 201, body, { location: uri });
  };

  const reservationPhase = async (
    request: IncomingMessage,
    response: ServerResponse,
    transaction: string,
    branch: string,
  ): Promise<void> => {
    const phase = request.method === 'PUT' ? 'confirm' : request.method === 'DELETE' ? 'cancel' : undefined;
    if (phase === undefined) {
      throw new HttpError(405, 'MethodNotAllowed', `${request.method} is not allowed on a reservation.`, {
        allow: 'PUT, DELETE',
      });
    }
    const payload = await readBody(request, maxBodyBytes);
    const call = {
      key: { transaction, branch },
      payload,
      idempotencyKey:
        header(request, tccHeaders.idempotencyKey) ??
        `${transaction}/${branch}/${phase === 'confirm' ? 'confirm' : 'compensate'}`,
    };
    const name = `${transaction}/${branch}`;
    if (phase === 'cancel') {
      const outcome = await resource.cancelPhase(call);
      if (outcome.outcome === 'refused') {
        throw new HttpError(409, TccFailureTypes.AlreadyConfirmed, `The reservation ${name} is confirmed.`);
      }
      send(response, 204);
      return;
    }
    const outcome = await resource.confirmPhase(call);
    switch (outcome.outcome) {
      case 'confirmed':
        send(response, 204);
        return;
      case 'cancelled':
        throw new HttpError(
          410,
          TccFailureTypes.ReservationCancelled,
          `The reservation ${name} was ${outcome.expired ? 'cancelled as it lapsed' : 'cancelled'}.`,
        );
      case 'not-tried':
        throw new HttpError(404, TccFailureTypes.NotTried, `No try of ${name} is recorded.`);
      case 'in-progress':
        throw new HttpError(503, TccFailureTypes.TryInProgress, `The try of ${name} is still running.`, {
          'retry-after': '1',
        });
    }
  };

  /** The answer to anything unexpected: generic words, the error itself only in the log. */
  const internalError = (request: IncomingMessage, response: ServerResponse, error: unknown) => {
    const errorId = randomUUID();
    logger.error('A TCC request failed; answered 500.', {
      method: request.method,
      url: request.url,
      errorId,
      error,
    });
    const name = error instanceof Error ? error.name : '';
    send(response, 500, {
      // The class name, for the coordinator's retry policy (nonRetryableErrorTypes); never the
      // message, which may be a database's or a driver's.
      type: /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(name) ? name : 'Error',
      message: `The participant could not handle the request; its log has the error under errorId ${errorId}.`,
    } satisfies TccErrorBody);
  };

  const fail = (request: IncomingMessage, response: ServerResponse, error: unknown) => {
    // Discard what is left of a body we did not read.
    if (!request.readableEnded) request.resume();
    try {
      if (error instanceof HttpError) {
        const body: TccErrorBody = { type: error.type, message: error.message };
        send(response, error.status, body, error.headers);
        return;
      }
      if (error instanceof BusinessFailure) {
        send(response, 409, {
          type: error.type,
          message: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        } satisfies TccErrorBody);
        return;
      }
    } catch (sendError) {
      // A refusal whose details are not JSON, say.
      internalError(request, response, sendError);
      return;
    }
    internalError(request, response, error);
  };

  /** The last resort, for a failure of `fail` itself: log, answer if still possible, else hang up. */
  const failed = (request: IncomingMessage, response: ServerResponse, error: unknown) => {
    logger.error('A TCC request failed while answering it.', {
      method: request.method,
      url: request.url,
      error,
    });
    try {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        response.end(json({ type: 'Error', message: 'The participant could not handle the request.' }));
        return;
      }
    } catch {
      // Fall through to closing the connection.
    }
    response.destroy();
  };

  const handle = async (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ) => {
    try {
      const target = matchTarget(request.url ?? '/', basePath);
      switch (target.kind) {
        case 'invalid':
          throw new HttpError(400, target.type, target.message);
        case 'outside':
          if (next !== undefined) return next();
          throw new HttpError(404, 'NotFound', 'No TCC resource at this path.');
        case 'unknown':
          throw new HttpError(404, 'NotFound', 'No such reservation path.');
        case 'resource':
          if (request.method !== 'POST') {
            throw new HttpError(405, 'MethodNotAllowed', `${request.method} is not allowed; try is POST.`, {
              allow: 'POST',
            });
          }
          return await tryPhase(request, response);
        case 'reservation':
          return await reservationPhase(request, response, target.transaction, target.branch);
      }
    } catch (error) {
      fail(request, response, error);
    }
  };

  let sweeping: Promise<number> | undefined;
  const sweep = () => {
    sweeping ??= options.guard.expireReservations().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer =
    options.sweepIntervalMs === undefined
      ? undefined
      : setInterval(() => {
          sweep().catch((error: unknown) => logger.error('The expiry sweep failed.', { error }));
        }, options.sweepIntervalMs).unref();

  let closed = false;
  // No rejection may escape: an unhandled one ends the process.
  const listener: RequestListener = (request, response) => {
    handle(request, response).catch((error: unknown) => failed(request, response, error));
  };
  return Object.assign(listener, {
    middleware(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) {
      handle(request, response, next).catch((error: unknown) => failed(request, response, error));
    },
    sweep,
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      resource.unregister();
      await sweeping?.catch(() => undefined);
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  }) as TccHttpHandler;
}
