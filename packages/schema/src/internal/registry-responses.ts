/**
 * Reading the registry's JSON answers defensively (unknown fields ignored, wrong shapes refused).
 * @module
 */

import { RegistryRequestError } from '../errors.js';
import type { SchemaDefinition, SchemaReference, SubjectVersion } from '../schema-registry.js';

export function parseJson(text: string): unknown {
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text.slice(0, 200) };
  }
}

export function errorBody(json: unknown): { code: number | undefined; message: string } {
  if (typeof json !== 'object' || json === null) return { code: undefined, message: '' };
  const { error_code: code, message } = json as { error_code?: unknown; message?: unknown };
  return {
    code: typeof code === 'number' ? code : undefined,
    message: typeof message === 'string' ? message : '',
  };
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
