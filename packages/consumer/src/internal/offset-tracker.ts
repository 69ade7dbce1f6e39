/**
 * Per-partition offset bookkeeping: which offsets are in flight, and the offset that is safe to
 * commit — the lowest offset not yet finished. A crash never skips an unfinished record.
 * @module
 */

/** Tracks one partition. Offsets are bigint so 64-bit offsets are exact. */
export class OffsetTracker {
  readonly #pending = new Set<bigint>();
  /** The next offset after every offset begun so far (the commit position when nothing is pending). */
  #high: bigint | undefined;
  #lastCommitted: bigint | undefined;

  /**
   * Records that `offset` has been handed to a handler. Offsets begin in increasing order; a
   * lower one (a seek, a re-delivery) is accepted only when nothing is pending.
   */
  begin(offset: bigint): void {
    if (this.#high !== undefined && offset < this.#high && this.#pending.size > 0) {
      throw new RangeError(
        `offset ${offset} begun after ${this.#high - 1n} while earlier offsets are pending`,
      );
    }
    this.#pending.add(offset);
    this.#high = offset + 1n;
  }

  /**
   * Takes back everything begun from `offset` on, finished or not: the position returns to
   * `offset`, so those records are read and begun again (at least once). For a batch given up
   * before it finished (the generation ends, or its processing failed unexpectedly): left
   * pending, its offsets would refuse their own re-delivery and hold the commit for good.
   */
  rewind(offset: bigint): void {
    for (const pending of this.#pending) if (pending >= offset) this.#pending.delete(pending);
    if (this.#high !== undefined && offset < this.#high) this.#high = offset;
  }

  /** Records that `offset` is finished (handled, skipped or dead-lettered). */
  complete(offset: bigint): void {
    this.#pending.delete(offset);
  }

  /**
   * Moves the position past `offset` when nothing before it is pending (e.g. past the control
   * record that ends a transactional batch, which never reaches a handler).
   */
  skipTo(nextOffset: bigint): void {
    if (this.#high === undefined || nextOffset > this.#high) this.#high = nextOffset;
  }

  /** How many offsets are in flight. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * The offset to commit (the next one to read): the lowest pending offset, or the end of what
   * was begun when nothing is pending. `undefined` before anything was begun.
   */
  committable(): bigint | undefined {
    let lowest: bigint | undefined;
    for (const offset of this.#pending) if (lowest === undefined || offset < lowest) lowest = offset;
    return lowest ?? this.#high;
  }

  /** The committable offset if it moved since the last {@link markCommitted}, else `undefined`. */
  toCommit(): bigint | undefined {
    const next = this.committable();
    if (next === undefined) return undefined;
    if (this.#lastCommitted !== undefined && next <= this.#lastCommitted) return undefined;
    return next;
  }

  /** Notes that `offset` was committed. */
  markCommitted(offset: bigint): void {
    if (this.#lastCommitted === undefined || offset > this.#lastCommitted) this.#lastCommitted = offset;
  }

  /** The last committed offset, if any commit happened. */
  get lastCommitted(): bigint | undefined {
    return this.#lastCommitted;
  }
}
