/**
 * Sending one registry request: auth headers, keep-alive agent, TLS, diagnostics channel,
 * retries with backoff on outages, and the mapping of transport failures to Cascade errors.
 * @module
 */

import http from 'node:http';
import https from 'node:https';
import {
  AbortedError,
  ClosedError,
  cascadeChannel,
  DiagnosticChannels,
  delay,
  type Logger,
  throwIfAborted,
} from '@cascade/core';
import { RegistryAuthError, RegistryRequestError, RegistryUnavailableError } from '../errors.js';
import type { ResolvedSchemaRegistryOptions } from '../options.js';
import { backoffDelayMs } from './backoff.js';
import { HttpNetworkError, type HttpResponse, HttpTlsError, sendHttp } from './http.js';
import { parseJson } from './registry-responses.js';

const retriableStatus = new Set([408, 429, 500, 502, 503, 504]);
const contentType = 'application/vnd.schemaregistry.v1+json';

/** A registry answer that is neither an outage nor an auth failure. */
export interface RegistryReply {
  readonly status: number;
  readonly json: unknown;
}

/** Sends registry requests for one {@link SchemaRegistry} client. */
export class RegistryTransport {
  readonly #options: ResolvedSchemaRegistryOptions;
  readonly #agent: http.Agent;
  readonly #logger: Logger;

  constructor(options: ResolvedSchemaRegistryOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#agent =
      options.baseUrl.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ...(options.tls as https.AgentOptions) })
        : new http.Agent({ keepAlive: true });
  }

  #closed = false;

  /** Closes its connections; requests after it reject with `ClosedError`. */
  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one request, retrying outages; rejects with a Cascade error when it cannot. */
  async request(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    payload?: string,
    signal?: AbortSignal,
  ): Promise<RegistryReply> {
    if (this.#closed) throw new ClosedError('schema registry client', operation);
    const channel = cascadeChannel<object>(DiagnosticChannels.schemaRegistryRequest);
    const send = () => this.#requestWithRetries(operation, method, path, payload, signal);
    if (!channel.hasSubscribers) return send();
    return channel.tracePromise(send, {
      operation,
      method,
      url: `${this.#options.displayUrl}/${path}`,
    });
  }

  async #requestWithRetries(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    payload: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RegistryReply> {
    const options = this.#options;
    const url = new URL(path, options.baseUrl);
    const attempts = options.retries + 1;
    let lastFailure = '';
    let lastCause: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        const waitMs = backoffDelayMs(options, attempt - 1);
        this.#logger.debug('retrying registry request', { operation, attempt, waitMs, failure: lastFailure });
        await delay(waitMs, signal).catch((error: unknown) => {
          throw new AbortedError(operation, { cause: error });
        });
      }
      throwIfAborted(signal, operation);
      let response: HttpResponse;
      try {
        response = await sendHttp({
          url,
          method,
          headers: await this.#headers(),
          body: payload,
          agent: this.#agent,
          timeoutMs: options.requestTimeoutMs,
          signal,
        });
      } catch (error) {
        if (signal?.aborted) throw new AbortedError(operation, { cause: signal.reason });
        if (error instanceof HttpTlsError) {
          throw new RegistryRequestError(
            this.#options.displayUrl,
            operation,
            0,
            undefined,
            `TLS failed (${error.message}). Check the registry tls options (ca, servername).`,
            { cause: error },
          );
        }
        if (!(error instanceof HttpNetworkError)) throw error;
        lastFailure = error.message;
        lastCause = error;
        continue;
      }
      if (retriableStatus.has(response.status)) {
        lastFailure = `HTTP ${response.status}`;
        lastCause = undefined;
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        throw new RegistryAuthError(this.#options.displayUrl, operation, response.status);
      }
      return { status: response.status, json: parseJson(response.body) };
    }
    this.#logger.warn('schema registry unavailable', { operation, attempts, failure: lastFailure });
    throw new RegistryUnavailableError(this.#options.displayUrl, operation, attempts, lastFailure, {
      cause: lastCause,
    });
  }

  async #headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      accept: `${contentType}, application/json`,
      'content-type': contentType,
    };
    const { auth } = this.#options;
    if (auth === undefined) return headers;
    if ('token' in auth) {
      const token = typeof auth.token === 'function' ? await auth.token() : auth.token;
      headers.authorization = `Bearer ${token}`;
    } else {
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    return headers;
  }
}
