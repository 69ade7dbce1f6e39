/**
 * Inspection that scales: `list()` reads the saga log one partition at a time, keeping only what
 * each record's headers say (status, definition, last transition), then reads the states of the
 * page it answers with. Any process that can read the log answers the same, coordinator or not.
 * @module
 */

import { ConfigError, requireInteger } from '@cascade/core';
import type { SagaListQuery, SagaPage } from './coordinator.js';
import type { SagaLog } from './log.js';
import { type SagaState, type SagaStatus, sagaStatuses, terminalStatuses } from './state.js';

const allStatuses = sagaStatuses;

interface Summary {
  readonly offset: bigint;
  readonly status: SagaStatus;
  readonly saga: string;
  readonly updatedAt: number;
}

interface Cursor {
  /** Index into the partitions asked for. */
  readonly index: number;
  /** The page ended at this offset of that partition. */
  readonly after: bigint;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ i: cursor.index, o: cursor.after.toString() })).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as {
      i?: unknown;
      o?: unknown;
    };
    if (Number.isSafeInteger(parsed.i) && (parsed.i as number) >= 0 && typeof parsed.o === 'string') {
      return { index: parsed.i as number, after: BigInt(parsed.o) };
    }
  } catch {
    // refused below
  }
  throw new ConfigError('query.cursor', 'is not a cursor list() answered with.');
}

/** Checks a query, naming the field it refuses. */
function checkQuery(query: SagaListQuery, known: readonly number[]) {
  if (typeof query !== 'object' || query === null) throw new ConfigError('query', 'must be an object.');
  const limit = requireInteger('query.limit', query.limit ?? 100, 1);
  if (limit > 1_000) throw new ConfigError('query.limit', `is ${limit}; at most 1000.`);
  let statuses: ReadonlySet<SagaStatus> | undefined;
  if (query.status !== undefined) {
    const wanted = typeof query.status === 'string' ? [query.status] : [...query.status];
    for (const status of wanted) {
      if (!allStatuses.includes(status))
        throw new ConfigError(
          'query.status',
          `${JSON.stringify(status)} is not one of ${allStatuses.join(', ')}.`,
        );
    }
    statuses = new Set(wanted);
  }
  if (query.saga !== undefined && (typeof query.saga !== 'string' || query.saga === ''))
    throw new ConfigError('query.saga', 'must be a non-empty string.');
  let olderThanMs: number | undefined;
  if (query.stuck !== undefined)
    olderThanMs = requireInteger('query.stuck.olderThanMs', query.stuck.olderThanMs, 0);
  let partitions = known;
  if (query.partitions !== undefined) {
    partitions = [...new Set(query.partitions)].sort((a, b) => a - b);
    for (const partition of partitions) {
      if (!known.includes(partition))
        throw new ConfigError(
          'query.partitions',
          `the saga log has no partition ${partition} (it has ${known.length}).`,
        );
    }
  }
  return { limit, statuses, olderThanMs, partitions };
}

/**
 * One page of sagas matching `query`: the matches of one partition (from where the cursor
 * points), in the order of their last transition, at most `limit`.
 */
export async function listSagas(log: SagaLog, query: SagaListQuery, timeoutMs: number): Promise<SagaPage> {
  const { limit, statuses, olderThanMs, partitions } = checkQuery(query, await log.partitions());
  const start = query.cursor === undefined ? { index: 0, after: -1n } : decodeCursor(query.cursor);
  const cutoff = olderThanMs === undefined ? undefined : Date.now() - olderThanMs;
  for (let index = start.index, after = start.after; index < partitions.length; index++, after = -1n) {
    const partition = partitions[index] as number;
    const latest = new Map<string, Summary>();
    await log.catchUp(
      partition,
      (entry) => {
        if (entry.value === null) {
          latest.delete(entry.key);
          return;
        }
        let { status, saga, updatedAt } = entry;
        if (status === undefined || saga === undefined || updatedAt === undefined) {
          const state = log.decode(entry, partition);
          if (state === undefined) return;
          ({ status, saga, updatedAt } = state);
        }
        latest.set(entry.key, { offset: entry.offset, status, saga, updatedAt });
      },
      { timeoutMs },
    );
    const matches = [...latest.values()]
      .filter(
        (s) =>
          s.offset > after &&
          (statuses === undefined || statuses.has(s.status)) &&
          (query.saga === undefined || s.saga === query.saga) &&
          // Stuck: not finished, and no transition since the cutoff.
          (cutoff === undefined || (s.updatedAt <= cutoff && !terminalStatuses.has(s.status))),
      )
      .sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    if (matches.length === 0) continue;
    const page = matches.slice(0, limit);
    const sagas: SagaState[] = [];
    for (const found of await inBatches(page, 8, (s) => log.stateAt(partition, s.offset))) {
      if (found !== undefined) sagas.push(found);
    }
    const last = page.at(-1) as Summary;
    const cursor =
      matches.length > limit
        ? encodeCursor({ index, after: last.offset })
        : index + 1 < partitions.length
          ? encodeCursor({ index: index + 1, after: -1n })
          : undefined;
    return cursor === undefined ? { sagas } : { sagas, cursor };
  }
  return { sagas: [] };
}

/** Maps `items` with at most `concurrency` calls of `fn` at once, keeping the order. */
async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
