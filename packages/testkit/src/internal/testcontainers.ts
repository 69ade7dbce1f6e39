// The one place that loads testcontainers, an optional peer dependency of @cascade/testkit (168
// packages, needed only for Docker). It is imported here, on the Docker path alone: `mode:
// 'docker'`, or `mode: 'auto'` once a Docker socket is found. The JVM and external paths never
// call this, and nothing imports testcontainers statically, so `@cascade/testkit` loads without it.
import { TestcontainersMissingError } from '../errors.js';

/** The testcontainers module. */
export type Testcontainers = typeof import('testcontainers');

/**
 * Imports testcontainers (`importModule` is for tests).
 * @throws {TestcontainersMissingError} when the package is not installed.
 */
export async function loadTestcontainers(
  importModule: () => Promise<Testcontainers> = () => import('testcontainers'),
): Promise<Testcontainers> {
  try {
    return await importModule();
  } catch (error) {
    if (isTestcontainersMissing(error)) throw new TestcontainersMissingError({ cause: error });
    throw error;
  }
}

/**
 * Whether `error` says the testcontainers package itself cannot be found: Node's
 * `Cannot find package 'testcontainers' imported from ...`. A dependency of testcontainers that
 * is missing (`Cannot find package 'dockerode' imported from .../testcontainers/...`) is another
 * fault and is not matched.
 */
export function isTestcontainersMissing(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    /['"]testcontainers['"]/.test(error.message)
  );
}
