/**
 * The Cascade error model.
 *
 * Every error a Cascade package throws extends {@link CascadeError}: it has a stable, prefixed
 * `code`, a `retriable` flag that says whether trying the same operation again may succeed, a
 * native `cause`, and context in readonly fields. Identity survives duplicate installs of a
 * package (two copies of `@cascade/core` in one `node_modules`): `instanceof` and the guards
 * below check a `Symbol.for` brand, not object identity of the class.
 *
 * @example
 * ```ts
 * try {
 *   await producer.send(record);
 * } catch (error) {
 *   if (isRetriable(error)) scheduleRetry();
 *   else deadLetter(error);
 * }
 * ```
 * @module
 */

import { type SerializedError, serializeError } from './error-serialization.js';

const brand: unique symbol = Symbol.for('cascade.error');
const classBrandPrefix = 'cascade.error.class:';
/** The static field of a branded class that holds its brand's key. */
const classBrandKey: unique symbol = Symbol.for('cascade.error.classBrand');

/** A Cascade error code: a string with the `CASCADE_` prefix, declared `as const` by each package. */
export type CascadeErrorCode = `CASCADE_${string}`;

/** The codes of the errors declared in `@cascade/core`. */
export const CoreErrorCodes = {
  Config: 'CASCADE_CONFIG',
  Closed: 'CASCADE_CLOSED',
  Timeout: 'CASCADE_TIMEOUT',
  Aborted: 'CASCADE_ABORTED',
  State: 'CASCADE_STATE',
} as const;

/** One of {@link CoreErrorCodes}. */
export type CoreErrorCode = (typeof CoreErrorCodes)[keyof typeof CoreErrorCodes];

/** Options every Cascade error accepts. */
export interface CascadeErrorOptions {
  /** The error that caused this one; kept as the native `Error.cause`. */
  readonly cause?: unknown;
}

/**
 * The base class of every Cascade error.
 *
 * Subclasses declare `readonly code = '...' as const` and pass `retriable` to this constructor.
 * `name` is the subclass name, so logs read `SchemaNotFoundError: ...`.
 */
export abstract class CascadeError extends Error {
  /** The stable, machine-readable error code. */
  abstract readonly code: CascadeErrorCode;
  /** Whether the same operation may succeed if tried again (a transient fault). */
  readonly retriable: boolean;

  protected constructor(message: string, retriable: boolean, options?: CascadeErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = retriable;
  }

  /**
   * The plain form of this error for `JSON.stringify`: name, code, message, retriable, the
   * context fields (topic, partition, field...), the cause chain and a bounded stack, with
   * secrets removed. The same form a log sink receives; see {@link serializeError}.
   *
   * @example
   * ```ts
   * JSON.stringify(new ConfigError('producer.lingerMs', 'expected an integer >= 0, got -5.'));
   * // {"name":"ConfigError","code":"CASCADE_CONFIG","message":"Invalid option producer.lingerMs: ...",
   * //  "retriable":false,"field":"producer.lingerMs","stack":"ConfigError: ...\n    at ..."}
   * ```
   */
  toJSON(): SerializedError {
    return serializeError(this);
  }

  static {
    Object.defineProperty(CascadeError.prototype, brand, { value: true });
    // `instanceof` that also recognises instances made by another copy of the same class (a
    // duplicate install), by the `Symbol.for` brand each Cascade error class carries. `this` is
    // the class `instanceof` was asked about, so it works for every subclass too.
    Object.defineProperty(CascadeError, Symbol.hasInstance, {
      value: function hasInstance(this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
        if (typeof value !== 'object' || value === null) return false;
        if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
        if (!(brand in value)) return false;
        if ((this as unknown) === CascadeError) return true;
        // Only a class branded itself has a brand; a subclass does not inherit its parent's.
        const key = Object.hasOwn(this, classBrandKey)
          ? (this as unknown as Record<symbol, string>)[classBrandKey]
          : undefined;
        return key !== undefined && Symbol.for(key) in value;
      },
    });
  }
}

/**
 * Brands a Cascade error class so `instanceof` works across duplicate installs of its package.
 * The brand is the package and the class name (`@cascade/producer/UnknownTopicError`): two
 * classes of one name in different packages stay different. Call it once after each class
 * declaration: `brandErrorClass(ConfigError, '@cascade/core')`.
 */
export function brandErrorClass(
  errorClass: abstract new (...args: never[]) => CascadeError,
  packageName: `@cascade/${string}`,
): void {
  const key = `${classBrandPrefix}${packageName}/${errorClass.name}`;
  Object.defineProperty(errorClass, classBrandKey, { value: key });
  Object.defineProperty(errorClass.prototype, Symbol.for(key), { value: true });
}

/** Whether `value` is a Cascade error (from any installed copy of Cascade). */
export function isCascadeError(value: unknown): value is CascadeError {
  return typeof value === 'object' && value !== null && brand in value;
}

/**
 * Finds the first Cascade error in `value`, its `cause` chain, or the errors of an
 * `AggregateError`, depth first. Returns `undefined` when there is none.
 */
export function findCascadeError(value: unknown): CascadeError | undefined {
  const seen = new Set<unknown>();
  const visit = (current: unknown): CascadeError | undefined => {
    if (typeof current !== 'object' || current === null || seen.has(current)) return undefined;
    seen.add(current);
    if (isCascadeError(current)) return current;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const found = visit(inner);
        if (found) return found;
      }
    }
    return visit((current as { cause?: unknown }).cause);
  };
  return visit(value);
}

/**
 * Whether retrying the failed operation may succeed.
 *
 * A Cascade error answers with its own `retriable`; another error answers with the first
 * Cascade error in its `cause` chain. An `AggregateError` is retriable only when every error it
 * holds is. Anything unknown is **not** retriable: retrying an error nobody classified hides bugs.
 */
export function isRetriable(value: unknown): boolean {
  if (isCascadeError(value)) return value.retriable;
  if (value instanceof AggregateError) {
    return value.errors.length > 0 && value.errors.every((inner) => isRetriable(inner));
  }
  if (typeof value === 'object' && value !== null && 'cause' in value) {
    return isRetriable((value as { cause?: unknown }).cause);
  }
  return false;
}

/** Contradictory, missing or malformed options. Names the offending field. Never retriable. */
export class ConfigError extends CascadeError {
  readonly code = CoreErrorCodes.Config;
  /** The option path that is wrong, e.g. `producer.lingerMs`. */
  readonly field: string;

  constructor(field: string, message: string, options?: CascadeErrorOptions) {
    super(`Invalid option ${field}: ${message}`, false, options);
    this.field = field;
  }
}
brandErrorClass(ConfigError, '@cascade/core');

/** A call on a component that has been closed (or is closing). Never retriable. */
export class ClosedError extends CascadeError {
  readonly code = CoreErrorCodes.Closed;
  /** The component that is closed, e.g. `producer`. */
  readonly component: string;

  constructor(component: string, operation: string, options?: CascadeErrorOptions) {
    super(`Cannot ${operation}: the ${component} is closed. Create a new one.`, false, options);
    this.component = component;
  }
}
brandErrorClass(ClosedError, '@cascade/core');

/** An operation that did not finish within its deadline. Retriable. */
export class TimeoutError extends CascadeError {
  readonly code = CoreErrorCodes.Timeout;
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number, options?: CascadeErrorOptions) {
    super(`${operation} did not finish within ${timeoutMs} ms.`, true, options);
    this.timeoutMs = timeoutMs;
  }
}
brandErrorClass(TimeoutError, '@cascade/core');

/**
 * A call made in a state that does not allow it: `subscribe()` after `start()`, `seek()` before
 * it, `start()` without a subscription, `context.send()` outside exactly-once mode. A bug of the
 * caller's: never retriable.
 */
export class StateError extends CascadeError {
  readonly code = CoreErrorCodes.State;
  /** The call that was refused, e.g. `subscribe`. */
  readonly operation: string;

  constructor(operation: string, message: string, options?: CascadeErrorOptions) {
    super(message, false, options);
    this.operation = operation;
  }
}
brandErrorClass(StateError, '@cascade/core');

/** An operation cancelled by its `AbortSignal`. Not retriable: the caller asked to stop. */
export class AbortedError extends CascadeError {
  readonly code = CoreErrorCodes.Aborted;

  constructor(operation: string, options?: CascadeErrorOptions) {
    super(`${operation} was aborted.`, false, options);
  }
}
brandErrorClass(AbortedError, '@cascade/core');
