/**
 * The logger every Cascade component accepts.
 *
 * Cascade never writes to the console on its own: pass a {@link Logger} (pino, winston and the
 * console all fit with a few lines) or get the no-op default. Every record passes through
 * {@link redactSecrets} first, so a SASL password or registry credential put into `meta` by
 * mistake is never written.
 * @module
 */

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

const secretKey =
  /pass(word|phrase)?|secret|token|authorization|credential|api[-_]?key|sasl|private[-_]?key/i;
const urlUserInfo = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(:[^/@\s]*)?@/gi;

/** The text that stands in for a redacted value. */
export const REDACTED = '[redacted]';

/**
 * Removes credentials from a URL string: `https://user:pw@host` becomes `https://[redacted]@host`.
 * Strings without user info come back unchanged.
 */
export function redactUrl(text: string): string {
  return text.replace(urlUserInfo, `$1${REDACTED}@`);
}

/**
 * Returns a copy of `meta` in which every value under a secret-looking key (password, token,
 * secret, authorization, sasl, credentials, api key, private key) is replaced by `[redacted]`,
 * and credentials inside URL strings are removed. Walks nested objects and arrays; leaves
 * `Error` instances whole except for their message's URLs.
 */
export function redactSecrets(meta: LogMeta): LogMeta {
  const seen = new WeakSet<object>();
  const visit = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return redactUrl(value);
    if (typeof value !== 'object' || value === null || depth > 8) return value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (value instanceof Error) return value;
    if (Array.isArray(value)) return value.map((item) => visit(item, depth + 1));
    if (Buffer.isBuffer(value) || value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = secretKey.test(key) && inner !== undefined ? REDACTED : visit(inner, depth + 1);
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
 *
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
      sink(level, redactUrl(message), redactSecrets({ ...base, ...meta }));
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
 * Wraps a user-supplied logger so every record is redacted, whatever the logger does with it.
 * Cascade components call this on the logger they are given.
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined || logger === noopLogger) return noopLogger;
  return createLogger((level, message, meta) => logger[level](message, meta), { level: 'debug' });
}
