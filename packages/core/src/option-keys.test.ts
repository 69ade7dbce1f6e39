import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import {
  isPlainObject,
  maxSuggestionDistance,
  optionKeyDistance,
  optionKeys,
  rejectUnknownKeys,
  retryPolicyKeys,
  suggestOptionKey,
} from './option-keys.js';
import type { RetryPolicy } from './retry.js';

const producerKeys = [
  'brokers',
  'clientId',
  'ssl',
  'sasl',
  'connectionTimeoutMs',
  'requestTimeoutMs',
  'retry',
  'logger',
  'key',
  'value',
  'lingerMs',
  'batchBytes',
  'acks',
  'idempotent',
  'deliveryTimeoutMs',
  'transactionalId',
  'compression',
];

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CASCADE_CONFIG');
    return error as ConfigError;
  }
  return expect.unreachable('no ConfigError was thrown');
}

/** A small seeded PRNG (mulberry32), so the property tests are the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A reference distance (the textbook full-table optimal string alignment), to check the fast one. */
function referenceDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

describe('rejectUnknownKeys', () => {
  it('accepts known keys, including known keys whose value is undefined', () => {
    const options = { lingerMs: 5, acks: undefined };
    expect(rejectUnknownKeys('producer', options, producerKeys)).toBe(options);
    expect(rejectUnknownKeys('producer', {}, producerKeys)).toEqual({});
    expect(rejectUnknownKeys('', Object.create(null), producerKeys)).toEqual({});
  });

  it('rejects an unknown key, naming its full path and listing the options when none is close', () => {
    const error = configError(() => rejectUnknownKeys('producer', { zzzzzz: 1 }, producerKeys));
    expect(error.field).toBe('producer.zzzzzz');
    expect(error.message).toBe(
      `Invalid option producer.zzzzzz: unknown option. The options of producer are: ${producerKeys.join(', ')}.`,
    );
  });

  it('rejects an unknown key whose value is undefined', () => {
    expect(
      configError(() => rejectUnknownKeys('producer', { lingerMS: undefined }, producerKeys)).field,
    ).toBe('producer.lingerMS');
  });

  it('suggests the key that differs only in case, saying names are case-sensitive', () => {
    const error = configError(() => rejectUnknownKeys('producer', { lingerMS: 10 }, producerKeys));
    expect(error.field).toBe('producer.lingerMS');
    expect(error.message).toBe(
      'Invalid option producer.lingerMS: unknown option (option names are case-sensitive). Did you mean lingerMs?',
    );
  });

  it('suggests the nearest key of a misspelt one', () => {
    const error = configError(() =>
      rejectUnknownKeys('kafka.sasl', { mechanism: 'plain', pasword: 'x' }, [
        'mechanism',
        'username',
        'password',
      ]),
    );
    expect(error.field).toBe('kafka.sasl.pasword');
    expect(error.message).toBe('Invalid option kafka.sasl.pasword: unknown option. Did you mean password?');
    expect(configError(() => rejectUnknownKeys('producer', { linger: 1 }, producerKeys)).message).toContain(
      'Did you mean lingerMs?',
    );
    expect(
      configError(() => rejectUnknownKeys('producer', { conectionTimeout: 1 }, producerKeys)).message,
    ).toContain('Did you mean connectionTimeoutMs?');
  });

  it("suggests an alias's key when no spelling is close, a spelling over an alias, and never an alias of another list", () => {
    const aliases = { retries: 'maximumAttempts', maxRetryTime: 'maximumIntervalMs' };
    expect(
      configError(() => rejectUnknownKeys('kafka.retry', { retries: 3 }, retryPolicyKeys, aliases)).message,
    ).toBe('Invalid option kafka.retry.retries: unknown option. Did you mean maximumAttempts?');
    expect(
      configError(() => rejectUnknownKeys('r', { maximumAttempt: 3 }, retryPolicyKeys, aliases)).message,
    ).toContain('Did you mean maximumAttempts?');
    expect(
      configError(() => rejectUnknownKeys('p', { retries: 3 }, ['lingerMs'], aliases)).message,
    ).not.toContain('Did you mean');
    expect(
      configError(() => rejectUnknownKeys('p', { toString: 1 }, ['lingerMs'], aliases)).message,
    ).not.toContain('Did you mean');
  });

  it('names a top-level key alone when the field is empty', () => {
    const error = configError(() =>
      rejectUnknownKeys('', { partitionsConcurently: 4 }, ['partitionsConcurrently']),
    );
    expect(error.field).toBe('partitionsConcurently');
    expect(error.message).toContain('Did you mean partitionsConcurrently?');
    expect(configError(() => rejectUnknownKeys('', { zzzzzz: 1 }, ['acks', 'lingerMs'])).message).toBe(
      'Invalid option zzzzzz: unknown option. The options are: acks, lingerMs.',
    );
    expect(configError(() => rejectUnknownKeys('json', { zzzzzz: 1 }, [])).message).toBe(
      'Invalid option json.zzzzzz: unknown option: json takes no options.',
    );
  });

  it('rejects values that are not plain objects, naming the field', () => {
    class Options {
      lingerMs = 5;
    }
    for (const [value, shape] of [
      [undefined, 'undefined'],
      [null, 'null'],
      ['brokers', 'a string'],
      [42, 'a number'],
      [[1, 2], 'an array'],
      [() => ({}), 'a function'],
      [new Options(), 'an instance of Options'],
      [new Map(), 'an instance of Map'],
    ] as const) {
      const error = configError(() => rejectUnknownKeys('producer.retry', value, retryPolicyKeys));
      expect(error.field).toBe('producer.retry');
      expect(error.message).toBe(`Invalid option producer.retry: expected an options object, got ${shape}.`);
    }
    expect(configError(() => rejectUnknownKeys('', 'x', [])).field).toBe('options');
  });

  it('accepts plain objects of another realm and frozen ones', () => {
    const foreign = runInNewContext('({ lingerMs: 1 })') as unknown;
    expect(isPlainObject(foreign)).toBe(true);
    expect(rejectUnknownKeys('producer', foreign, producerKeys)).toBe(foreign);
    expect(isPlainObject(Object.freeze({ a: 1 }))).toBe(true);
    expect(isPlainObject(Object.fromEntries([['a', 1]]))).toBe(true);
    expect(isPlainObject(Object.create({ inherited: true }))).toBe(false);
  });

  it('ignores symbol keys and inherited keys', () => {
    expect(rejectUnknownKeys('producer', { [Symbol('meta')]: 1, lingerMs: 1 }, producerKeys)).toBeDefined();
  });
});

describe('optionKeys', () => {
  it('lists the keys of the record it is given, frozen', () => {
    const keys = optionKeys<{ readonly a?: number; readonly b: string }>({ a: true, b: true });
    expect(keys).toEqual(['a', 'b']);
    expect(Object.isFrozen(keys)).toBe(true);
  });

  it('lists every key of RetryPolicy', () => {
    const policy: Required<RetryPolicy> = {
      initialIntervalMs: 1,
      backoffCoefficient: 1,
      maximumIntervalMs: 1,
      maximumAttempts: 1,
      nonRetryableErrorTypes: [],
      jitter: 0,
    };
    expect([...retryPolicyKeys].sort()).toEqual(Object.keys(policy).sort());
  });

  it('refuses at compile time a list that misses or adds a key', () => {
    // @ts-expect-error b is missing
    optionKeys<{ a?: number; b?: number }>({ a: true });
    // @ts-expect-error c is not a key of the interface
    optionKeys<{ a?: number }>({ a: true, c: true });
  });
});

describe('suggestOptionKey', () => {
  it('prefers a key that differs only in case over a nearer spelling', () => {
    expect(suggestOptionKey('ACKS', ['acks', 'ackz'])).toBe('acks');
    expect(suggestOptionKey('lingerMS', producerKeys)).toBe('lingerMs');
  });

  it('suggests nothing when no key is close', () => {
    expect(suggestOptionKey('topic', producerKeys)).toBeUndefined();
    expect(suggestOptionKey('x', [])).toBeUndefined();
  });

  it('counts a transposition of two adjacent characters as one edit', () => {
    expect(optionKeyDistance('lingreMs', 'lingerMs')).toBe(1);
    expect(optionKeyDistance('ca', 'abc')).toBe(3);
    expect(suggestOptionKey('lignerMs', producerKeys)).toBe('lingerMs');
  });

  it('computes the same distance as the textbook table, with and without a cutoff (property)', () => {
    const next = random(7);
    for (let run = 0; run < 2_000; run++) {
      const word = () =>
        Array.from({ length: Math.floor(next() * 9) }, () => 'abcd'[Math.floor(next() * 4)]).join('');
      const [a, b] = [word(), word()];
      const exact = referenceDistance(a, b);
      expect(optionKeyDistance(a, b), `${a} ${b}`).toBe(exact);
      const cutoff = Math.floor(next() * 6);
      expect(optionKeyDistance(a, b, cutoff), `${a} ${b} cutoff ${cutoff}`).toBe(Math.min(exact, cutoff));
    }
  });

  it('suggests no key for random keys far from every known key (property)', () => {
    const next = random(42);
    let far = 0;
    for (let run = 0; run < 3_000; run++) {
      const length = 3 + Math.floor(next() * 14);
      const key = Array.from({ length }, () => letters[Math.floor(next() * letters.length)]).join('');
      const distances = producerKeys.map((known) =>
        referenceDistance(key.toLowerCase(), known.toLowerCase()),
      );
      const nearest = Math.min(...distances);
      const suggestion = suggestOptionKey(key, producerKeys);
      if (nearest > maxSuggestionDistance(key)) {
        far++;
        expect(suggestion, key).toBeUndefined();
      } else {
        // Close enough: the suggestion is one of the nearest keys.
        expect(suggestion, key).toBeDefined();
        expect(distances[producerKeys.indexOf(suggestion as string)], key).toBe(nearest);
      }
    }
    expect(far).toBeGreaterThan(2_500);
  });

  it('suggests a known key after one edit of it (property)', () => {
    const next = random(1_234);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    let checked = 0;
    for (let run = 0; run < 3_000; run++) {
      const known = pick(producerKeys);
      const at = Math.floor(next() * (known.length + 1));
      const letter = pick([...letters]);
      const edited = pick([
        () => known.slice(0, at) + letter + known.slice(at), // insertion
        () => known.slice(0, at) + known.slice(at + 1), // deletion
        () => known.slice(0, at) + letter + known.slice(at + 1), // substitution
        () =>
          known.slice(0, at) + known.slice(at + 1, at + 2) + known.slice(at, at + 1) + known.slice(at + 2), // transposition
      ])();
      if (edited === known || edited === '' || producerKeys.includes(edited)) continue;
      checked++;
      const suggestion = suggestOptionKey(edited, producerKeys);
      const sameButCase = producerKeys.find((k) => k.toLowerCase() === edited.toLowerCase());
      if (sameButCase !== undefined) {
        expect(suggestion, edited).toBe(sameButCase);
        continue;
      }
      // The edited key is one edit from `known`; only a tie with another key one edit away may win.
      expect(suggestion, edited).toBeDefined();
      expect(
        referenceDistance(edited.toLowerCase(), (suggestion as string).toLowerCase()),
        edited,
      ).toBeLessThanOrEqual(1);
      const rivals = producerKeys.filter(
        (k) => k !== known && referenceDistance(edited.toLowerCase(), k.toLowerCase()) <= 1,
      );
      if (rivals.length === 0) expect(suggestion, edited).toBe(known);
    }
    expect(checked).toBeGreaterThan(2_500);
  });
});

// The example docs/core.md quotes under "Options" (after its import line), compiled and run here.
// example:start
interface WorkerOptions {
  readonly lingerMs?: number;
  readonly name?: string;
}
const workerOptionKeys = optionKeys<WorkerOptions>({ lingerMs: true, name: true });

function resolveWorkerOptions(input: WorkerOptions): WorkerOptions {
  rejectUnknownKeys('worker', input, workerOptionKeys, { delay: 'lingerMs' });
  return input; // then each value, named `worker.<key>` in its ConfigError
}
// example:end

describe('the options example in docs/core.md', () => {
  it('is quoted as it is compiled here', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const example = source.slice(
      source.indexOf('// example:start\n') + '// example:start\n'.length,
      source.indexOf('// example:end'),
    );
    const doc = readFileSync(new URL('../../../docs/core.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Options'));
    const start = section.indexOf('```ts\n') + '```ts\n'.length;
    const block = section.slice(start, section.indexOf('```\n', start));
    expect(block).toBe(
      `import { optionKeys, rejectUnknownKeys } from '@cascade/core';\n\n${example}\n` +
        'resolveWorkerOptions({ lingerMS: 5 } as WorkerOptions);\n' +
        '// ConfigError: Invalid option worker.lingerMS: unknown option (option names are case-sensitive). Did you mean lingerMs?\n' +
        'resolveWorkerOptions({ delay: 5 } as WorkerOptions);\n' +
        '// ConfigError: Invalid option worker.delay: unknown option. Did you mean lingerMs?\n',
    );
  });

  it('throws the errors it shows', () => {
    expect(configError(() => resolveWorkerOptions({ lingerMS: 5 } as WorkerOptions)).message).toBe(
      'Invalid option worker.lingerMS: unknown option (option names are case-sensitive). Did you mean lingerMs?',
    );
    expect(configError(() => resolveWorkerOptions({ delay: 5 } as WorkerOptions)).message).toBe(
      'Invalid option worker.delay: unknown option. Did you mean lingerMs?',
    );
    expect(resolveWorkerOptions({ lingerMs: 5, name: 'w' })).toEqual({ lingerMs: 5, name: 'w' });
  });
});
