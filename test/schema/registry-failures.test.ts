// Registry outages, credentials and TLS, through a loopback proxy in front of the real registry:
// outages are retried with backoff then surface as a retriable RegistryUnavailableError; refused
// credentials as a non-retriable RegistryAuthError; and no credential ever reaches an error or a log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, isRetriable, type LogMeta } from '@cascade/core';
import {
  RegistryAuthError,
  RegistryRequestError,
  RegistryUnavailableError,
  registryAvro,
  SchemaRegistry,
} from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';
import { caught } from './caught.js';
import { type RegistryProxy, startRegistryProxy } from './registry-proxy.js';

const schema = { type: 'record', name: 'Beat', fields: [{ name: 'n', type: 'long' }] } as const;
const fastRetry = { retries: 3, initialDelayMs: 5, maxDelayMs: 20 };
const ctx = (topic: string) => ({ topic, headers: {}, isKey: false });

const proxies: RegistryProxy[] = [];
const clients: SchemaRegistry[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const proxy of proxies.splice(0)) await proxy.close();
});
async function proxy(options: { requireAuthorization?: string; tls?: { key: string; cert: string } } = {}) {
  const started = await startRegistryProxy({ target: cluster().registryUrl, ...options });
  proxies.push(started);
  return started;
}
function client(options: ConstructorParameters<typeof SchemaRegistry>[0]): SchemaRegistry {
  const created = new SchemaRegistry(options);
  clients.push(created);
  return created;
}

describe('registry outages', () => {
  it('retries HTTP 503 with backoff, then fails with a retriable RegistryUnavailableError', async () => {
    const p = await proxy();
    p.failAll(503);
    const serde = registryAvro({ registry: client({ url: p.url, retry: fastRetry }), schema });
    const topic = uniqueName('outage');
    const error = await caught(() => serde.serialize({ n: 1n }, ctx(topic)));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error).toMatchObject({ code: 'CASCADE_REGISTRY_UNAVAILABLE', retriable: true, attempts: 4 });
    expect(isRetriable(error)).toBe(true);
    expect(p.requests).toHaveLength(4);
    // The failure is not cached: once the registry is back, the same serde works.
    p.heal();
    const bytes = await serde.serialize({ n: 1n }, ctx(topic));
    expect(bytes[0]).toBe(0);
  });

  it('rides out two failed attempts without surfacing an error', async () => {
    const p = await proxy();
    p.failNext(2, 502);
    const serde = registryAvro({ registry: client({ url: p.url, retry: fastRetry }), schema });
    const bytes = await serde.serialize({ n: 5n }, ctx(uniqueName('blip')));
    expect(await serde.deserialize(bytes, ctx('any'))).toEqual({ n: 5n });
    const subject = p.requests[0]?.path ?? '';
    expect(p.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${subject}`, // 502
      `POST ${subject}`, // 502
      `POST ${subject}`, // lookup: not found
      `POST ${subject.replace('/subjects/', '/compatibility/subjects/')}/versions/latest?verbose=true`,
      `POST ${subject}/versions`,
      `GET /apis/ccompat/v7/schemas/ids/${bytes.readInt32BE(1)}`,
    ]);
  });

  it('fails with RegistryUnavailableError when nothing listens, while warm caches keep working', async () => {
    const p = await proxy();
    const serde = registryAvro({ registry: client({ url: p.url, retry: fastRetry }), schema });
    const topic = uniqueName('refused');
    const bytes = await serde.serialize({ n: 7n }, ctx(topic));
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual({ n: 7n });
    await p.close();
    proxies.splice(proxies.indexOf(p), 1);
    // Warm: no registry needed.
    expect(await serde.serialize({ n: 8n }, ctx(topic))).toEqual(
      await serde.serialize({ n: 8n }, ctx(topic)),
    );
    expect(await serde.deserialize(bytes, ctx(topic))).toEqual({ n: 7n });
    // Cold: a new id cannot be looked up. Retriable, not a poison pill.
    const unseen = Buffer.from(bytes);
    unseen.writeInt32BE(bytes.readInt32BE(1) + 1_000_000, 1);
    const error = await caught(() => serde.deserialize(unseen, { ...ctx(topic), partition: 0, offset: '9' }));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error).toMatchObject({ retriable: true, attempts: 4 });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

describe('registry refusals', () => {
  it('does not retry a client error and carries the registry error code', async () => {
    const p = await proxy();
    p.failNext(1, 400);
    const registry = client({ url: p.url, retry: fastRetry });
    const error = await caught(() => registry.getSchemaById(1));
    expect(error).toBeInstanceOf(RegistryRequestError);
    expect(error).toMatchObject({
      code: 'CASCADE_REGISTRY_REQUEST',
      status: 400,
      registryErrorCode: 50301,
      retriable: false,
    });
    expect(p.requests).toHaveLength(1);
  });
});

describe('cancellation', () => {
  it('stops retrying when the signal aborts, and stops waiting on a shared load without cancelling it', async () => {
    const p = await proxy();
    p.failAll(503);
    const registry = client({
      url: p.url,
      retry: { retries: 5, initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const controller = new AbortController();
    const lookup = caught(() =>
      registry.lookupSchema('any-value', { schema: '"string"' }, { signal: controller.signal }),
    );
    await waitFor(
      () => p.requests.length === 1,
      () => 'the first attempt',
    );
    controller.abort();
    const error = await lookup;
    expect(error).toMatchObject({ code: 'CASCADE_ABORTED', retriable: false });
    expect((error as Error).message).toBe('look up a schema was aborted.');
    expect(p.requests).toHaveLength(1);

    p.heal();
    const id = await registerDirectString(uniqueName('shared'));
    p.failNext(1, 503);
    const fast = client({ url: p.url, retry: { retries: 1, initialDelayMs: 200, maxDelayMs: 200 } });
    const waiting = new AbortController();
    const impatient = caught(() => fast.getSchemaById(id, { signal: waiting.signal }));
    const patient = fast.getSchemaById(id);
    waiting.abort();
    expect(await impatient).toMatchObject({ code: 'CASCADE_ABORTED' });
    expect((await patient).schema).toBe('"string"');
  });
});

describe('registry credentials', () => {
  const password = 'pa55-w0rd-NEVER-PRINTED';
  const token = 'tok-NEVER-PRINTED-123';

  it('sends basic auth, and refuses wrong credentials with a RegistryAuthError that holds no secret', async () => {
    const basic = `Basic ${Buffer.from(`svc-orders:${password}`).toString('base64')}`;
    const p = await proxy({ requireAuthorization: basic });
    const lines: string[] = [];
    const logger = createLogger(
      (level, message, meta: LogMeta) => lines.push(`${level} ${message} ${JSON.stringify(meta)}`),
      {
        level: 'debug',
      },
    );
    const good = registryAvro({
      registry: client({ url: p.url, auth: { username: 'svc-orders', password }, logger }),
      schema,
    });
    await good.serialize({ n: 1n }, ctx(uniqueName('auth')));
    expect(p.requests.every((r) => r.authorization === basic)).toBe(true);
    expect(lines.filter((line) => line.startsWith('debug registered schema'))).toHaveLength(1);

    const wrong = 'wrong-NEVER-PRINTED';
    const bad = registryAvro({
      registry: client({
        url: p.url,
        auth: { username: 'svc-orders', password: wrong },
        logger,
        retry: fastRetry,
      }),
      schema,
    });
    const error = await caught(() => bad.serialize({ n: 1n }, ctx(uniqueName('auth'))));
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error).toMatchObject({ code: 'CASCADE_REGISTRY_AUTH', status: 401, retriable: false });
    expect(lines.some((line) => line.startsWith('debug retrying'))).toBe(false); // 401 is not retried
    expectNoSecret([password, wrong, basic], error, lines);
  });

  it('sends a bearer token (from a function too) and keeps it out of errors and logs', async () => {
    const p = await proxy({ requireAuthorization: `Bearer ${token}` });
    const lines: string[] = [];
    const logger = createLogger(
      (level, message, meta) => lines.push(`${level} ${message} ${JSON.stringify(meta)}`),
      {
        level: 'debug',
      },
    );
    await registryAvro({ registry: client({ url: p.url, auth: { token }, logger }), schema }).serialize(
      { n: 1n },
      ctx(uniqueName('bearer')),
    );
    await registryAvro({
      registry: client({ url: p.url, auth: { token: async () => token }, logger }),
      schema,
    }).serialize({ n: 1n }, ctx(uniqueName('bearer')));
    const refused = await caught(() =>
      registryAvro({
        registry: client({ url: p.url, auth: { token: `${token}x` }, logger }),
        schema,
      }).serialize({ n: 1n }, ctx(uniqueName('bearer'))),
    );
    expect(refused).toBeInstanceOf(RegistryAuthError);
    expectNoSecret([token], refused, lines);
  });

  it('takes user info in the URL as basic auth and never shows it', async () => {
    const basic = `Basic ${Buffer.from(`svc:${password}`).toString('base64')}`;
    const p = await proxy({ requireAuthorization: basic });
    const withUserInfo = p.url.replace('http://', `http://svc:${password}@`);
    const registry = client({ url: withUserInfo, retry: fastRetry });
    expect(registry.url).toBe(p.url);
    await registryAvro({ registry, schema }).serialize({ n: 1n }, ctx(uniqueName('userinfo')));
    // An outage message names the URL without the credentials.
    p.failAll(503);
    const error = await caught(() => registry.getSchemaById(2_000_000_001));
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect((error as RegistryUnavailableError).url).toBe(p.url);
    expectNoSecret([password], error, []);
  });
});

describe('registry TLS', () => {
  it('trusts a registry certificate through the ca option, and refuses it (not retriable) without', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cascade-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const p = await proxy({ tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert } });
      expect(p.url.startsWith('https://')).toBe(true);
      const trusted = registryAvro({ registry: client({ url: p.url, tls: { ca: cert } }), schema });
      const bytes = await trusted.serialize({ n: 3n }, ctx(uniqueName('tls')));
      expect(await trusted.deserialize(bytes, ctx('any'))).toEqual({ n: 3n });

      const untrusted = registryAvro({ registry: client({ url: p.url, retry: fastRetry }), schema });
      const before = p.requests.length;
      const error = await caught(() => untrusted.serialize({ n: 3n }, ctx(uniqueName('tls'))));
      expect(error).toBeInstanceOf(RegistryRequestError);
      expect(error).toMatchObject({ code: 'CASCADE_REGISTRY_REQUEST', retriable: false });
      expect((error as Error).message).toContain('TLS failed');
      expect(p.requests.length).toBe(before); // the handshake failed: no request reached the proxy
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function registerDirectString(subject: string): Promise<number> {
  const response = await fetch(`${cluster().registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: '"string"' }),
  });
  return ((await response.json()) as { id: number }).id;
}

function expectNoSecret(secrets: readonly string[], error: unknown, logLines: readonly string[]): void {
  const texts: string[] = [...logLines];
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    texts.push(current.message, current.stack ?? '', JSON.stringify(current), String(current));
  }
  for (const secret of secrets) {
    for (const text of texts) expect(text).not.toContain(secret);
    expect(texts.join('\n')).not.toContain(Buffer.from(secret).toString('base64'));
  }
}
