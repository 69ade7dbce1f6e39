import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { resolveSchemaRegistryOptions } from './options.js';
import { resolveRegistryAvroOptions } from './registry-avro.js';
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
