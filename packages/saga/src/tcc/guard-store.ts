/**
 * The storage side of the TCC participant guard: one row per (transaction, branch), and the few
 * atomic operations the guard is built from — an insert that does nothing on conflict, and a
 * conditional status update — each run inside a transaction scoped to one row. A store whose
 * transactions are database transactions hands their handle to the user's work, so the guard row
 * and the work commit or roll back together.
 * @module
 */

/** The states of a guard row. */
export const TccGuardStatus = {
  /** Record-intent-first: the try is about to run (or ran and failed); its cancel must still run. */
  Trying: 'TRYING',
  /** The try succeeded; the row holds its result and expiry. */
  Tried: 'TRIED',
  Confirmed: 'CONFIRMED',
  Cancelled: 'CANCELLED',
  /** A cancel came before any try (an empty rollback): a later try is refused. */
  Suspended: 'SUSPENDED',
} as const;

/** One of {@link TccGuardStatus}. */
export type TccGuardStatus = (typeof TccGuardStatus)[keyof typeof TccGuardStatus];

/** The key of a guard row: the saga id and the step name. */
export interface TccGuardKey {
  /** The global transaction: the saga id. */
  readonly transaction: string;
  /** The branch: the step name. */
  readonly branch: string;
}

/** A guard row. Times are epoch ms. */
export interface TccGuardRow extends TccGuardKey {
  /** The resource (command, HTTP base path) whose handlers own the row; the sweep uses it. */
  readonly resource: string;
  readonly status: TccGuardStatus;
  /** The try's payload (for a cancel that gets none: HTTP DELETE, expiry). */
  readonly payload: unknown;
  /** The try's result, once it succeeded. */
  readonly result: unknown;
  /** When the reservation lapses, if it does. */
  readonly expiresAt: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A new row. */
export interface TccGuardInsert {
  readonly resource: string;
  readonly status: TccGuardStatus;
  readonly payload: unknown;
  readonly expiresAt: number | undefined;
  readonly now: number;
}

/** A conditional status update: applied only when the row's status is one of `from`. */
export interface TccGuardUpdate {
  readonly from: readonly TccGuardStatus[];
  readonly to: TccGuardStatus;
  readonly now: number;
  /** Set the try's result. */
  readonly result?: unknown;
  /** Only when the row has not lapsed at this time (no expiry, or `expiresAt > notExpiredAt`). */
  readonly notExpiredAt?: number;
  /** Only when the row has lapsed at this time (`expiresAt <= expiredAt`). */
  readonly expiredAt?: number;
}

/** The operations on one row inside one store transaction. */
export interface TccGuardTransaction<Db> {
  /** The store's transaction handle (a `pg.PoolClient` for PostgreSQL), for the user's work. */
  readonly db: Db;
  /** Inserts the row unless one exists (`INSERT ... ON CONFLICT DO NOTHING`): true when inserted. */
  insert(row: TccGuardInsert): Promise<boolean>;
  /** The conditional update (`UPDATE ... WHERE status IN (...) RETURNING`): the updated row, if any. */
  update(update: TccGuardUpdate): Promise<TccGuardRow | undefined>;
  /** Reads the row. */
  get(): Promise<TccGuardRow | undefined>;
}

/** Where guard rows live. */
export interface TccGuardStore<Db = unknown> {
  /** A name for logs, e.g. `memory`, `postgres "tcc"."guard"`. */
  readonly name: string;
  /**
   * Runs `work` in one transaction on the row `key`: committed when `work` resolves, rolled back
   * when it rejects (the rejection is passed on).
   */
  transaction<T>(key: TccGuardKey, work: (tx: TccGuardTransaction<Db>) => Promise<T>): Promise<T>;
  /** Up to `limit` keys of TRIED rows of these resources that lapsed at `now`. */
  expired(now: number, resources: readonly string[], limit: number): Promise<TccGuardKey[]>;
  /** Deletes up to `limit` rows in `statuses` last updated before `before`; returns how many. */
  deleteBatch(statuses: readonly TccGuardStatus[], before: number, limit: number): Promise<number>;
}

const keyOf = (key: TccGuardKey): string => JSON.stringify([key.transaction, key.branch]);

/**
 * An in-memory guard store with the semantics of the PostgreSQL one: a transaction's first write to
 * a row waits for, then holds, the row's lock until it ends (so writers of one row run one at a
 * time, as a database serializes them), reads see committed rows, and a transaction whose work
 * rejects leaves the row as it was. For
 * tests and single-instance services; rows are lost on restart. Its transaction handle is
 * `undefined`.
 */
export function memoryGuardStore(): TccGuardStore<undefined> & {
  readonly rows: ReadonlyMap<string, TccGuardRow>;
} {
  const rows = new Map<string, TccGuardRow>();
  const locks = new Map<string, Promise<void>>();

  const lapsed = (row: TccGuardRow, at: number) => row.expiresAt !== undefined && row.expiresAt <= at;

  return {
    name: 'memory',
    rows,
    async transaction(key, work) {
      const id = keyOf(key);
      // Like a database at READ COMMITTED: reads see committed rows; the first write takes the
      // row's lock (waiting for the transaction that holds it) and keeps it until the end.
      let release: (() => void) | undefined;
      let tail: Promise<void> | undefined;
      const lock = async () => {
        if (tail !== undefined) return;
        const before = locks.get(id) ?? Promise.resolve();
        const mine = new Promise<void>((resolve) => {
          release = resolve;
        });
        tail = before.then(() => mine);
        locks.set(id, tail);
        await before;
      };
      // Writes stay staged until the work resolves, so a rejected work leaves no trace.
      let staged: TccGuardRow | undefined | null = null;
      const current = () => (staged === null ? rows.get(id) : staged);
      const tx: TccGuardTransaction<undefined> = {
        db: undefined,
        async insert(row) {
          await lock();
          if (current() !== undefined) return false;
          staged = {
            ...key,
            resource: row.resource,
            status: row.status,
            payload: row.payload,
            result: undefined,
            expiresAt: row.expiresAt,
            createdAt: row.now,
            updatedAt: row.now,
          };
          return true;
        },
        async update(update) {
          await lock();
          const row = current();
          if (row === undefined || !update.from.includes(row.status)) return undefined;
          if (update.notExpiredAt !== undefined && lapsed(row, update.notExpiredAt)) return undefined;
          if (update.expiredAt !== undefined && !lapsed(row, update.expiredAt)) return undefined;
          staged = {
            ...row,
            status: update.to,
            updatedAt: update.now,
            ...('result' in update ? { result: update.result } : {}),
          };
          return staged;
        },
        async get() {
          return current();
        },
      };
      try {
        const result = await work(tx);
        if (staged !== null) rows.set(id, staged);
        return result;
      } finally {
        release?.();
        if (tail !== undefined && locks.get(id) === tail) locks.delete(id);
      }
    },
    async expired(now, resources, limit) {
      const found: TccGuardKey[] = [];
      for (const row of rows.values()) {
        if (found.length >= limit) break;
        if (row.status === TccGuardStatus.Tried && lapsed(row, now) && resources.includes(row.resource)) {
          found.push({ transaction: row.transaction, branch: row.branch });
        }
      }
      return found;
    },
    async deleteBatch(statuses, before, limit) {
      let deleted = 0;
      for (const [id, row] of rows) {
        if (deleted >= limit) break;
        if (statuses.includes(row.status) && row.updatedAt < before && !locks.has(id)) {
          rows.delete(id);
          deleted += 1;
        }
      }
      return deleted;
    },
  };
}
