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
 * - Bad requests: `400` (missing header, body not JSON, bad path), `413` (body too big), `404`
 *   (unknown path), `405` (wrong method, with `Allow`). Other failures: `500` with the error's
 *   type and message (never a stack trace). Every error body is `{ type, message, details? }`.
 *
 * @example
 * ```ts
 * const handler = tccHttpHandler(authorize, { guard, basePath: '/payments/authorize', sweepIntervalMs: 10_000 });
 * http.createServer(handler).listen(8080);
 * ```
 * @module
 */

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type Logger, redactUrl, safeLogger } from '@cascade/core';
import { BusinessFailure } from '../participant.js';
import { TccFailureTypes } from './guard.js';
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
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed !== 'string') return parsed;
  let text: string;
  if (parsed !== undefined) {
    text = Buffer.isBuffer(parsed) ? parsed.toString('utf8') : parsed;
  } else {
    const length = Number(header(request, 'content-length') ?? 0);
    // Made only when needed: an Error captures a stack, which costs on every request.
    const tooBig = () =>
      new HttpError(413, 'BodyTooLarge', `The request body exceeds ${maxBytes} bytes.`, {
        connection: 'close',
      });
    if (length > maxBytes) throw tooBig();
    // Read by events, not async iteration: leaving the loop early would destroy the socket before
    // the 413 is sent. Past the limit the rest of the body is drained and dropped.
    const chunks = await new Promise<Buffer[]>((resolve, reject) => {
      const read: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        if (size > maxBytes) return;
        size += chunk.length;
        if (size > maxBytes) reject(tooBig());
        else read.push(chunk);
      });
      request.once('end', () => resolve(read));
      request.once('error', reject);
    });
    text = Buffer.concat(chunks).toString('utf8');
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'MalformedBody', 'The request body is not JSON.');
  }
}

/** Serves a resource's TCC handlers over HTTP. See the module documentation. */
export function tccHttpHandler<Db>(
  handlers: TccHandlers<Db>,
  options: TccHttpHandlerOptions<Db>,
): TccHttpHandler {
  const logger = safeLogger(options.logger).child({ resource: options.basePath });
  const basePath = options.basePath.replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const resource = guardedResource(handlers, options, options.resource ?? (basePath === '' ? '/' : basePath));

  const route = (request: IncomingMessage): { path: readonly string[] } | undefined => {
    const pathname = new URL(request.url ?? '/', 'http://participant').pathname.replace(/\/+$/, '');
    if (pathname === basePath) return { path: [] };
    if (!pathname.startsWith(`${basePath}/`)) return undefined;
    return { path: pathname.slice(basePath.length + 1).split('/') };
  };

  const publicUrl = (request: IncomingMessage) => {
    if (options.publicUrl !== undefined) return options.publicUrl;
    const secure = (request.socket as { encrypted?: boolean }).encrypted === true;
    return `${secure ? 'https' : 'http'}://${header(request, 'host') ?? 'localhost'}${basePath}`;
  };

  const tryPhase = async (request: IncomingMessage, response: ServerResponse) => {
    const transaction = requiredHeader(request, tccHeaders.transaction);
    const branch = requiredHeader(request, tccHeaders.branch);
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
    path: readonly string[],
  ): Promise<void> => {
    const [first, second] = path;
    if (path.length !== 2 || first === '' || second === '' || first === undefined || second === undefined) {
      throw new HttpError(404, 'NotFound', 'No such reservation path.');
    }
    let transaction: string;
    let branch: string;
    try {
      transaction = decodeURIComponent(first);
      branch = decodeURIComponent(second);
    } catch {
      throw new HttpError(400, 'MalformedPath', 'The reservation path is not URI-encoded.');
    }
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

  const fail = (request: IncomingMessage, response: ServerResponse, error: unknown) => {
    if (error instanceof HttpError) {
      const body: TccErrorBody = { type: error.type, message: error.message };
      send(response, error.status, body, error.headers);
      // Discard what is left of a body we did not read.
      if (!request.readableEnded) request.resume();
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
    const type = error instanceof Error ? error.name : 'Error';
    const message = redactUrl(error instanceof Error ? error.message : String(error));
    logger.error('A TCC request failed.', { method: request.method, url: request.url, error });
    send(response, 500, { type, message } satisfies TccErrorBody);
  };

  const handle = async (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ) => {
    const match = route(request);
    if (match === undefined) {
      if (next !== undefined) return next();
      return fail(request, response, new HttpError(404, 'NotFound', 'No TCC resource at this path.'));
    }
    try {
      if (match.path.length === 0) {
        if (request.method !== 'POST') {
          throw new HttpError(405, 'MethodNotAllowed', `${request.method} is not allowed; try is POST.`, {
            allow: 'POST',
          });
        }
        await tryPhase(request, response);
      } else {
        await reservationPhase(request, response, match.path);
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
  const listener: RequestListener = (request, response) => {
    void handle(request, response);
  };
  return Object.assign(listener, {
    middleware(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) {
      void handle(request, response, next);
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
