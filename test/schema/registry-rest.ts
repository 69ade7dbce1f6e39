// Direct REST calls to the real registry, to check what a serde did (independently of it).
import { cluster } from '../support/kafka.js';

const contentType = 'application/vnd.schemaregistry.v1+json';

export async function rest(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${cluster().registryUrl}/${path}`, {
    method,
    headers: { 'content-type': contentType, accept: contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** Registers `schema` under `subject` directly and returns its id. */
export async function registerDirect(
  subject: string,
  schema: object,
  references?: object[],
): Promise<number> {
  const body: Record<string, unknown> = { schema: JSON.stringify(schema) };
  if (references) {
    body.schemaType = 'AVRO';
    body.references = references;
  }
  const { status, json } = await rest('POST', `subjects/${encodeURIComponent(subject)}/versions`, body);
  if (status !== 200) throw new Error(`register ${subject}: ${status} ${JSON.stringify(json)}`);
  return (json as { id: number }).id;
}

/** The versions registered under `subject` ([] when none). */
export async function versions(subject: string): Promise<number[]> {
  const { status, json } = await rest('GET', `subjects/${encodeURIComponent(subject)}/versions`);
  return status === 200 ? (json as number[]) : [];
}

/** Deletes a subject (soft, then hard) so tests leave little behind. */
export async function deleteSubject(subject: string): Promise<void> {
  await rest('DELETE', `subjects/${encodeURIComponent(subject)}`);
  await rest('DELETE', `subjects/${encodeURIComponent(subject)}?permanent=true`);
}
