// A loopback HTTP(S) proxy in front of the real schema registry, for tests that must count
// requests, see headers, require credentials, or make the registry fail on purpose.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
}

export interface RegistryProxyOptions {
  /** The real registry's base URL (http). */
  readonly target: string;
  /** When set, requests whose Authorization header differs get 401. */
  readonly requireAuthorization?: string;
  /** Serve HTTPS with this key and certificate. */
  readonly tls?: { key: string; cert: string };
}

export interface RegistryProxy {
  /** The proxy's base URL, with the target's path (e.g. http://127.0.0.1:PORT/apis/ccompat/v7). */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: ProxiedRequest[];
  /** Answers the next `count` requests with `status` instead of forwarding them. */
  failNext(count: number, status?: number): void;
  /** Answers every request with `status` (e.g. 503) until `heal()`. */
  failAll(status: number): void;
  /** Forwards again. */
  heal(): void;
  /** Requests matching `method` and a path containing `fragment`. */
  count(method: string, fragment: string): number;
  close(): Promise<void>;
}

export async function startRegistryProxy(options: RegistryProxyOptions): Promise<RegistryProxy> {
  const target = new URL(options.target);
  const requests: ProxiedRequest[] = [];
  let failCount = 0;
  let failStatus = 503;
  let failForever: number | undefined;
  const handler: http.RequestListener = (req, res) => {
    const authorization = req.headers.authorization;
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorization });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: object): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (options.requireAuthorization !== undefined && authorization !== options.requireAuthorization) {
        reply(401, { error_code: 40101, message: 'Unauthorized' });
        return;
      }
      if (failForever !== undefined) {
        reply(failForever, { error_code: 50301, message: 'injected outage' });
        return;
      }
      if (failCount > 0) {
        failCount--;
        reply(failStatus, { error_code: 50301, message: 'injected failure' });
        return;
      }
      const headers = { ...req.headers, host: target.host };
      delete headers.authorization;
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      upstream.on('error', () => reply(502, { error_code: 50201, message: 'upstream failed' }));
      upstream.end(Buffer.concat(chunks));
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    requests,
    failNext(count, status = 503) {
      failCount = count;
      failStatus = status;
    },
    failAll(status) {
      failForever = status;
    },
    heal() {
      failForever = undefined;
      failCount = 0;
    },
    count(method, fragment) {
      return requests.filter((r) => r.method === method && r.path.includes(fragment)).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
