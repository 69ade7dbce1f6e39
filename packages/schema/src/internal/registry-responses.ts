/**
 * Reading the registry's JSON answers defensively (unknown fields ignored, wrong shapes refused).
 * @module
 */

import { redactText } from '@cascade/core';
import { RegistryRequestError } from '../errors.js';
import type { SchemaDefinition, SchemaReference, SubjectVersion } from '../schema-registry.js';

/** Registry text kept for an error message (a proxy's HTML error page is cut). */
const maxRegistryText = 2_000;

/**
 * Credentials a registry or a proxy in front of it echoed back (an `Authorization` header, a
 * `Basic`/`Bearer` token, user info in a URL, a `password=` parameter) removed from its text,
 * which is then cut to a bounded length. Every registry string that enters a Cascade error
 * message or a result goes through here: redacted first, so a cut never leaves half a secret.
 */
export function registryText(text: string): string {
  const redacted = redactText(text.length > 100_000 ? text.slice(0, 100_000) : text);
  return redacted.length > maxRegistryText ? `${redacted.slice(0, maxRegistryText)}…` : redacted;
}

export function parseJson(text: string): unknown {
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: registryText(text).slice(0, 200) };
  }
}

/** The registry's `error_code` and `message` of an error answer, the message redacted. */
export function errorBody(json: unknown): { code: number | undefined; message: string } {
  if (typeof json !== 'object' || json === null) return { code: undefined, message: '' };
  const { error_code: code, message } = json as { error_code?: unknown; message?: unknown };
  return {
    code: typeof code === 'number' ? code : undefined,
    message: typeof message === 'string' ? registryText(message) : '',
  };
}

/** The `messages` of a compatibility answer, each redacted. */
export function compatibilityMessages(json: unknown): string[] {
  const messages = (typeof json === 'object' && json !== null ? json : {}) as { messages?: unknown };
  return Array.isArray(messages.messages)
    ? messages.messages.map((message: unknown) =>
        registryText(typeof message === 'string' ? message : (JSON.stringify(message) ?? String(message))),
      )
    : [];
}

export function parseSchemaType(value: unknown): 'AVRO' | 'JSON' | 'PROTOBUF' {
  return value === 'JSON' || value === 'PROTOBUF' ? value : 'AVRO';
}

export function parseReferences(value: unknown): SchemaReference[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { name, subject, version } = item as Record<string, unknown>;
    return typeof name === 'string' && typeof subject === 'string' && typeof version === 'number'
      ? [{ name, subject, version }]
      : [];
  });
}

export function parseSubjectVersion(
  json: unknown,
  subject: string,
  url: string,
  fallback?: SchemaDefinition,
): SubjectVersion {
  const value = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const { id, version, schema } = value;
  if (typeof id !== 'number' || typeof version !== 'number') {
    throw new RegistryRequestError(
      url,
      'read a subject version',
      200,
      undefined,
      'the registry answered without an id or version',
    );
  }
  return {
    subject,
    version,
    id,
    schema: typeof schema === 'string' ? schema : (fallback?.schema ?? ''),
    schemaType: parseSchemaType(value.schemaType),
    references: parseReferences(value.references),
  };
}
