import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  brandErrorClass,
  CascadeError,
  ClosedError,
  ConfigError,
  CoreErrorCodes,
  findCascadeError,
  isCascadeError,
  isRetriable,
  TimeoutError,
} from './errors.js';

describe('Cascade errors', () => {
  it('give each class its declared code at runtime', () => {
    expect(new ConfigError('x', 'bad').code).toBe(CoreErrorCodes.Config);
    expect(new ClosedError('producer', 'send').code).toBe(CoreErrorCodes.Closed);
    expect(new TimeoutError('send', 5).code).toBe(CoreErrorCodes.Timeout);
    expect(new AbortedError('send').code).toBe(CoreErrorCodes.Aborted);
  });

  it('name errors after their class and keep the native cause', () => {
    const cause = new Error('socket closed');
    const error = new TimeoutError('Fetching metadata', 1_000, { cause });
    expect(error.name).toBe('TimeoutError');
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Fetching metadata did not finish within 1000 ms.');
    expect(error.retriable).toBe(true);
    expect(error.timeoutMs).toBe(1_000);
  });

  it('name the field in a ConfigError', () => {
    const error = new ConfigError('producer.lingerMs', 'expected an integer >= 0, got -1.');
    expect(error.field).toBe('producer.lingerMs');
    expect(error.message).toBe('Invalid option producer.lingerMs: expected an integer >= 0, got -1.');
    expect(error.retriable).toBe(false);
  });

  it('recognise an error made by a duplicate install of the same class through instanceof', () => {
    // A second copy of @cascade/core defines its own classes; only the Symbol.for brands match.
    abstract class OtherCascadeError extends Error {
      abstract readonly code: string;
    }
    Object.defineProperty(OtherCascadeError.prototype, Symbol.for('cascade.error'), { value: true });
    class ConfigErrorCopy extends OtherCascadeError {
      readonly code = 'CASCADE_CONFIG';
    }
    Object.defineProperty(ConfigErrorCopy, 'name', { value: 'ConfigError' });
    brandErrorClass(
      ConfigErrorCopy as unknown as abstract new (
        ...args: never[]
      ) => CascadeError,
      '@cascade/core',
    );
    const copy = new ConfigErrorCopy('from the other copy');

    expect(copy instanceof ConfigError).toBe(true);
    expect(copy instanceof CascadeError).toBe(true);
    expect(copy instanceof TimeoutError).toBe(false);
    expect(isCascadeError(copy)).toBe(true);
    expect(new Error('plain') instanceof CascadeError).toBe(false);
    expect(new ConfigError('a', 'b') instanceof ClosedError).toBe(false);
  });

  it('keep two classes of one name in different packages apart', () => {
    class SameName extends CascadeError {
      readonly code = 'CASCADE_A';
      constructor() {
        super('a', false);
      }
    }
    const First = SameName;
    brandErrorClass(First, '@cascade/first');
    const second = (() => {
      class SameName extends CascadeError {
        readonly code = 'CASCADE_B';
        constructor() {
          super('b', false);
        }
      }
      brandErrorClass(SameName, '@cascade/second');
      return SameName;
    })();
    expect(new First() instanceof second).toBe(false);
    expect(new second() instanceof First).toBe(false);
    expect(new First() instanceof First).toBe(true);
    // A subclass nobody branded does not inherit its parent's brand.
    class Unbranded extends First {}
    expect(new First() instanceof Unbranded).toBe(false);
  });

  it('find the first Cascade error through causes and aggregate errors', () => {
    const timeout = new TimeoutError('send', 10);
    const wrapped = new Error('outer', { cause: new Error('middle', { cause: timeout }) });
    const aggregate = new AggregateError([new Error('plain'), wrapped]);
    expect(findCascadeError(wrapped)).toBe(timeout);
    expect(findCascadeError(aggregate)).toBe(timeout);
    expect(findCascadeError(new Error('nothing'))).toBeUndefined();
    const cyclic = new Error('cycle') as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    expect(findCascadeError(cyclic)).toBeUndefined();
  });

  it('treat unknown errors as not retriable and walk causes for known ones', () => {
    expect(isRetriable(new Error('unknown'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
    expect(isRetriable(new TimeoutError('send', 10))).toBe(true);
    expect(isRetriable(new Error('outer', { cause: new TimeoutError('send', 10) }))).toBe(true);
    expect(isRetriable(new Error('outer', { cause: new ConfigError('a', 'b') }))).toBe(false);
  });

  it('call an aggregate retriable only when every error in it is', () => {
    const retriable = new TimeoutError('a', 1);
    expect(isRetriable(new AggregateError([retriable, new TimeoutError('b', 1)]))).toBe(true);
    expect(isRetriable(new AggregateError([retriable, new ConfigError('c', 'd')]))).toBe(false);
    expect(isRetriable(new AggregateError([]))).toBe(false);
  });
});
