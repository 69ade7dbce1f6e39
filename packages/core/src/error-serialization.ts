/**
 * The plain, JSON-ready form of an error: what a log sink receives for an `Error` in `meta`, and
 * what `CascadeError.toJSON()` returns. `JSON.stringify(new Error('x'))` gives `{}`; this form
 * keeps the name, code, message, retriable flag, cause chain and a bounded stack, with secrets
 * removed and every part bounded, so a dead-letter log line says why.
 *
 * @example
 * ```ts
 * import { serializeError, TimeoutError } from '@cascade/core';
 *
 * const error = new Error('send failed', { cause: new TimeoutError('Producing to orders', 30_000) });
 * JSON.stringify(serializeError(error));
 * // {"name":"Error","message":"send failed","cause":{"name":"TimeoutError","code":"CASCADE_TIMEOUT",
 * //  "message":"Producing to orders did not finish within 30000 ms.","retriable":true,
 * //  "timeoutMs":30000,"stack":"TimeoutError: ...\n    at ..."},"stack":"Error: send failed\n    at ..."}
 * ```
 * @module
 */

import { isSecretKey, REDACTED, redactText } from './redact.js';

/** A JSON value inside a {@link SerializedError}: a non-`Error` cause, or a marker string. */
export type SerializedValue =
  | string
  | number
  | boolean
  | null
  | SerializedError
  | readonly SerializedValue[]
  | { readonly [key: string]: SerializedValue };

/**
 * The plain form of an error, as {@link serializeError} builds it. Key order is name, code,
 * message, retriable, other fields, errors, cause, stack.
 *
 * Besides the named members it holds the error's other own enumerable fields whose values are
 * primitives (a Cascade error's `topic`, `partition`, `offset`, `field`, `schemaId`, `url`,
 * `status`...; a Node system error's `errno`, `syscall`, `address`, `port`; a kafkajs error's
 * `type`, `helpUrl`, `broker`): strings cut to {@link errorSerializationLimits}`.maxFieldChars`,
 * a bigint as its decimal string, fields that name a secret as `[redacted]`. Object-valued fields
 * are left out (the error's `cause` and `errors` excepted).
 *
 * The object is plain (`Object.prototype`, nothing but JSON values); `String(serialized)` gives
 * `Name: message` like `Error.prototype.toString`, from a non-enumerable `toString`.
 */
export interface SerializedError {
  /** The error's `name`, e.g. `SchemaNotFoundError`; `Error` when it has none. */
  readonly name: string;
  /** The error's `code` when it is a string or a number (`CASCADE_...`, `ECONNREFUSED`, a Kafka error code). */
  readonly code?: string | number;
  /** The message, redacted, cut to `maxMessageChars`. */
  readonly message: string;
  /** The error's `retriable` when it is a boolean (Cascade and kafkajs errors). */
  readonly retriable?: boolean;
  /**
   * An `AggregateError`'s errors (any error with an `errors` array): at most `maxErrors`, then a
   * string `[N more]`.
   */
  readonly errors?: readonly SerializedValue[];
  /**
   * The cause: the same form for an `Error`; a string, number or boolean as is; an object as a
   * bounded plain copy. `[circular]` when the chain loops back, `[truncated]` past `maxDepth`.
   */
  readonly cause?: SerializedValue;
  /** The stack: its first line, then at most `maxStackFrames` frames, at most `maxStackChars`. */
  readonly stack?: string;
  readonly [field: string]: unknown;
}

/** The bounds of {@link serializeError}. */
export const errorSerializationLimits = {
  /** Nesting levels below the error (each `cause`, `errors` entry, object key or array item is one). */
  maxDepth: 5,
  /** Errors serialized in one call, all levels together; the rest become `[truncated]`. */
  maxNodes: 50,
  /** Entries kept of an `AggregateError`'s `errors` or of an array. */
  maxErrors: 10,
  /** Characters kept of a message (and of a string cause). */
  maxMessageChars: 4_000,
  /** Characters kept of a stack. */
  maxStackChars: 4_000,
  /** Frames (`    at ...` lines) kept of a stack. */
  maxStackFrames: 20,
  /** Other fields kept per error, and keys per object. */
  maxFields: 20,
  /** Characters kept of a field's string value (and of a string inside a cause object). */
  maxFieldChars: 1_000,
} as const;

const limits = errorSerializationLimits;
const serializedBrand = Symbol.for('cascade.serialized-error');
const reservedFields = new Set(['name', 'message', 'stack', 'cause', 'code', 'retriable', 'errors']);
/** Text longer than this is cut before redaction, to bound the cost of a huge message. */
const maxRedactedInput = 100_000;
const circular = '[circular]';
const truncated = '[truncated]';

/** Whether `value` is an `Error` (also one from another realm, where `instanceof` fails). */
export function isError(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      Object.prototype.toString.call(value) === '[object Error]')
  );
}

/** Whether `value` was made by {@link serializeError} (from any installed copy of Cascade). */
export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && serializedBrand in value;
}

/** Redacts `text`, then cuts it to `max` characters, saying how many were left out. */
function bounded(text: string, max: number): string {
  const input = text.length > maxRedactedInput ? text.slice(0, maxRedactedInput) : text;
  const redacted = redactText(input);
  if (redacted.length <= max && input === text) return redacted;
  let end = Math.min(max, redacted.length);
  const last = redacted.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // never split a surrogate pair
  const omitted = redacted.length - end + (text.length - input.length);
  return `${redacted.slice(0, end)}… [${omitted} more characters]`;
}

/** The first line of a stack (`Name: message`, cut), then its frames, bounded. */
function boundStack(stack: string): string {
  const lines = stack.split('\n');
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  // The message's further lines sit between the first line and the first frame: `message` has them.
  const head = firstFrame > 0 ? [bounded(lines[0] ?? '', 200)] : [];
  const frames = firstFrame > 0 ? lines.slice(firstFrame) : lines;
  const kept = frames.slice(0, limits.maxStackFrames);
  if (frames.length > kept.length) kept.push(`    ... ${frames.length - kept.length} more`);
  return bounded([...head, ...kept].join('\n'), limits.maxStackChars);
}

/** Reads a property that may be a throwing getter. */
function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** Sets an own enumerable property, also one named `__proto__`. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function primitiveField(value: unknown): string | number | boolean | null | undefined {
  switch (typeof value) {
    case 'string':
      return bounded(value, limits.maxFieldChars);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    default:
      return value === null ? null : undefined;
  }
}

interface Walk {
  readonly ancestors: Set<object>;
  nodes: number;
}

function describeObject(value: object): string | undefined {
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[ArrayBuffer ${value.byteLength} bytes]`;
  if (value instanceof Map) return `[Map ${value.size} entries]`;
  if (value instanceof Set) return `[Set ${value.size} entries]`;
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet)
    return `[${value.constructor.name}]`;
  return undefined;
}

/** At most `maxErrors` items of `array`, each at `depth`, then `[N more]`. */
function plainList(array: readonly unknown[], depth: number, walk: Walk): SerializedValue[] {
  const items = array.slice(0, limits.maxErrors).map((item) => plain(item, depth, walk) ?? null);
  if (array.length > items.length) items.push(`[${array.length - items.length} more]`);
  return items;
}

/** A bounded, redacted, JSON-ready copy of any value found under an error, at nesting `depth`. */
function plain(value: unknown, depth: number, walk: Walk): SerializedValue | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'string':
      return bounded(value, limits.maxFieldChars);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (isSerializedError(object)) return object;
  if (depth > limits.maxDepth) return truncated;
  if (walk.ancestors.has(object)) return circular;
  if (isError(object)) return serializeNode(object, depth, walk);
  const described = describeObject(object);
  if (described !== undefined) return described;
  walk.ancestors.add(object);
  try {
    const toJSON = read(object, 'toJSON');
    if (typeof toJSON === 'function') {
      try {
        return plain(toJSON.call(object), depth, walk) ?? null;
      } catch {
        return '[unserializable]';
      }
    }
    if (Array.isArray(object)) return plainList(object, depth + 1, walk);
    const out: Record<string, SerializedValue> = {};
    const keys = Object.keys(object);
    for (const key of keys.slice(0, limits.maxFields)) {
      const inner = isSecretKey(key) ? REDACTED : plain(read(object, key), depth + 1, walk);
      if (inner !== undefined) put(out, key, inner);
    }
    if (keys.length > limits.maxFields) put(out, truncated, `${keys.length - limits.maxFields} more keys`);
    return out;
  } finally {
    walk.ancestors.delete(object);
  }
}

/** Brands `out` as serialized and gives it `Error.prototype.toString`'s `Name: message`. */
function finish(out: Record<string, unknown>, name: string, message: string): SerializedError {
  Object.defineProperty(out, 'toString', {
    value: () => (message === '' ? name : `${name}: ${message}`),
    enumerable: false,
  });
  Object.defineProperty(out, serializedBrand, { value: true, enumerable: false });
  return out as SerializedError;
}

function serializeNode(error: Error, depth: number, walk: Walk): SerializedError | string {
  if (walk.nodes >= limits.maxNodes) return truncated;
  walk.nodes++;
  walk.ancestors.add(error);
  try {
    const rawName = read(error, 'name');
    const name = typeof rawName === 'string' && rawName !== '' ? bounded(rawName, 200) : 'Error';
    const rawMessage = read(error, 'message');
    const message = bounded(
      typeof rawMessage === 'string' ? rawMessage : String(rawMessage ?? ''),
      limits.maxMessageChars,
    );
    const out: Record<string, unknown> = { name };
    const code = read(error, 'code');
    if (typeof code === 'string') out.code = bounded(code, 200);
    else if (typeof code === 'number') out.code = code;
    out.message = message;
    const retriable = read(error, 'retriable');
    if (typeof retriable === 'boolean') out.retriable = retriable;

    let fields = 0;
    for (const key of Object.keys(error)) {
      if (reservedFields.has(key) || fields >= limits.maxFields) continue;
      const value = isSecretKey(key) ? REDACTED : primitiveField(read(error, key));
      if (value === undefined) continue;
      put(out, key, value);
      fields++;
    }

    const errors = read(error, 'errors');
    if (Array.isArray(errors)) out.errors = plainList(errors, depth + 1, walk);
    const cause = read(error, 'cause');
    if (typeof cause === 'string') out.cause = bounded(cause, limits.maxMessageChars);
    else if (cause !== undefined) out.cause = plain(cause, depth + 1, walk) ?? null;
    const stack = read(error, 'stack');
    if (typeof stack === 'string') out.stack = boundStack(stack);
    return finish(out, name, message);
  } finally {
    walk.ancestors.delete(error);
  }
}

/**
 * The plain, JSON-ready, redacted and bounded form of `error` (see {@link SerializedError}).
 *
 * - the cause chain and an `AggregateError`'s errors are followed to
 *   {@link errorSerializationLimits}`.maxDepth` levels and `.maxNodes` errors in all; a chain
 *   that loops back ends in `[circular]`, one that goes deeper in `[truncated]`;
 * - messages, stacks and string fields go through {@link redactText}; fields and object keys that
 *   name a secret (password, token, sasl, authorization, ...) become `[redacted]`;
 * - a thrown value that is not an `Error` gives `{ name: 'NonError', message }`, the message
 *   being the string itself or the JSON of a bounded copy; a form already serialized comes back
 *   as is.
 *
 * Never throws.
 */
export function serializeError(error: unknown): SerializedError {
  if (isSerializedError(error)) return error;
  try {
    if (isError(error)) {
      const serialized = serializeNode(error, 0, { ancestors: new Set(), nodes: 0 });
      if (typeof serialized !== 'string') return serialized;
    }
    const value = plain(error, 0, { ancestors: new Set(), nodes: 0 });
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    const message = bounded(text, limits.maxMessageChars);
    return finish({ name: 'NonError', message }, 'NonError', message);
  } catch {
    return finish({ name: 'Error', message: '[unserializable error]' }, 'Error', '[unserializable error]');
  }
}
