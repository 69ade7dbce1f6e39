/**
 * A targeted fix for kafkajs 2.2.4 under Node >= 24: `TimeoutNegativeWarning`
 * (tulios/kafkajs#1751).
 *
 * Cause: `RequestQueue.scheduleCheckPendingRequests()` computes
 * `scheduleAt = this.throttledUntil - Date.now()` and, when no request is pending, passes it to
 * `setTimeout` unchanged. `throttledUntil` is `-1` until a broker throttles the client, so the
 * delay is about `-Date.now()`: Node 24 warns on every negative delay (and then uses 1 ms).
 * The fix replaces that one method with the same logic and a delay clamped at 0, which is what
 * Node did with the negative value anyway, so behaviour is unchanged and the warning is gone.
 * It is applied once per process by {@link createKafkaClient}; nothing else about `process`
 * warnings is touched.
 * @module
 */

import { createRequire } from 'node:module';

interface RequestQueueLike {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

/** kafkajs' interval for re-checking pending requests (`CHECK_PENDING_REQUESTS_INTERVAL`). */
const checkPendingRequestsIntervalMs = 10;
const patched = Symbol.for('cascade.kafkajs.timeout-negative-patch');

/**
 * Patches kafkajs' `RequestQueue` so it never passes a negative delay to `setTimeout`.
 * Idempotent. Returns whether the patch is in place (false if kafkajs' layout changed).
 */
export function patchKafkajsNegativeTimeout(): boolean {
  const require = createRequire(import.meta.url);
  let RequestQueue: { prototype: RequestQueueLike & Record<symbol, unknown> };
  try {
    RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as typeof RequestQueue;
  } catch {
    return false;
  }
  const proto = RequestQueue.prototype;
  if (typeof proto?.checkPendingRequests !== 'function') return false;
  if (proto[patched] === true) return true;
  Object.defineProperty(proto, 'scheduleCheckPendingRequests', {
    configurable: true,
    writable: true,
    value: function scheduleCheckPendingRequests(this: RequestQueueLike): void {
      let scheduleAt = this.throttledUntil - Date.now();
      if (!this.throttleCheckTimeoutId) {
        if (this.pending.length > 0) {
          scheduleAt = scheduleAt > 0 ? scheduleAt : checkPendingRequestsIntervalMs;
        }
        this.throttleCheckTimeoutId = setTimeout(
          () => {
            this.throttleCheckTimeoutId = null;
            this.checkPendingRequests();
          },
          Math.max(0, scheduleAt),
        );
      }
    },
  });
  Object.defineProperty(proto, patched, { value: true });
  return true;
}
