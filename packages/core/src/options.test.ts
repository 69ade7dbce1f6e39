import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import {
  describeValue,
  requireBrokers,
  requireInteger,
  requireNonEmptyString,
  requireOneOf,
} from './options.js';

describe('option helpers', () => {
  it('accept valid values and return them', () => {
    expect(requireInteger('n', 5, 0, 10)).toBe(5);
    expect(requireNonEmptyString('s', 'x')).toBe('x');
    expect(requireOneOf('m', 'key', ['partition', 'key'])).toBe('key');
    expect(requireBrokers('brokers', [' 127.0.0.1:9092', 'kafka-1.internal:19092', '[::1]:9092'])).toEqual([
      '127.0.0.1:9092',
      'kafka-1.internal:19092',
      '[::1]:9092',
    ]);
  });

  it('throw a ConfigError naming the field and what was wrong', () => {
    expect(() => requireInteger('producer.lingerMs', -1, 0)).toThrowError(
      new ConfigError('producer.lingerMs', 'expected an integer >= 0, got -1.'),
    );
    expect(() => requireInteger('acks', 1.5, 0, 3)).toThrow(
      'Invalid option acks: expected an integer between 0 and 3, got 1.5.',
    );
    expect(() => requireNonEmptyString('clientId', '  ')).toThrow(
      'Invalid option clientId: expected a non-empty string, got "  ".',
    );
    expect(() => requireOneOf('mode', 'fast', ['partition', 'key'])).toThrow(
      "Invalid option mode: expected one of 'partition', 'key', got \"fast\".",
    );
  });

  it('reject broker lists that are empty or not host:port', () => {
    expect(() => requireBrokers('brokers', [])).toThrow(ConfigError);
    expect(() => requireBrokers('brokers', 'localhost:9092')).toThrow(ConfigError);
    for (const bad of ['localhost', 'localhost:0', 'localhost:70000', 'kafka://h:9092', 42]) {
      try {
        requireBrokers('brokers', ['ok:1', bad]);
        expect.unreachable(`accepted ${String(bad)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).field).toBe('brokers[1]');
      }
    }
  });

  it('describe values without printing long strings', () => {
    expect(describeValue('x'.repeat(61))).toBe('a 61-character string');
    expect(describeValue([1, 2])).toBe('an array of 2');
    expect(describeValue({ password: 'p' })).toBe('a object');
    expect(describeValue(undefined)).toBe('undefined');
  });
});
