/**
 * The coordinator's side of TCC over REST: a participant reached over HTTP. Try is a `POST` to
 * the participant's URL, answered with a reservation URI and its expiry; confirm is a `PUT` on
 * that URI, cancel a `DELETE` (see ./protocol.ts). Every call carries the idempotency key of its
 * phase, so a repeated call (a retry, or a coordinator that died before recording the answer)
 * has one effect.
 *
 * A call never throws: it answers with the reply event the coordinator records, and its
 * classification is the point of this module —
 * - try: `201`/`200` with a well-formed link is a success; `409`/`422` a refusal (the saga
 *   compensates); `408`/`425`/`429`/`5xx`, a timeout or a network error may be retried; a
 *   malformed `2xx` or another `4xx` may not (the try's outcome is then unknown, so it is
 *   cancelled, at the conventional URI when the answer gave none);
 * - confirm: `2xx` is confirmed; `404`/`410` mean the participant has already cancelled the
 *   reservation (it expired): a heuristic outcome, answered as a refusal, never ignored;
 * - cancel: `2xx`, `404`, `405` and `410` all mean cancelled.
 *
 * Headers given in the options (credentials) are sent, never logged nor put in an error.
 * @module
 */

import { ConfigError, redactUrl, rejectUnknownKeys } from '@cascade/core';
import type { InboxEvent } from '../codec.js';
import type { Phase, StepError } from '../state.js';
import { httpTccParticipantOptionKeys } from './options.js';
import { reservationUri, tccHeaders, tccMediaType } from './protocol.js';

/** Options of {@link httpTccParticipant}. */
export interface HttpTccParticipantOptions {
  /** Where tries are POSTed; a Cascade participant's reservations live under it. */
  readonly url: string;
  /** How long one call may take. @default 10000 */
  readonly timeoutMs?: number;
  /** Extra headers for every call (credentials, say): never logged. */
  readonly headers?:
    | Readonly<Record<string, string>>
    | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>);
  /**
   * Where a reservation lives when the try's answer never came (so it can still be cancelled).
   * @default `<url>/<transaction>/<branch>`, the convention of Cascade participants
   */
  readonly reservationUri?: (transaction: string, branch: string) => string;
  /** The largest answer body read. @default 1 MiB */
  readonly maxResponseBytes?: number;
}

/** One call: a phase of a TCC step. */
export interface HttpTccCall {
  readonly sagaId: string;
  readonly step: string;
  readonly phase: Phase;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly payload: unknown;
  readonly reservationTtlMs?: number;
  readonly reservationUri?: string;
}

/** The reply a call ends in. */
export type HttpTccReply = Extract<InboxEvent, { type: 'reply' }>;

/** A participant reached over HTTP. Give it to the coordinator's `httpParticipants`. */
export interface HttpTccParticipant {
  readonly url: string;
  /** Makes one call and classifies its answer. Never throws. */
  call(call: HttpTccCall, signal?: AbortSignal): Promise<HttpTccReply>;
}

const retriableStatuses: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

class Answer {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Headers,
  ) {}

  json(): unknown {
    return this.body === '' ? undefined : JSON.parse(this.body);
  }
}

async function readCapped(response: Response, limit: number): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > limit) {
    await response.body?.cancel();
    throw new RangeError(`the answer has ${length} bytes, more than ${limit}`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > limit) throw new RangeError(`the answer has more than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function errorBody(answer: Answer): { type?: string; message?: string; details?: unknown } {
  try {
    const body = answer.json();
    if (typeof body === 'object' && body !== null) {
      const { type, message, details } = body as Record<string, unknown>;
      return {
        ...(typeof type === 'string' && type !== '' ? { type } : {}),
        ...(typeof message === 'string' ? { message } : {}),
        ...(details === undefined ? {} : { details }),
      };
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return {};
}

function parseExpiry(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value !== 'string') return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

/**
 * Creates an HTTP TCC participant for the coordinator.
 * @throws {ConfigError} for a URL that is not http(s), or a bad timeout.
 */
export function httpTccParticipant(options: HttpTccParticipantOptions): HttpTccParticipant {
  rejectUnknownKeys('httpTccParticipant', options, httpTccParticipantOptionKeys);
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new ConfigError('httpTccParticipant.url', `"${redactUrl(options.url)}" is not a URL.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ConfigError('httpTccParticipant.url', `expected an http(s) URL, got ${base.protocol}`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  for (const [field, value] of [
    ['timeoutMs', timeoutMs],
    ['maxResponseBytes', maxResponseBytes],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new ConfigError(`httpTccParticipant.${field}`, `expected a positive integer, got ${value}.`);
    }
  }
  const url = options.url;
  const conventional =
    options.reservationUri ?? ((tx: string, branch: string) => reservationUri(url, tx, branch));

  const request = async (
    method: string,
    target: string,
    call: HttpTccCall,
    body: unknown,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Answer> => {
    const extra = typeof options.headers === 'function' ? await options.headers() : (options.headers ?? {});
    const headers: Record<string, string> = {
      ...extra,
      accept: 'application/json',
      [tccHeaders.idempotencyKey]: call.idempotencyKey,
      [tccHeaders.transaction]: call.sagaId,
      [tccHeaders.branch]: call.step,
      ...(call.reservationTtlMs === undefined
        ? {}
        : { [tccHeaders.reservationTtl]: String(call.reservationTtlMs) }),
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
    };
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(target, {
      method,
      headers,
      ...(contentType === undefined ? {} : { body: JSON.stringify(body ?? null) }),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      redirect: 'error',
    });
    return new Answer(response.status, await readCapped(response, maxResponseBytes), response.headers);
  };

  const reply = (call: HttpTccCall) =>
    ({ type: 'reply', step: call.step, phase: call.phase, attempt: call.attempt }) as const;
  const failure = (call: HttpTccCall, error: StepError): HttpTccReply => ({
    ...reply(call),
    outcome: 'error',
    error,
  });
  const httpError = (call: HttpTccCall, method: string, target: string, answer: Answer): HttpTccReply => {
    const body = errorBody(answer);
    const retriable = retriableStatuses.has(answer.status);
    const delay = retriable ? retryAfterMs(answer.headers) : undefined;
    return failure(call, {
      type: body.type ?? `Http${answer.status}`,
      message: `${method} ${redactUrl(target)} answered ${answer.status}${body.message ? `: ${body.message}` : ''}`,
      ...(retriable ? {} : { nonRetryable: true }),
      ...(delay === undefined ? {} : { nextRetryDelayMs: delay }),
    });
  };

  const tryPhase = async (call: HttpTccCall, signal?: AbortSignal): Promise<HttpTccReply> => {
    const answer = await request('POST', url, call, call.payload, 'application/json', signal);
    if (answer.status === 409 || answer.status === 422) {
      const body = errorBody(answer);
      return {
        ...reply(call),
        outcome: 'business-failure',
        error: {
          type: body.type ?? 'Refused',
          message: body.message ?? `The participant refused the try (${answer.status}).`,
          ...(body.details === undefined ? {} : { details: body.details }),
        },
      };
    }
    if (answer.status !== 200 && answer.status !== 201) return httpError(call, 'POST', url, answer);
    const malformed = (why: string): HttpTccReply =>
      failure(call, {
        type: 'MalformedResponse',
        message: `POST ${redactUrl(url)} answered ${answer.status} ${why}`,
        nonRetryable: true,
      });
    let body: unknown;
    try {
      body = answer.json();
    } catch {
      return malformed('with a body that is not JSON');
    }
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const link = (
      typeof fields.participantLink === 'object' && fields.participantLink !== null
        ? fields.participantLink
        : fields
    ) as Record<string, unknown>;
    const location = typeof link.uri === 'string' ? link.uri : answer.headers.get('location');
    if (location === null || location === '') return malformed('without a reservation URI');
    let uri: string;
    try {
      uri = new URL(location, url).toString();
    } catch {
      return malformed('with a reservation URI that is not a URL');
    }
    const expiresAt = parseExpiry(link.expires);
    if (expiresAt === undefined) return malformed('without a valid expiry ("expires")');
    return {
      ...reply(call),
      outcome: 'success',
      result: fields.result ?? null,
      expiresAt,
      reservationUri: uri,
    };
  };

  const confirmPhase = async (call: HttpTccCall, signal?: AbortSignal): Promise<HttpTccReply> => {
    const target = call.reservationUri ?? conventional(call.sagaId, call.step);
    const answer = await request('PUT', target, call, call.payload, tccMediaType, signal);
    if (answer.status >= 200 && answer.status < 300)
      return { ...reply(call), outcome: 'success', result: null };
    if (answer.status === 404 || answer.status === 410) {
      return {
        ...reply(call),
        outcome: 'business-failure',
        error: {
          type: 'ReservationCancelled',
          message: `PUT ${redactUrl(target)} answered ${answer.status}: the participant had cancelled the reservation (it expired).`,
        },
      };
    }
    return httpError(call, 'PUT', target, answer);
  };

  const cancelPhase = async (call: HttpTccCall, signal?: AbortSignal): Promise<HttpTccReply> => {
    const target = call.reservationUri ?? conventional(call.sagaId, call.step);
    const answer = await request('DELETE', target, call, undefined, undefined, signal);
    if ((answer.status >= 200 && answer.status < 300) || [404, 405, 410].includes(answer.status)) {
      return { ...reply(call), outcome: 'success', result: null };
    }
    return httpError(call, 'DELETE', target, answer);
  };

  return {
    url,
    async call(call, signal) {
      try {
        if (call.phase === 'invoke') return await tryPhase(call, signal);
        if (call.phase === 'confirm') return await confirmPhase(call, signal);
        return await cancelPhase(call, signal);
      } catch (error) {
        const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
        const tooBig = error instanceof RangeError;
        const cause = error instanceof Error ? (error.cause ?? error) : error;
        const detail = cause instanceof Error ? cause.message : String(cause);
        return failure(call, {
          type: timedOut ? 'Timeout' : tooBig ? 'MalformedResponse' : 'NetworkError',
          message: redactUrl(
            timedOut
              ? `The ${call.phase} call to ${url} took longer than ${timeoutMs} ms.`
              : `The ${call.phase} call to ${url} failed: ${detail}`,
          ),
          ...(tooBig ? { nonRetryable: true } : {}),
        });
      }
    },
  };
}
