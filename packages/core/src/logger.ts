/**
 * The logger every Cascade component accepts.
 *
 * Cascade never writes to the console on its own: pass a {@link Logger} (pino, winston and the
 * console all fit with a few lines) or get the no-op default. Every record passes through
 * {@link redactSecrets} first, so a SASL password or registry credential put into `meta` by
 * mistake is never written, and an `Error` in `meta` reaches the sink as a plain, JSON-ready
 * {@link SerializedError} (a JSON-lines sink writes its name, code, message, cause chain and
 * stack instead of `{}`).
 * @module
 */

import { isError, isSerializedError, serializeError } from './error-serialization.js';
import { isSecretKey, REDACTED, redactText } from './redact.js';

/** Structured context attached to a log record. */
export type LogMeta = Readonly<Record<string, unknown>>;

/** Log levels, lowest first. */
export const LogLevels = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LogLevels}. */
export type LogLevel = (typeof LogLevels)[number];

/** A structured logger. `child(meta)` returns a logger that adds `meta` to every record. */
export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  child(meta: LogMeta): Logger;
}

const noop = (): void => {};

/** A logger that drops everything. The default of every Cascade component. */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
};

/** Nesting levels of `meta` walked; deeper objects become `[truncated]`. */
const maxMetaDepth = 8;

/**
 * Returns a copy of `meta` ready for a sink: every value under a secret-looking key (password,
 * token, secret, authorization, sasl, credentials, api key, private key) is replaced by
 * `[redacted]`, every string goes through {@link redactText} (credentials in URLs, `Basic` and
 * `Bearer` tokens, echoed `Authorization` headers, `password=` parameters), and every `Error`, at
 * any depth, becomes its plain {@link SerializedError} form (name, code, message, retriable,
 * fields, cause chain, bounded stack; see {@link serializeError}), so a sink that writes
 * `JSON.stringify(meta)` shows it instead of `{}`. Walks nested objects and arrays to 8 levels
 * (deeper ones become `[truncated]`, an object met again `[circular]`); keeps `Buffer`s and
 * `Date`s whole.
 */
export function redactSecrets(meta: LogMeta): LogMeta {
  const seen = new WeakSet<object>();
  const visit = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return redactText(value);
    if (typeof value !== 'object' || value === null) return value;
    if (isError(value) || isSerializedError(value)) return serializeError(value);
    if (Buffer.isBuffer(value) || value instanceof Date) return value;
    if (depth > maxMetaDepth) return '[truncated]';
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((item) => visit(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: isSecretKey(key) && inner !== undefined ? REDACTED : visit(inner, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return visit(meta, 0) as LogMeta;
}

/** A sink for log records: where {@link createLogger} writes. */
export type LogSink = (level: LogLevel, message: string, meta: LogMeta) => void;

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /**
   * Records below this level are dropped before they reach the sink.
   * @default 'info'
   */
  readonly level?: LogLevel;
  /** Context added to every record. */
  readonly meta?: LogMeta;
}

/**
 * Builds a {@link Logger} on a sink, with level filtering, child context and secret redaction.
 * The sink receives the message through {@link redactText} and `meta` through
 * {@link redactSecrets}: errors in it as {@link SerializedError}s, plain JSON values.
 *
 * @example
 * ```ts
 * // JSON lines: an error in meta is written as {"name":...,"code":...,"message":...,"cause":...}
 * const logger = createLogger((level, message, meta) =>
 *   process.stdout.write(`${JSON.stringify({ level, message, ...meta })}\n`),
 * );
 * ```
 * @example
 * ```ts
 * import pino from 'pino';
 * const log = pino();
 * const logger = createLogger((level, msg, meta) => log[level](meta, msg), { level: 'debug' });
 * ```
 */
export function createLogger(sink: LogSink, options: CreateLoggerOptions = {}): Logger {
  const threshold = LogLevels.indexOf(options.level ?? 'info');
  const base = options.meta ?? {};
  const emit =
    (level: LogLevel) =>
    (message: string, meta?: LogMeta): void => {
      if (LogLevels.indexOf(level) < threshold) return;
      sink(level, redactText(message), redactSecrets({ ...base, ...meta }));
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (meta) => createLogger(sink, { ...options, meta: { ...base, ...meta } }),
  };
}

/**
 * Wraps a user-supplied logger so every record is redacted, whatever the logger does with it,
 * and errors in `meta` arrive as {@link SerializedError}s. Cascade components call this on the
 * logger they are given. Wrapping a {@link createLogger} logger again is harmless: a serialized
 * error passes through unchanged.
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined || logger === noopLogger) return noopLogger;
  return createLogger((level, message, meta) => logger[level](message, meta), { level: 'debug' });
}
