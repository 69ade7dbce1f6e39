/**
 * The logger every Cascade component accepts.
 *
 * Pass a {@link Logger} (pino, winston and the console all fit with a few lines), or get the
 * default: warnings and errors to stderr, one line each, nothing for debug and info (see
 * {@link formatLogLine}); `logger: noopLogger` silences a component. Every record passes through
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

/**
 * A logger that drops everything: `logger: noopLogger` silences a component (and, as its
 * connection's logger, kafkajs' own logging too).
 */
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

const levelLabels: Record<LogLevel, string> = {
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
};

/**
 * `JSON.stringify` of `meta` that never throws and stays short where a value would not: a
 * `bigint` as its digits, a `Buffer` as its length (not a list of every byte).
 */
function metaJson(meta: LogMeta): string {
  try {
    return JSON.stringify(meta, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      if (Buffer.isBuffer(raw)) return `[Buffer: ${raw.length} bytes]`;
      return typeof value === 'bigint' ? value.toString() : value;
    });
  } catch (error) {
    return JSON.stringify({ unserializableMeta: String(error) });
  }
}

/**
 * The line the default logger writes for a record (`meta` already redacted, as a
 * {@link LogSink} receives it): time, level, `cascade:`, the message on one line, then `meta` as
 * JSON when there is any, errors in it in their {@link SerializedError} form.
 *
 * @example
 * ```text
 * 2025-05-01T09:30:00.000Z WARN  cascade: Record dead-lettered. {"groupId":"billing","topic":"orders","partition":0,"offset":"42","target":"orders.DLT","error":{"name":"Error","message":"bad card",...}}
 * ```
 * @internal
 */
export function formatLogLine(level: LogLevel, message: string, meta: LogMeta, now = new Date()): string {
  const text = message.replace(/[\r\n]+/g, ' ');
  const context = Object.keys(meta).length === 0 ? '' : ` ${metaJson(meta)}`;
  return `${now.toISOString()} ${levelLabels[level]} cascade: ${text}${context}\n`;
}

/** Writes a record to stderr as {@link formatLogLine} gives it; a failing stderr is ignored. */
const stderrSink: LogSink = (level, message, meta) => {
  try {
    process.stderr.write(formatLogLine(level, message, meta));
  } catch {
    // Logging never breaks the caller.
  }
};

/**
 * The logger a Cascade component uses when given none: warnings and errors to stderr, one line
 * each ({@link formatLogLine}), debug and info dropped, redacted like every record. Pass your
 * own logger to change level or destination, or {@link noopLogger} to silence it.
 */
export const defaultLogger: Logger = createLogger(stderrSink, { level: 'warn' });

/**
 * Wraps a user-supplied logger so every record is redacted, whatever the logger does with it,
 * and errors in `meta` arrive as {@link SerializedError}s. Cascade components call this on the
 * logger they are given: no logger gives {@link defaultLogger}, {@link noopLogger} stays itself.
 * Wrapping a {@link createLogger} logger again is harmless: a serialized error passes through
 * unchanged.
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined || logger === defaultLogger) return defaultLogger;
  if (logger === noopLogger) return noopLogger;
  return createLogger((level, message, meta) => logger[level](message, meta), { level: 'debug' });
}
