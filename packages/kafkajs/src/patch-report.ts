/**
 * What Cascade loses when one of its kafkajs patches declines (kafkajs' internals are not what it
 * was written for: another kafkajs version, or a bundler that rewrote them). A patch that declines
 * leaves kafkajs as it is, which works, but without the fix: that is said once per process, as a
 * warning naming what is lost, instead of silently.
 * @module
 */

import type { Logger } from '@cascade/core';

const reported = new Set<string>();

/** Logs one warning per process for a patch that returned `false`. */
export function reportDeclinedPatch(logger: Logger, patch: string, applied: boolean, lost: string): void {
  if (applied || reported.has(patch)) return;
  reported.add(patch);
  logger.warn(
    `A kafkajs patch could not be applied (kafkajs is not 2.2.4, or its internals moved): ${lost}`,
    {
      patch,
    },
  );
}

/** Forgets what was reported (for tests). */
export function resetDeclinedPatchReports(): void {
  reported.clear();
}
