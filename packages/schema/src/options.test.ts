import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { json } from './json-serde.js';
import { resolveSchemaRegistryOptions } from './options.js';
import { registryAvro, resolveRegistryAvroOptions } from './registry-avro.js';
import { SchemaRegistry } from './schema-registry.js';

const schema = { type: 'record', name: 'R', namespace: 'n', fields: [{ name: 'a', type: 'int' }] } as const;

describe('resolveSchemaRegistryOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveSchemaRegistryOptions({ url: 'http://r:8081/apis/ccompat/v7' });
    expect(resolved).toMatchObject({
      displayUrl: 'http://r:8081/apis/ccompat/v7',
      auth: undefined,
      requestTimeoutMs: 10_000,
      retries: 4,
      initialDelayMs: 100,
      maxDelayMs: 2_000,
      multiplier: 2,
      cacheCapacity: 1_000,
    });
    expect(resolved.baseUrl.href).toBe('http://r:8081/apis/ccompat/v7/');
  });

  it('moves URL user info into basic auth and out of the URL', () => {
    const resolved = resolveSchemaRegistryOptions({ url: 'https://svc:p%40ss@r:8081' });
    expect(resolved.auth).toEqual({ username: 'svc', password: 'p@ss' });
    expect(resolved.displayUrl).toBe('https://r:8081');
  });

  it.each([
    [{ url: 'not a url' }, 'registry.url'],
    [{ url: 'ftp://r' }, 'registry.url'],
    [{ url: 'http://u:secret@r', auth: { token: 't' } }, 'registry.auth'],
    [{ url: 'http://r', auth: { token: '' } }, 'registry.auth.token'],
    [{ url: 'http://r', headers: { Authorization: 'Basic x' } }, 'registry.headers.Authorization'],
    [{ url: 'http://r', requestTimeoutMs: 0 }, 'registry.requestTimeoutMs'],
    [{ url: 'http://r', retry: { retries: -1 } }, 'registry.retry.retries'],
    [{ url: 'http://r', retry: { initialDelayMs: 500, maxDelayMs: 100 } }, 'registry.retry.maxDelayMs'],
    [{ url: 'http://r', cacheCapacity: 0 }, 'registry.cacheCapacity'],
  ])('refuses %j naming %s, without echoing secrets', (input, field) => {
    let error: unknown;
    try {
      resolveSchemaRegistryOptions(input as Parameters<typeof resolveSchemaRegistryOptions>[0]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field, code: 'CASCADE_CONFIG' });
    expect((error as Error).message).not.toContain('secret');
  });
});

describe('resolveRegistryAvroOptions', () => {
  const registry = { url: 'http://r' };
  it('picks the mode from the options', () => {
    expect(resolveRegistryAvroOptions({ registry, schema }).mode).toBe('auto-register');
    expect(resolveRegistryAvroOptions({ registry, schema, autoRegister: false }).mode).toBe('lookup');
    expect(resolveRegistryAvroOptions({ registry, useLatestVersion: true }).mode).toBe('latest');
    expect(resolveRegistryAvroOptions({ registry, schemaId: 3 }).mode).toBe('schema-id');
    expect(resolveRegistryAvroOptions({ registry, schema }).recordName).toBe('n.R');
  });

  it.each([
    [{ registry, schema, schemaId: 1, useLatestVersion: true }, 'schemaId'],
    [{ registry, schema, schemaId: 1, autoRegister: true }, 'autoRegister'],
    [{ registry }, 'schema'],
    [{ registry, schema, schemaId: -1 }, 'schemaId'],
    [{ registry, schema: 'string', subjectNameStrategy: 'record' }, 'subjectNameStrategy'],
    [{ registry, schema, subjectNameStrategy: 'TopicNameStrategy' }, 'subjectNameStrategy'],
    [{ registry, schema, cacheCapacity: 0 }, 'cacheCapacity'],
  ])('refuses contradictory options %j naming %s', (input, field) => {
    expect(() =>
      resolveRegistryAvroOptions(input as Parameters<typeof resolveRegistryAvroOptions>[0]),
    ).toThrow(expect.objectContaining({ field }));
  });
});

describe('unknown and misspelt option keys', () => {
  const fail = (run: () => unknown): ConfigError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    return expect.unreachable('accepted');
  };
  const registryOptions = (input: unknown) => fail(() => resolveSchemaRegistryOptions(input as never));
  const avroOptions = (input: unknown) => fail(() => resolveRegistryAvroOptions(input as never));
  const url = 'http://r';

  it('refuses an unknown registry key, listing the options when none is close', () => {
    const error = registryOptions({ url, topic: 'x' });
    expect(error.field).toBe('registry.topic');
    expect(error.message).toContain('The options of registry are: url, auth, tls, headers,');
  });

  it('suggests the key of a misspelt or differently cased registry option', () => {
    expect(registryOptions({ URL: url }).message).toBe(
      'Invalid option registry.URL: unknown option (option names are case-sensitive). Did you mean url?',
    );
    expect(registryOptions({ url, requestTimeout: 1 }).message).toContain('Did you mean requestTimeoutMs?');
  });

  it('names nested paths: tls, retry and auth, never echoing a credential', () => {
    const tls = registryOptions({ url, tls: { rejectUnauthorised: false } });
    expect(tls.field).toBe('registry.tls.rejectUnauthorised');
    expect(tls.message).toContain('Did you mean rejectUnauthorized?');
    expect(registryOptions({ url, retry: { maxDelay: 1 } }).message).toContain('Did you mean maxDelayMs?');
    const auth = registryOptions({ url, auth: { username: 'u', pasword: 'secret' } });
    expect(auth.field).toBe('registry.auth.pasword');
    expect(auth.message).toContain('Did you mean password?');
    expect(auth.message).not.toContain('secret');
    const mixed = registryOptions({ url, auth: { token: 'secret', username: 'u' } });
    expect(mixed.field).toBe('registry.auth.username');
    expect(mixed.message).not.toContain('secret');
  });

  it('refuses registry options that are not plain objects', () => {
    expect(registryOptions({ url, tls: true }).field).toBe('registry.tls');
    expect(registryOptions({ url, retry: 3 }).field).toBe('registry.retry');
    expect(registryOptions({ url, auth: 'secret' }).field).toBe('registry.auth');
  });

  it('refuses an unknown or misspelt registryAvro key, and checks the registry options under registry', () => {
    expect(avroOptions({ registry: { url }, schema, schemaID: 3 }).message).toBe(
      'Invalid option schemaID: unknown option (option names are case-sensitive). Did you mean schemaId?',
    );
    expect(avroOptions({ registry: { url }, schema, autoRegistr: false }).message).toContain(
      'Did you mean autoRegister?',
    );
    expect(avroOptions({ registy: { url }, schema }).message).toContain('Did you mean registry?');
    expect(avroOptions({ registry: { url, cacheCapacty: 1 }, schema }).field).toBe('registry.cacheCapacty');
    expect(
      fail(() => registryAvro({ registry: { url }, schema, subjectNamingStrategy: 'topic' } as never)).field,
    ).toBe('subjectNamingStrategy');
  });

  it('refuses an unknown json() option', () => {
    const error = fail(() => json({ validator: () => true } as never));
    expect(error.field).toBe('json.validator');
    expect(error.message).toContain('Did you mean validate?');
    expect(fail(() => json('strict' as never)).field).toBe('json');
  });

  it('accepts every documented key and known keys set to undefined', () => {
    expect(
      resolveSchemaRegistryOptions({
        url,
        auth: { token: () => 't' },
        tls: { ca: 'pem', rejectUnauthorized: true, servername: 'r' },
        headers: { 'x-team': 'a' },
        requestTimeoutMs: 1,
        retry: { retries: 0, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1 },
        cacheCapacity: 1,
        logger: undefined,
      } as never).retries,
    ).toBe(0);
    expect(
      resolveRegistryAvroOptions({ registry: { url }, schema, references: [], schemaId: undefined } as never)
        .mode,
    ).toBe('auto-register');
  });
});

describe('SchemaRegistry', () => {
  it('exposes its URL without credentials and is disposable', () => {
    let url = '';
    {
      using registry = new SchemaRegistry({ url: 'http://svc:secret@127.0.0.1:1/apis/ccompat/v7' });
      url = registry.url;
    }
    expect(url).toBe('http://127.0.0.1:1/apis/ccompat/v7');
  });
});
