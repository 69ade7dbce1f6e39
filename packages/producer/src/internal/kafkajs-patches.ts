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

interface InflightRequest {
  readonly sentAt: number;
  readonly requestTimeout: number;
  timeoutRequest(): void;
}

interface TimeoutCheckingQueue {
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: NodeJS.Timeout | undefined;
  inflight: Map<number, InflightRequest>;
  isConnected(): boolean;
  destroy(): void;
}

const stuckRequestsPatched = Symbol.for('cascade.kafkajs.stuck-requests-patch');

/**
 * Patches kafkajs' `RequestQueue` so requests in flight on a closing connection still time out.
 *
 * Cause (kafkajs 2.2.4, `RequestQueue.scheduleRequestTimeoutCheck`): the interval that times out
 * requests destroys itself as soon as its connection is not connected. A connection being
 * closed (status `disconnecting`, e.g. kafkajs dropping a broker after an error) while a request
 * is in flight stops timing that request out; if the broker then goes away without answering
 * (a restart), the connection's `onEnd` sees "not connected" and does not reject it either, and
 * `disconnect()` waits for it forever: the request's promise — a produce, an offset commit —
 * never settles. Seen as a service stuck after a broker restart (test/e2e/chaos.test.ts).
 * The fix keeps the same interval and logic, and stops it only once nothing is in flight.
 * Idempotent. Returns whether the patch is in place.
 */
export function patchKafkajsStuckRequests(): boolean {
  const require = createRequire(import.meta.url);
  let RequestQueue: { prototype: TimeoutCheckingQueue & Record<symbol, unknown> };
  try {
    RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as typeof RequestQueue;
  } catch {
    return false;
  }
  const proto = RequestQueue.prototype;
  if (typeof proto?.destroy !== 'function') return false;
  if (proto[stuckRequestsPatched] === true) return true;
  Object.defineProperty(proto, 'scheduleRequestTimeoutCheck', {
    configurable: true,
    writable: true,
    value: function scheduleRequestTimeoutCheck(this: TimeoutCheckingQueue): void {
      if (!this.enforceRequestTimeout) return;
      this.destroy();
      this.requestTimeoutIntervalId = setInterval(
        () => {
          for (const request of [...this.inflight.values()]) {
            if (Date.now() - request.sentAt > request.requestTimeout) request.timeoutRequest();
          }
          if (!this.isConnected() && this.inflight.size === 0) this.destroy();
        },
        Math.min(this.requestTimeout, 100),
      );
    },
  });
  Object.defineProperty(proto, stuckRequestsPatched, { value: true });
  return true;
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
