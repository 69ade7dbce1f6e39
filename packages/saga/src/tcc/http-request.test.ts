// What the HTTP TCC participant accepts of a request: fixed cases (issue #14's targets), then
// properties over seeded random inputs — matchTarget never throws, reservation URIs round-trip,
// and the text and body rules agree with independent oracles.
import { describe, expect, it } from 'vitest';
import {
  bodyProblem,
  keyProblem,
  matchTarget,
  maxBodyDepth,
  maxKeyBytes,
  textProblem,
} from './http-request.js';
import { reservationUri } from './protocol.js';

const base = '/payments/authorize';
const seed = Number(process.env.TCC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const runs = 2_000;

// mulberry32: small, seeded, good enough to spread inputs.
function random(start: number) {
  let state = start | 0;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

/** Code units from every range that matters: ASCII, controls, NUL, latin1, BMP, surrogates, astral. */
function text(r: Random, maxLength: number): string {
  const ranges: readonly [number, number][] = [
    [0x20, 0x7e],
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0x80, 0xff],
    [0x100, 0xd7ff],
    [0xd800, 0xdbff],
    [0xdc00, 0xdfff],
    [0xe000, 0xffff],
  ];
  let out = '';
  const length = r.int(maxLength + 1);
  for (let i = 0; i < length; i += 1) {
    if (r.int(10) === 0) {
      out += r.pick(['\u{1f600}', '%', '/', '.', '..', '%00', '%zz', '?', '#', '\\', '[', ']']);
      continue;
    }
    const [low, high] = r.pick(ranges);
    out += String.fromCharCode(low + r.int(high - low + 1));
  }
  return out;
}

/** The oracle: U+0000 or a surrogate without its pair, found by scanning code units. */
function unstorable(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const unit = value.charCodeAt(i);
    if (unit === 0) return true;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const after = value.charCodeAt(i + 1);
      if (after >= 0xdc00 && after <= 0xdfff) i += 1;
      else return true;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/** Pairs every surrogate or replaces it, as `String.prototype.toWellFormed` (ES2024) would. */
const wellFormed = (value: string) =>
  value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

function property(name: string, check: (r: Random, run: number) => void) {
  it(name, () => {
    const r = random(seed);
    for (let run = 0; run < runs; run += 1) {
      try {
        check(r, run);
      } catch (error) {
        throw new Error(`run ${run} of seed ${seed} (replay with TCC_FUZZ_SEED=${seed}): ${String(error)}`, {
          cause: error,
        });
      }
    }
  });
}

describe('matchTarget', () => {
  it.each([
    ['/payments/authorize', { kind: 'resource' }],
    ['/payments/authorize/?x=1', { kind: 'resource' }],
    ['http://participant.example/payments/authorize', { kind: 'resource' }],
    ['/payments/authorize/t%2F1/b', { kind: 'reservation', transaction: 't/1', branch: 'b' }],
    ['/payments/authorize/x/../t/b', { kind: 'reservation', transaction: 't', branch: 'b' }],
    ['/payments/authorize/t/b/c', { kind: 'unknown' }],
    ['/payments/authorize//b', { kind: 'unknown' }],
    ['//%00/', { kind: 'outside' }],
    ['//[::1', { kind: 'outside' }],
    ['//x/payments/authorize', { kind: 'outside' }],
    ['http://x/%zz', { kind: 'outside' }],
    ['*', { kind: 'outside' }],
    ['/payments/authorized', { kind: 'outside' }],
  ] as const)('reads %j as %j', (target, expected) => {
    expect(matchTarget(target, base)).toEqual(expected);
  });

  it.each([
    ['http://%zz/', 'MalformedTarget'],
    ['http://[::1', 'MalformedTarget'],
    ['https://h:99999/', 'MalformedTarget'],
    ['ftp://x/payments/authorize', 'MalformedTarget'],
    ['x', 'MalformedTarget'],
    ['', 'MalformedTarget'],
    ['/payments/authorize/%zz/b', 'MalformedPath'],
    ['/payments/authorize/t/%ED%A0%80', 'MalformedPath'],
    ['/payments/authorize/%00/b', 'MalformedPath'],
    ['http://x/payments/authorize/a%00b/b', 'MalformedPath'],
    ['/payments/authorize/%2E/b', 'unknown'],
  ] as const)('answers %j as %s', (target, type) => {
    const match = matchTarget(target, base);
    if (type === 'unknown') expect(match).toEqual({ kind: 'unknown' });
    else expect(match).toMatchObject({ kind: 'invalid', type });
  });

  it('names what is wrong with a reservation path, in its own words', () => {
    expect(matchTarget('/payments/authorize/%00/b', base)).toEqual({
      kind: 'invalid',
      type: 'MalformedPath',
      message: 'The transaction in the reservation path holds U+0000 (NUL), which a TCC key cannot hold.',
    });
    expect(matchTarget(`/payments/authorize/t/${'k'.repeat(maxKeyBytes + 1)}`, base)).toEqual({
      kind: 'invalid',
      type: 'MalformedPath',
      message: `The branch in the reservation path has ${maxKeyBytes + 1} bytes; a TCC key holds at most ${maxKeyBytes} (in UTF-8).`,
    });
  });

  it('serves the root when the base path is empty', () => {
    expect(matchTarget('/', '')).toEqual({ kind: 'resource' });
    expect(matchTarget('/t/b', '')).toEqual({ kind: 'reservation', transaction: 't', branch: 'b' });
  });

  property('never throws, whatever the target', (r) => {
    const prefix = r.pick(['', '/', '//', base, `${base}/`, 'http://', 'http://x', 'https://', '*']);
    const target = `${prefix}${text(r, 40)}`;
    const match = matchTarget(target, base);
    expect(['outside', 'resource', 'reservation', 'unknown', 'invalid']).toContain(match.kind);
    if (match.kind === 'reservation') {
      expect(keyProblem(match.transaction)).toBeUndefined();
      expect(keyProblem(match.branch)).toBeUndefined();
    }
  });

  property('finds the key of every reservation URI, as sent by fetch or as built', (r) => {
    const key = () => {
      let value = wellFormed(text(r, 30)).replaceAll('\u0000', '');
      if (value === '' || value === '.' || value === '..') value = `k${value}`;
      return value;
    };
    const transaction = key();
    const branch = key();
    const uri = reservationUri(`http://participant.example${base}`, transaction, branch);
    const expected = { kind: 'reservation', transaction, branch };
    // As built (a raw client), as normalised by the WHATWG URL (fetch), and in absolute form.
    expect(matchTarget(uri.slice('http://participant.example'.length), base)).toEqual(expected);
    const url = new URL(uri);
    expect(matchTarget(`${url.pathname}${url.search}`, base)).toEqual(expected);
    expect(matchTarget(url.href, base)).toEqual(expected);
  });
});

describe('textProblem and keyProblem', () => {
  property('reject exactly the strings holding U+0000 or an unpaired surrogate', (r) => {
    const value = text(r, 12);
    expect(textProblem(value) !== undefined).toBe(unstorable(value));
    if (value !== '' && value !== '.' && value !== '..' && Buffer.byteLength(value) <= maxKeyBytes) {
      expect(keyProblem(value) !== undefined).toBe(unstorable(value));
    }
  });

  it('holds a key to its byte length in UTF-8 and refuses dot segments and the empty string', () => {
    expect(keyProblem('é'.repeat(maxKeyBytes / 2))).toBeUndefined();
    expect(keyProblem(`${'é'.repeat(maxKeyBytes / 2)}x`)).toBe(
      `has ${maxKeyBytes + 1} bytes; a TCC key holds at most ${maxKeyBytes} (in UTF-8)`,
    );
    expect(keyProblem('.')).toMatch(/dot segment/);
    expect(keyProblem('..')).toMatch(/dot segment/);
    expect(keyProblem('...')).toBeUndefined();
    expect(keyProblem('')).toBe('is empty');
    expect(keyProblem('\ud83d\ude00')).toBeUndefined();
    expect(keyProblem('\ud83d')).toBe('holds an unpaired surrogate, which a TCC key cannot hold');
  });
});

describe('bodyProblem', () => {
  const json = (r: Random, depth: number): unknown => {
    switch (r.int(depth > 4 ? 4 : 7)) {
      case 0:
        return null;
      case 1:
        return r.pick([true, 0, -1.5, 1e308, Number.NaN, Number.POSITIVE_INFINITY, 42]);
      case 2:
      case 3:
        return text(r, 6);
      case 4:
        return Array.from({ length: r.int(3) }, () => json(r, depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: r.int(3) }, () => [text(r, 4), json(r, depth + 1)]));
    }
  };
  /** The oracle, recursive and plain. */
  const bad = (value: unknown): boolean => {
    if (typeof value === 'string') return unstorable(value);
    if (typeof value === 'number') return !Number.isFinite(value);
    if (Array.isArray(value)) return value.some(bad);
    if (typeof value === 'object' && value !== null) {
      return Object.entries(value).some(([key, item]) => unstorable(key) || bad(item));
    }
    return false;
  };

  property('rejects exactly the values holding what JSON or PostgreSQL cannot hold', (r) => {
    const value = json(r, 0);
    const problem = bodyProblem(value);
    expect(problem !== undefined).toBe(bad(value));
    if (problem === undefined) {
      expect(JSON.parse(JSON.stringify(value) ?? 'null')).toBeDefined();
    } else {
      expect(problem).toMatch(/^holds .* at \$/);
      // The message itself is storable text.
      expect(unstorable(problem)).toBe(false);
    }
  });

  it('says where the bad string is', () => {
    expect(bodyProblem({ a: [1, { 'b c': 'x\u0000' }] })).toBe('holds U+0000 (NUL) at $.a[1]["b c"]');
    expect(bodyProblem({ ok: 1, '\ud800': 2 })).toBe('holds an unpaired surrogate in a key at $["\\ud800"]');
    expect(bodyProblem({ n: 10n })).toBe('holds a bigint at $.n');
    expect(bodyProblem('plain')).toBeUndefined();
    expect(bodyProblem(undefined)).toBeUndefined();
  });

  it(`accepts ${maxBodyDepth} levels of nesting, not one more, and survives a cycle`, () => {
    const nest = (levels: number) => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`) as unknown;
    expect(bodyProblem(nest(maxBodyDepth))).toBeUndefined();
    expect(bodyProblem(nest(maxBodyDepth + 1))).toMatch(`nests deeper than ${maxBodyDepth} levels at $[0]`);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(bodyProblem(cycle)).toMatch(`nests deeper than ${maxBodyDepth} levels at $.self.self`);
  });
});
