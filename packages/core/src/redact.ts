/**
 * Removing credentials from text: what the logger applies to every message and string, what
 * error serialization applies to every message, stack and field, and what `@cascade/schema`
 * applies to a registry's error body before it becomes part of an error message.
 *
 * @example
 * ```ts
 * import { redactText } from '@cascade/core';
 *
 * redactText('{"error_code":40101,"message":"bad header Authorization: Basic c3ZjOmh1bnRlcjI="}');
 * // '{"error_code":40101,"message":"bad header Authorization: [redacted]"}'
 * redactText('GET https://svc:hunter2@registry:8081/subjects?password=hunter2 failed');
 * // 'GET https://[redacted]@registry:8081/subjects?password=[redacted] failed'
 * ```
 * @module
 */

/** The text that stands in for a redacted value. */
export const REDACTED = '[redacted]';

/** Keys of structured values (log meta, error fields) whose values are secrets. */
const secretKey =
  /pass(word|phrase)?|secret|token|authorization|credential|api[-_]?key|sasl|private[-_]?key/i;

/** Whether a structured value's key names a secret (password, token, sasl, ...). */
export function isSecretKey(key: string): boolean {
  return secretKey.test(key);
}

// `scheme://userinfo@`, also JSON-escaped (`https:\/\/`). The user info runs to the last `@`
// before the end of the authority, so a password holding a raw `@` is removed whole. Bounded
// quantifiers keep the cost linear on long strings.
const urlUserInfo = /(\b[a-z][a-z0-9+.-]{0,30}:(?:\/\/|\\\/\\\/))[^/?#\s"<>\\]{1,512}@/gi;

// `key: value`, `key=value`, `"key":"value"`, `\"key\":\"value\"`, `{Key=[value]}` for keys that
// name a credential (authorization, proxy-authorization, password, passwd, secret, client_secret,
// token, access_token, api_key, x-api-key, credentials), also dotted (`spring.datasource.password=`).
// A dotted option path followed by a colon (`Invalid option registry.auth.token: expected a
// string`) is Cascade's own wording, not a credential echo, and is left alone. Runs of backslashes
// (JSON escaping, up to three levels deep) are bounded so a string of thousands of backslashes
// costs linear time.
const secretFieldKey = String.raw`[\w.-]{0,60}?(?:passw(?:or)?d|passphrase|secret|token|authorization|api[-_]?key|credentials?)[\w.-]{0,60}`;
const secretFieldValue = [
  String.raw`\\{1,7}"[^"\r\n]*"`, // a JSON-escaped string inside a string: \"Basic abc\"
  String.raw`"(?:[^"\\\r\n]|\\.)*"`, // a JSON string
  String.raw`'(?:[^'\\\r\n]|\\.)*'`,
  String.raw`\[[^\]\r\n]*\]`, // Java's header map: {Authorization=[Basic abc]}
  String.raw`Digest\b[^\r\n]*`, // Digest credentials hold several comma-separated parameters
  // Unquoted: to the next space, comma, semicolon, ampersand or quote. A closing bracket is
  // taken too: a password may hold one, and losing a `)` costs less than leaking.
  String.raw`(?:(?:Basic|Bearer|Negotiate|NTLM|Token)\s+)?[^\s,;&"'<>]+`,
].join('|');
const secretField = new RegExp(
  String.raw`((?:\\{0,7}["'])?)(?<![\w.-])(${secretFieldKey})\1(\s*[:=]\s*)(${secretFieldValue})`,
  'gi',
);

// `Basic <credentials>` / `Bearer <token>` anywhere (an echoed header without its name). The
// credentials are token68 by the RFC; anything up to a space, quote, bracket or separator is
// taken, in case a server echoes them decoded (`Basic svc:hunter2!`).
const authCredentials = /\b(Basic|Bearer)(\s+)((?:[^\s"'<>,;(){}[\]\\]|\\\/)+)/gi;

/**
 * Removes credentials from a URL string: `https://user:pw@host` becomes `https://[redacted]@host`.
 * Strings without user info come back unchanged.
 */
export function redactUrl(text: string): string {
  return text.replace(urlUserInfo, `$1${REDACTED}@`);
}

function redactFieldValue(
  match: string,
  keyQuote: string,
  key: string,
  separator: string,
  value: string,
): string {
  if (keyQuote === '' && key.includes('.') && separator.includes(':')) return match;
  const quote = /^\\*["']/.exec(value)?.[0];
  const redacted = quote === undefined ? REDACTED : `${quote}${REDACTED}${quote}`;
  return `${keyQuote}${key}${keyQuote}${separator}${redacted}`;
}

/**
 * Removes credentials from free text, such as an HTTP error body a server echoed back:
 *
 * - the value of a credential-named field, in text (`Authorization: Basic abc`, `password=pw`
 *   in a query string), JSON (`"authorization":"Bearer abc"`, also JSON-escaped inside a string)
 *   and Java header maps (`{Authorization=[Basic abc]}`); the field names are `authorization`,
 *   `proxy-authorization`, `password`, `passwd`, `passphrase`, `secret`, `client_secret`,
 *   `token`, `access_token`, `api_key`, `x-api-key`, `credentials` and the like;
 * - `Basic <credentials>` and `Bearer <token>` anywhere;
 * - user info in URLs (`https://user:pw@host`, as {@link redactUrl}).
 *
 * Each is replaced by `[redacted]`; the rest of the text is kept. It errs on the side of
 * removing too much: `Basic` followed by any word loses the word. Idempotent.
 */
export function redactText(text: string): string {
  return redactUrl(text.replace(secretField, redactFieldValue).replace(authCredentials, `$1$2${REDACTED}`));
}
