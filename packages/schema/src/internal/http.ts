/**
 * A minimal JSON-over-HTTP(S) request on `node:http`/`node:https`, so TLS options (CA, client
 * certificate) and keep-alive agents work without extra dependencies.
 * @module
 */

import http from 'node:http';
import https from 'node:https';

/** An HTTP response with its body read. */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** One request. */
export interface HttpRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly agent: http.Agent;
  readonly timeoutMs: number;
  /** Aborts the request. */
  readonly signal?: AbortSignal | undefined;
}

/** A network-level failure (connection refused/reset, timeout): no HTTP status was received. */
export class HttpNetworkError extends Error {
  override readonly name = 'HttpNetworkError';
}

/** A TLS failure (untrusted or expired certificate, wrong host name): a configuration problem, not an outage. */
export class HttpTlsError extends Error {
  override readonly name = 'HttpTlsError';
}

const tlsCodes = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/;

function classify(error: Error): Error {
  if (error instanceof HttpNetworkError || error instanceof HttpTlsError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && tlsCodes.test(code))
    return new HttpTlsError(`${code}: ${error.message}`, { cause: error });
  return new HttpNetworkError(error.message, { cause: error });
}

/** Sends `request` and reads the whole response body as UTF-8. */
export function sendHttp(request: HttpRequest): Promise<HttpResponse> {
  const { url } = request;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    const req = transport.request(
      url,
      {
        method: request.method,
        headers,
        agent: request.agent,
        timeout: request.timeoutMs,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => reject(new HttpNetworkError(error.message, { cause: error })));
      },
    );
    req.on('timeout', () => req.destroy(new HttpNetworkError(`no response within ${request.timeoutMs} ms`)));
    req.on('error', (error) => reject(classify(error)));
    req.end(request.body);
  });
}
