/**
 * Generates TypeScript types from Avro schemas (`.avsc` files), with the same representations
 * as the serdes and {@link InferAvro}: one `.ts` module per schema file, an interface per record,
 * a union of literals per enum, `import type` for names defined in other files, and the schema
 * itself as an `as const` literal. Used by the `cascade-avro-codegen` CLI.
 * @module
 */

import { InvalidSchemaError } from './errors.js';

/** One schema file to generate types for. */
export interface AvroSourceFile {
  /** The output module name without extension, e.g. `order` for `order.avsc` (unique). */
  readonly module: string;
  /** The parsed JSON of the `.avsc` file. */
  readonly schema: unknown;
}

/** One generated TypeScript module. */
export interface GeneratedModule {
  /** `<module>.ts`. */
  readonly fileName: string;
  readonly source: string;
}

type Json = Record<string, unknown>;

interface Definition {
  readonly fullName: string;
  readonly kind: 'record' | 'enum' | 'fixed';
  readonly schema: Json;
  /** The namespace the definition's children inherit. */
  readonly childSpace: string;
  readonly module: string;
  tsName: string;
}

const primitives: Readonly<Record<string, string>> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'bigint',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function fullNameOf(schema: Json, space: string): string {
  const name = String(schema.name);
  if (name.includes('.')) return name;
  const namespace = typeof schema.namespace === 'string' ? schema.namespace : space;
  return namespace === '' ? name : `${namespace}.${name}`;
}

function spaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf('.');
  return dot < 0 ? '' : fullName.slice(0, dot);
}

function fail(module: string, message: string): never {
  throw new InvalidSchemaError(`${module}.avsc: ${message}`);
}

/** Collects the named types each file defines. */
function collect(file: AvroSourceFile, definitions: Map<string, Definition>): void {
  const visit = (schema: unknown, space: string): void => {
    if (Array.isArray(schema)) {
      for (const branch of schema) visit(branch, space);
      return;
    }
    if (!isObject(schema)) return;
    const { type } = schema;
    if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
      if (typeof schema.name !== 'string') fail(file.module, `a ${type} without a name`);
      const fullName = fullNameOf(schema, space);
      if (definitions.has(fullName)) fail(file.module, `${fullName} is defined twice`);
      const childSpace = spaceOf(fullName);
      definitions.set(fullName, {
        fullName,
        kind: type === 'error' ? 'record' : type,
        schema,
        childSpace,
        module: file.module,
        tsName: fullName.slice(fullName.lastIndexOf('.') + 1),
      });
      if (type === 'record' || type === 'error') {
        if (!Array.isArray(schema.fields)) fail(file.module, `record ${fullName} has no fields array`);
        for (const field of schema.fields) if (isObject(field)) visit(field.type, childSpace);
      }
      return;
    }
    if (type === 'array') visit(schema.items, space);
    else if (type === 'map') visit(schema.values, space);
    else if (isObject(type) || Array.isArray(type)) visit(type, space);
  };
  visit(file.schema, '');
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** Gives each definition a unique TypeScript name: the simple name, qualified when it collides. */
function assignNames(definitions: Map<string, Definition>): void {
  const bySimple = new Map<string, Definition[]>();
  for (const definition of definitions.values()) {
    const list = bySimple.get(definition.tsName) ?? [];
    list.push(definition);
    bySimple.set(definition.tsName, list);
  }
  for (const list of bySimple.values()) {
    if (list.length < 2) continue;
    for (const definition of list) definition.tsName = pascal(definition.fullName);
  }
}

class ModuleWriter {
  readonly imports = new Map<string, Set<string>>();

  constructor(
    readonly module: string,
    readonly definitions: Map<string, Definition>,
  ) {}

  lookup(name: string, space: string): Definition {
    const definition =
      this.definitions.get(name) ?? (space === '' ? undefined : this.definitions.get(`${space}.${name}`));
    if (definition === undefined) fail(this.module, `unknown type name ${name}`);
    if (definition.module !== this.module) {
      const names = this.imports.get(definition.module) ?? new Set<string>();
      names.add(definition.tsName);
      this.imports.set(definition.module, names);
    }
    return definition;
  }

  /** The TypeScript type of `schema` (named types by reference). */
  type(schema: unknown, space: string): string {
    if (typeof schema === 'string') {
      const primitive = primitives[schema];
      return primitive ?? this.lookup(schema, space).tsName;
    }
    if (Array.isArray(schema)) return this.union(schema, space);
    if (!isObject(schema)) fail(this.module, `invalid schema ${JSON.stringify(schema)}`);
    const logical = logicalType(schema);
    if (logical !== undefined) return logical;
    const { type } = schema;
    if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
      return this.lookup(fullNameOf(schema, space), space).tsName;
    }
    if (type === 'array') return `Array<${this.type(schema.items, space)}>`;
    if (type === 'map') return `Record<string, ${this.type(schema.values, space)}>`;
    return this.type(type, space);
  }

  union(branches: readonly unknown[], space: string): string {
    const buckets = branches.map((branch) => this.bucket(branch, space)).filter((b) => b !== undefined);
    const wrapped = new Set(buckets).size !== buckets.length;
    return branches
      .map((branch) => {
        const inner = this.type(branch, space);
        return wrapped && inner !== 'null'
          ? `{ ${JSON.stringify(this.branchName(branch, space))}: ${inner} }`
          : inner;
      })
      .join(' | ');
  }

  /** avsc's bucket of a union branch (two in one bucket make avsc wrap the union). */
  bucket(schema: unknown, space: string): string | undefined {
    if (typeof schema === 'string') {
      if (schema in primitives)
        return { int: 'number', float: 'number', double: 'number', bytes: 'buffer' }[schema] ?? schema;
      const definition = this.lookup(schema, space);
      return this.bucket(definition.schema, spaceOf(definition.fullName));
    }
    if (!isObject(schema)) return 'unknown';
    if (logicalType(schema) !== undefined) return undefined;
    const { type } = schema;
    if (type === 'record' || type === 'error' || type === 'map') return 'object';
    if (type === 'enum') return 'string';
    if (type === 'fixed') return 'buffer';
    if (type === 'array') return 'array';
    return this.bucket(type, space);
  }

  branchName(schema: unknown, space: string): string {
    if (typeof schema === 'string')
      return schema in primitives ? schema : this.lookup(schema, space).fullName;
    if (!isObject(schema)) return 'unknown';
    const { type } = schema;
    if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed')
      return fullNameOf(schema, space);
    if (type === 'array' || type === 'map') return type;
    return this.branchName(type, space);
  }
}

function logicalType(schema: Json): string | undefined {
  const { logicalType: logical, type } = schema;
  if (logical === 'timestamp-millis' && type === 'long') return 'Date';
  if (logical === 'date' && type === 'int') return 'string';
  if (logical === 'uuid' && type === 'string') return 'string';
  if (
    logical === 'decimal' &&
    (type === 'bytes' || type === 'fixed') &&
    typeof schema.precision === 'number'
  ) {
    return 'string';
  }
  return undefined;
}

function docComment(doc: unknown, indent: string): string {
  if (typeof doc !== 'string' || doc === '') return '';
  return `${indent}/** ${doc.replaceAll('*/', '*\\/').replaceAll('\n', `\n${indent} * `)} */\n`;
}

function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function renderDefinition(definition: Definition, writer: ModuleWriter): string {
  const { schema, tsName, fullName } = definition;
  const head = docComment(schema.doc, '') || `/** Avro ${definition.kind} \`${fullName}\`. */\n`;
  if (definition.kind === 'enum') {
    const symbols = Array.isArray(schema.symbols) ? schema.symbols.map((s) => JSON.stringify(String(s))) : [];
    return `${head}export type ${tsName} = ${symbols.join(' | ') || 'never'};\n`;
  }
  if (definition.kind === 'fixed') {
    const decimal = logicalType(schema);
    return `${head}export type ${tsName} = ${decimal ?? 'Buffer'};\n`;
  }
  const fields = (schema.fields as unknown[]).filter(isObject).map((field) => {
    const optional = 'default' in field ? '?' : '';
    return `${docComment(field.doc, '  ')}  ${propertyName(String(field.name))}${optional}: ${writer.type(field.type, definition.childSpace)};\n`;
  });
  return `${head}export interface ${tsName} {\n${fields.join('')}}\n`;
}

function camel(text: string): string {
  const p = pascal(text);
  return p === '' ? 'schema' : p[0]?.toLowerCase() + p.slice(1);
}

/**
 * Generates one TypeScript module per Avro schema file. Names are resolved across all `files`
 * (a schema may use a type another file defines: it is imported). Throws
 * {@link InvalidSchemaError} on an unknown name, a duplicate definition or a malformed schema.
 *
 * @example
 * ```ts
 * const [order] = generateAvroTypes([{ module: 'order', schema: JSON.parse(readFileSync('order.avsc', 'utf8')) }]);
 * writeFileSync(`src/generated/${order.fileName}`, order.source);
 * ```
 */
export function generateAvroTypes(files: readonly AvroSourceFile[]): GeneratedModule[] {
  const definitions = new Map<string, Definition>();
  for (const file of files) collect(file, definitions);
  assignNames(definitions);
  return files.map((file) => {
    const writer = new ModuleWriter(file.module, definitions);
    const bodies: string[] = [];
    for (const definition of definitions.values()) {
      if (definition.module === file.module) bodies.push(renderDefinition(definition, writer));
    }
    const top = file.schema;
    const topName =
      isObject(top) && typeof top.name === 'string'
        ? definitions.get(fullNameOf(top, ''))?.tsName
        : undefined;
    if (topName === undefined)
      bodies.push(
        `/** The values of ${file.module}.avsc. */\nexport type ${pascal(file.module)} = ${writer.type(top, '')};\n`,
      );
    bodies.push(
      `/** The Avro schema of ${file.module}.avsc, for \`registryAvro({ schema })\`. */\nexport const ${camel(file.module)}Schema = ${JSON.stringify(top, null, 2)} as const;\n`,
    );
    const imports = [...writer.imports.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([module, names]) => `import type { ${[...names].sort().join(', ')} } from './${module}.js';\n`);
    const header = `// Generated by cascade-avro-codegen from ${file.module}.avsc. Do not edit: regenerate.\n`;
    const source = [header, imports.length > 0 ? `${imports.join('')}\n` : '', bodies.join('\n')].join('');
    return { fileName: `${file.module}.ts`, source };
  });
}
