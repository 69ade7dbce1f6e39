/**
 * Helpers for resolving options once, at the edge: each Cascade component turns its input
 * options into a fully-resolved, validated object with `resolveXOptions(input)`, and throws a
 * {@link ConfigError} naming the field when a value is wrong. Library code never reads
 * `process.env` for defaults.
 * @module
 */

import { ConfigError } from './errors.js';

/** Checks that `value` is an integer in `[min, max]`, else throws a `ConfigError` naming `field`. */
export function requireInteger(
  field: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(field, `expected an integer ${range}, got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks that `value` is a duration in milliseconds (a non-negative integer). */
export function requireDurationMs(field: string, value: number, min = 0): number {
  return requireInteger(field, value, min);
}

/** Checks that `value` is a non-empty string (after trimming), else throws a `ConfigError`. */
export function requireNonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(field, `expected a non-empty string, got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks that `value` is one of `allowed`, else throws a `ConfigError` listing them. */
export function requireOneOf<const T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(
      field,
      `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}.`,
    );
  }
  return value as T;
}

/**
 * Checks a list of `host:port` bootstrap addresses.
 * @returns the addresses, trimmed.
 */
export function requireBrokers(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(
      field,
      `expected a non-empty array of "host:port" strings, got ${describeValue(value)}.`,
    );
  }
  return value.map((entry, index) => {
    const text = typeof entry === 'string' ? entry.trim() : '';
    const match = /^(\[[0-9a-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/i.exec(text);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65_535) {
      throw new ConfigError(`${field}[${index}]`, `expected "host:port", got ${describeValue(entry)}.`);
    }
    return text;
  });
}

/** A short, secret-free description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 60 ? `a ${value.length}-character string` : `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}
