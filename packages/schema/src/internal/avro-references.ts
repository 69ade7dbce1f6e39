/**
 * Parsing registry schemas that reference named types registered under other subjects.
 * @module
 */

import type avro from 'avsc';
import { InvalidSchemaError } from '../errors.js';
import type { SchemaReference, SchemaRegistry } from '../schema-registry.js';
import { createAvroType } from './avro-type.js';
import { messageOf } from './codec.js';

/**
 * Parses `schema` after the schemas it references (depth first, each subject version once), so
 * its references to their named types resolve. Throws {@link InvalidSchemaError}.
 */
export async function parseWithReferences(
  registry: SchemaRegistry,
  schema: unknown,
  references: readonly SchemaReference[],
  context: { subject?: string | undefined; schemaId?: number | undefined },
): Promise<avro.Type> {
  const namedTypes: Record<string, avro.Type> = {};
  const visited = new Set<string>();
  const addReferences = async (refs: readonly SchemaReference[]): Promise<void> => {
    for (const ref of refs) {
      const key = `${ref.subject}\u0000${ref.version}`;
      if (visited.has(key)) continue;
      visited.add(key);
      const version = await registry.getSubjectVersion(ref.subject, ref.version);
      await addReferences(version.references ?? []);
      if (namedTypes[ref.name] !== undefined) continue;
      parse(
        version.schema,
        namedTypes,
        `the schema ${ref.name} referenced from subject ${ref.subject} version ${ref.version}`,
        context,
      );
    }
  };
  await addReferences(references);
  const described =
    context.schemaId !== undefined
      ? `schema id ${context.schemaId}`
      : context.subject !== undefined
        ? `the schema for subject ${context.subject}`
        : 'the schema';
  return parse(schema, namedTypes, described, context);
}

function parse(
  schema: unknown,
  namedTypes: Record<string, avro.Type>,
  described: string,
  context: { subject?: string | undefined; schemaId?: number | undefined },
): avro.Type {
  try {
    return createAvroType(schema, { namedTypes });
  } catch (error) {
    throw new InvalidSchemaError(`${described} is not a valid Avro schema: ${messageOf(error)}.`, context, {
      cause: error,
    });
  }
}
