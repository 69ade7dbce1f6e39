/**
 * When a record of a retry topic is due: its `cascade-retry-due-at` header. A record not yet due
 * is left unread (its partition paused until then) rather than awaited inside its batch, since
 * the client (kafkajs) fetches no partition of a broker again until every batch of the last fetch
 * returned.
 * @module
 */

import type { FetchedRecord } from '@cascade/transport';
import { RetryHeaders } from '../dlt-headers.js';

/** Records of a retry topic due later than this are left unread (partition paused) instead of awaited. */
export const pauseThresholdMs = 20;

/** The epoch ms before which `message` must not be handled again (0 when it carries no due time). */
export function dueAtOf(message: FetchedRecord): number {
  const value = message.headers?.[RetryHeaders.dueAt];
  const first = Array.isArray(value) ? value[0] : value;
  const dueAt = first === undefined ? 0 : Number(first.toString());
  return Number.isFinite(dueAt) ? dueAt : 0;
}

/**
 * How long to leave the partition paused before `message` (of retry stage `retryStage`) is due:
 * 0 when it may be handled now (a wait up to {@link pauseThresholdMs} is awaited in place).
 */
export function pauseBefore(message: FetchedRecord, retryStage: number, now = Date.now()): number {
  if (retryStage === 0) return 0;
  const wait = dueAtOf(message) - now;
  return wait > pauseThresholdMs ? wait : 0;
}

/**
 * The records of a batch that are due now (a prefix: a retry topic's records are due in order),
 * and how long to pause before the first record that is not.
 */
export function duePrefix(
  messages: readonly FetchedRecord[],
  retryStage: number,
  now = Date.now(),
): { readonly due: readonly FetchedRecord[]; readonly pauseMs: number } {
  if (retryStage === 0) return { due: messages, pauseMs: 0 };
  for (let i = 0; i < messages.length; i++) {
    const pauseMs = pauseBefore(messages[i] as FetchedRecord, retryStage, now);
    if (pauseMs > 0) return { due: messages.slice(0, i), pauseMs };
  }
  return { due: messages, pauseMs: 0 };
}
