import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactUrl } from './redact.js';

/** mulberry32: deterministic across runs and platforms. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const below = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[below(items.length)] as T;
  const text = (alphabet: string, min: number, max: number): string =>
    Array.from({ length: min + below(max - min + 1) }, () => alphabet[below(alphabet.length)]).join('');
  return { below, pick, text };
}

const alphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** token68: what follows `Basic ` or `Bearer ` (a header name before them allows any password). */
const tokenChars = `${alphanumeric}+/=-._~`;
/** What a password holds raw in JSON, a header or a query string (no separators). */
const passwordChars = `${alphanumeric}+/!$*()-_.~^|`;
/** What user info holds raw in a URL (anything else is percent-encoded). */
const userInfoChars = `${alphanumeric}-._~!$&'()*+,;=%`;

type Template = readonly [make: (secret: string) => string, alphabet: string];

/** Places a secret where a server's error body or a library's message may echo it. */
const templates: readonly Template[] = [
  [(s) => `Authorization: Basic ${s}`, passwordChars],
  [(s) => `authorization: Bearer ${s}`, passwordChars],
  [(s) => `AUTHORIZATION=Bearer ${s}`, passwordChars],
  [(s) => `Proxy-Authorization: Basic ${s}`, passwordChars],
  [(s) => `{"headers":{"Authorization":"Basic ${s}","Accept":"application/json"}}`, passwordChars],
  [(s) => `{"authorization": "Bearer ${s}"}`, passwordChars],
  [(s) => `{\\"Authorization\\":\\"Basic ${s}\\"}`, passwordChars],
  [(s) => `{Authorization=[Bearer ${s}], Accept=[*/*]}`, passwordChars],
  [(s) => `request headers: {authorization=Basic ${s}, host=registry}`, passwordChars],
  [(s) => `'authorization': 'Bearer ${s}'`, passwordChars],
  [(s) => `Authorization: Digest username="svc", realm="r", response="${s}"`, passwordChars],
  [(s) => `invalid credentials Basic ${s} for subject orders-value`, tokenChars],
  [(s) => `token Bearer ${s} expired`, tokenChars],
  [(s) => `(Bearer ${s})`, tokenChars],
  [(s) => `GET /subjects?user=svc&password=${s}&verbose=true`, passwordChars],
  [(s) => `password=${s}`, passwordChars],
  [(s) => `{"password":"${s}"}`, passwordChars],
  [(s) => `passwd: ${s}`, passwordChars],
  [(s) => `client_secret=${s}&grant_type=client_credentials`, passwordChars],
  [(s) => `access_token=${s}`, passwordChars],
  [(s) => `X-Api-Key: ${s}`, passwordChars],
  [(s) => `api_key=${s}`, passwordChars],
  [(s) => `spring.datasource.password=${s}`, passwordChars],
  [
    (s) =>
      `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="${s}";`,
    passwordChars,
  ],
  [(s) => `GET https://svc:${s}@registry.example:8081/subjects failed`, userInfoChars],
  [(s) => `GET https://${s}:x@registry.example/subjects failed`, userInfoChars],
  [(s) => `GET https://${s}@registry.example/subjects failed`, userInfoChars],
  [(s) => `"url":"https:\\/\\/svc:${s}@registry\\/x"`, userInfoChars],
  [(s) => `connect ECONNREFUSED http://svc:${s}@10.0.0.7:8081`, userInfoChars],
];

const separators = [' ', '\n', ', ', '; ', '\r\n', ' and '];
const surroundings = [
  '',
  ' ',
  '\n',
  'Unauthorized: ',
  '{"error_code":40101,"message":"',
  '"}',
  ' (at line 3)',
  '\r\n',
];

describe('redactText', () => {
  it.each([
    ['Authorization: Basic c3ZjOmh1bnRlcjI=', 'Authorization: [redacted]'],
    [
      '{"authorization":"Bearer abc.def.ghi","accept":"json"}',
      '{"authorization":"[redacted]","accept":"json"}',
    ],
    [
      '{"error_code":50001,"message":"echo {\\"Authorization\\":\\"Basic c3Zj\\"}"}',
      '{"error_code":50001,"message":"echo {\\"Authorization\\":\\"[redacted]\\"}"}',
    ],
    ['{Authorization=[Basic abc], Accept=[json]}', '{Authorization=[redacted], Accept=[json]}'],
    ['rejected Bearer eyJhbGciOi.eyJzdWIi.sig here', 'rejected Bearer [redacted] here'],
    [
      'GET https://svc:p@ss@registry:8081/x?password=hunter2&x=1 failed',
      'GET https://[redacted]@registry:8081/x?password=[redacted]&x=1 failed',
    ],
    ['https:\\/\\/u:pw@h\\/x', 'https:\\/\\/[redacted]@h\\/x'],
    [
      'Proxy-Authorization: Digest username="bob", response="abc"\nnext',
      'Proxy-Authorization: [redacted]\nnext',
    ],
    ['x-api-key=k3y; client_secret: "s3c"', 'x-api-key=[redacted]; client_secret: "[redacted]"'],
  ])('redacts %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    'Invalid option registry.auth.token: expected a non-empty string.',
    'Invalid option sasl.password: expected a non-empty string.',
    'Schema id 42 not found in registry http://registry:8081 (topic orders, partition 3, offset 1812).',
    'http://host:8081/subjects/orders-value/versions?x=a@b',
    'Unexpected token } in JSON at position 4',
    'mail ops@example.com about https://example.com',
  ])('leaves text without credentials alone: %j', (input) => {
    expect(redactText(input)).toBe(input);
  });

  it('never lets a secret through, whatever the template and the text around it', () => {
    const r = random(20_240_611);
    for (let run = 0; run < 3_000; run++) {
      const [template, alphabet] = r.pick(templates);
      const secret = `${r.pick(['', 'Z', '9'])}${r.text(alphabet, 6, 48)}`;
      const pieces = Array.from({ length: 1 + r.below(3) }, () => template(secret));
      const text = `${r.pick(surroundings)}${r.text('abc def,;:', 0, 20)}${pieces.join(r.pick(separators))}${r.pick(surroundings)}`;
      if (template('').includes(secret)) continue; // the template itself spells the secret
      const out = redactText(text);
      expect(out, `${text} -> ${out}`).not.toContain(secret);
      expect(out).toContain(REDACTED);
      expect(redactText(out)).toBe(out);
    }
  });

  it('keeps the cost linear on long hostile strings', () => {
    const hostile = [
      'a.'.repeat(50_000),
      'http://'.repeat(15_000),
      'password='.repeat(10_000),
      `https://${'u'.repeat(100_000)}`,
      `Basic ${'A'.repeat(100_000)}`,
      `"authorization":"${'\\'.repeat(50_000)}`,
      '"password":"'.repeat(10_000),
      "password='".repeat(10_000),
      `token=${'x'.repeat(100_000)}`,
    ];
    const started = performance.now();
    for (const text of hostile) redactText(text);
    // A quadratic pattern takes minutes on these; linear ones take milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('redactUrl', () => {
  it('removes user info from URLs and nothing else', () => {
    expect(redactUrl('GET https://user:pw@registry.example:8081/subjects failed')).toBe(
      'GET https://[redacted]@registry.example:8081/subjects failed',
    );
    expect(redactUrl('http://host:8081/x')).toBe('http://host:8081/x');
    expect(redactUrl('Authorization: Basic abc')).toBe('Authorization: Basic abc');
  });
});
