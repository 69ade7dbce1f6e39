import { isCascadeError, isRetriable } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { TestcontainersMissingError, TestkitErrorCodes } from '../errors.js';
import { isTestcontainersMissing, loadTestcontainers, type Testcontainers } from './testcontainers.js';

/** An error as Node's ESM loader raises it for a package that is not installed. */
function moduleNotFound(name: string, importedFrom: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from ${importedFrom}`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('loading testcontainers', () => {
  it('rejects with TestcontainersMissingError, naming the fix, when testcontainers is not installed', async () => {
    const missing = moduleNotFound(
      'testcontainers',
      '/app/node_modules/@cascade/testkit/dist/internal/testcontainers.js',
    );
    const error = await loadTestcontainers(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestcontainersMissingError);
    const typed = error as TestcontainersMissingError;
    expect(typed.code).toBe(TestkitErrorCodes.TestcontainersMissing);
    expect(typed.code).toBe('CASCADE_TESTKIT_TESTCONTAINERS_MISSING');
    expect(isCascadeError(typed)).toBe(true);
    expect(isRetriable(typed)).toBe(false);
    expect(typed.cause).toBe(missing);
    expect(typed.message).toContain('npm install --save-dev testcontainers');
    expect(typed.message).toContain("mode 'jvm'");
  });

  it('passes a missing dependency of testcontainers on unchanged', async () => {
    const missing = moduleNotFound('dockerode', '/app/node_modules/testcontainers/build/index.js');
    expect(isTestcontainersMissing(missing)).toBe(false);
    await expect(loadTestcontainers(() => Promise.reject(missing))).rejects.toBe(missing);
  });

  it('passes any other failure of the import on unchanged', async () => {
    const broken = new SyntaxError("Unexpected token 'export'");
    await expect(loadTestcontainers(() => Promise.reject(broken))).rejects.toBe(broken);
    expect(isTestcontainersMissing('testcontainers')).toBe(false);
  });

  it('recognises the CommonJS form of the error too', () => {
    const missing = Object.assign(new Error("Cannot find module 'testcontainers'"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(isTestcontainersMissing(missing)).toBe(true);
  });

  it('loads the testcontainers the workspace installs as a devDependency (the Docker path stays testable)', async () => {
    const module: Testcontainers = await loadTestcontainers();
    expect(typeof module.GenericContainer).toBe('function');
    expect(typeof module.getContainerRuntimeClient).toBe('function');
  });
});
