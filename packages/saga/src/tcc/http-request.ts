/**
 * What the HTTP TCC participant accepts of a request, as pure functions: where a request target
 * points (the resource, one of its reservations, elsewhere, or nowhere it can parse), and whether
 * a TCC key or a body is something every guard store can hold. PostgreSQL `text` and `jsonb`
 * cannot hold U+0000, `jsonb` rejects unpaired surrogates and deep nesting, and a primary key
 * entry has at most 2,704 bytes: such input is the client's mistake, answered `400`, and never
 * reaches a store (the memory store is held to the same rules, so a service answers alike on
 * both).
 * @module
 */

/** The most bytes (in UTF-8) of each part of a TCC key: the saga id, the step name. */
export const maxKeyBytes = 1024;

/** The deepest nesting of arrays and objects in a request body. */
export const maxBodyDepth = 64;

/** Where a request target points. */
export type TargetMatch =
  /** Outside the base path: the middleware passes it on, the listener answers `404`. */
  | { readonly kind: 'outside' }
  /** The base path itself: where tries are POSTed. */
  | { readonly kind: 'resource' }
  /** `<basePath>/<transaction>/<branch>`, decoded. */
  | { readonly kind: 'reservation'; readonly transaction: string; readonly branch: string }
  /** Under the base path, but not a reservation (too deep, an empty part). */
  | { readonly kind: 'unknown' }
  /** Cannot be parsed: answered `400`. */
  | {
      readonly kind: 'invalid';
      readonly type: 'MalformedTarget' | 'MalformedPath';
      readonly message: string;
    };

const absoluteForm = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** The path of a request target, or undefined when it has none that can be read. */
function pathOf(target: string): string | undefined {
  try {
    // Origin form (`/path?query`): put behind a fixed origin, never resolved against one, so
    // `//host/path` stays a path and not a host (`new URL('//%00/', base)` throws).
    if (target.startsWith('/')) return new URL(`http://participant${target}`).pathname;
    if (absoluteForm.test(target)) {
      const url = new URL(target);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.pathname : undefined;
    }
  } catch {
    // Not a URL.
  }
  return undefined;
}

/** A surrogate without its pair (`String.prototype.isWellFormed` is ES2024, past our lib). */
const unpaired = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored as text, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'U+0000 (NUL)';
  if (unpaired.test(value)) return 'an unpaired surrogate';
  return undefined;
}

/** Why a string cannot be a part of a TCC key (saga id or step name), or undefined when it can. */
export function keyProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  const text = textProblem(value);
  if (text !== undefined) return `holds ${text}, which a TCC key cannot hold`;
  if (value === '.' || value === '..') {
    return `is "${value}", a dot segment: its reservation URI would resolve elsewhere`;
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxKeyBytes) return `has ${bytes} bytes; a TCC key holds at most ${maxKeyBytes} (in UTF-8)`;
  return undefined;
}

/**
 * Where a request target points, for a resource served at `basePath` (no trailing `/`; `''` for
 * the root). Never throws.
 */
export function matchTarget(target: string, basePath: string): TargetMatch {
  if (target === '*') return { kind: 'outside' };
  const path = pathOf(target);
  if (path === undefined) {
    return {
      kind: 'invalid',
      type: 'MalformedTarget',
      message: 'The request target is neither a path nor an http(s) URL.',
    };
  }
  const pathname = path.replace(/\/+$/, '');
  if (pathname === basePath) return { kind: 'resource' };
  if (!pathname.startsWith(`${basePath}/`)) return { kind: 'outside' };
  const parts = pathname.slice(basePath.length + 1).split('/');
  const [first, second] = parts;
  if (parts.length !== 2 || first === undefined || second === undefined || first === '' || second === '') {
    return { kind: 'unknown' };
  }
  let transaction: string;
  let branch: string;
  try {
    transaction = decodeURIComponent(first);
    branch = decodeURIComponent(second);
  } catch {
    return {
      kind: 'invalid',
      type: 'MalformedPath',
      message: 'The reservation path is not URI-encoded UTF-8.',
    };
  }
  for (const [name, value] of [
    ['transaction', transaction],
    ['branch', branch],
  ] as const) {
    const problem = keyProblem(value);
    if (problem !== undefined) {
      return {
        kind: 'invalid',
        type: 'MalformedPath',
        message: `The ${name} in the reservation path ${problem}.`,
      };
    }
  }
  return { kind: 'reservation', transaction, branch };
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSON path step, for a message: `.name` or `["odd key"]`, shortened past 40 characters. */
function step(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  if (identifier.test(key) && key.length <= 40) return `.${key}`;
  // JSON.stringify escapes NUL and unpaired surrogates, so the message itself stays storable.
  return `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key)}]`;
}

/**
 * Why a request body (parsed JSON, or what a framework's body parser made) cannot be a TCC
 * payload, or undefined when it can: a string or key holding U+0000 or an unpaired surrogate,
 * nesting deeper than {@link maxBodyDepth}, a number JSON cannot hold, a value that is not JSON.
 * Never throws, also for cyclic values.
 */
export function bodyProblem(body: unknown): string | undefined {
  const walk = (value: unknown, depth: number): { problem: string; path: string[] } | undefined => {
    switch (typeof value) {
      case 'string': {
        const text = textProblem(value);
        return text === undefined ? undefined : { problem: `holds ${text}`, path: [] };
      }
      case 'number':
        return Number.isFinite(value) ? undefined : { problem: 'holds a number JSON cannot hold', path: [] };
      case 'boolean':
      case 'undefined':
        return undefined;
      case 'object': {
        if (value === null) return undefined;
        if (depth >= maxBodyDepth) return { problem: `nests deeper than ${maxBodyDepth} levels`, path: [] };
        const entries: [string | number, unknown][] = Array.isArray(value)
          ? value.map((item, index) => [index, item])
          : Object.entries(value);
        for (const [key, item] of entries) {
          if (typeof key === 'string') {
            const text = textProblem(key);
            if (text !== undefined) return { problem: `holds ${text} in a key`, path: [step(key)] };
          }
          const found = walk(item, depth + 1);
          if (found !== undefined) return { problem: found.problem, path: [step(key), ...found.path] };
        }
        return undefined;
      }
      default:
        return { problem: `holds a ${typeof value}`, path: [] };
    }
  };
  const found = walk(body, 0);
  if (found === undefined) return undefined;
  const path = `$${found.path.join('')}`;
  return `${found.problem} at ${path.length > 200 ? `${path.slice(0, 200)}...` : path}`;
}
