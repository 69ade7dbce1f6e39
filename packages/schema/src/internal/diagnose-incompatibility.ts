/**
 * Reasons for an incompatibility the registry did not explain (Apicurio's compatibility endpoint
 * answers `is_compatible: false` without messages): Cascade tries to resolve the new schema
 * against the subject's latest version with avsc, both ways, and words what fails.
 * @module
 */

import type avro from 'avsc';
import type { SchemaRegistry } from '../schema-registry.js';
import { parseWithReferences } from './avro-references.js';
import { messageOf } from './codec.js';

/**
 * Why `candidate` and the latest version of `subject` cannot read each other's data, as
 * sentences; `[]` when they can (or the latest version cannot be fetched or parsed).
 */
export async function diagnoseIncompatibility(
  registry: SchemaRegistry,
  subject: string,
  candidate: avro.Type,
): Promise<string[]> {
  let latest: { version: number; type: avro.Type };
  try {
    const version = await registry.getSubjectVersion(subject, 'latest');
    latest = {
      version: version.version,
      type: await parseWithReferences(registry, version.schema, version.references ?? [], { subject }),
    };
  } catch {
    return [];
  }
  const reasons: string[] = [];
  try {
    candidate.createResolver(latest.type);
  } catch (error) {
    reasons.push(
      `the new schema cannot read data written with version ${latest.version} (${messageOf(error)})`,
    );
  }
  try {
    latest.type.createResolver(candidate);
  } catch (error) {
    reasons.push(
      `version ${latest.version} cannot read data written with the new schema (${messageOf(error)})`,
    );
  }
  return reasons.map((reason) => `${reason} [diagnosed by Cascade; the registry gave no reasons]`);
}
