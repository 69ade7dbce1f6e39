/**
 * `InferAvro<typeof schema>`: the TypeScript type of the values an Avro schema describes, computed
 * from a schema literal declared `as const`, so `avro(schema)` and `registryAvro({ schema })` are
 * typed without code generation.
 *
 * @example
 * ```ts
 * const order = {
 *   type: 'record', name: 'Order', namespace: 'com.acme',
 *   fields: [
 *     { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
 *     { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
 *     { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
 *     { name: 'note', type: ['null', 'string'], default: null },
 *   ],
 * } as const;
 * type Order = InferAvro<typeof order>;
 * // { id: string; amount: string; status: 'NEW' | 'PAID'; note?: string | null }
 * ```
 * @module
 */

/** An Avro schema as JSON: a type name, a union (array), or a schema object. */
export type AvroSchema = string | readonly AvroSchema[] | AvroSchemaObject;

/** An Avro schema object: `{ type: ..., ... }`. */
export interface AvroSchemaObject {
  readonly type: AvroSchema;
  readonly [attribute: string]: unknown;
}

/** The Avro primitive type names. */
export type AvroPrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

type Primitive<N> = N extends 'null'
  ? null
  : N extends 'boolean'
    ? boolean
    : N extends 'int' | 'float' | 'double'
      ? number
      : N extends 'long'
        ? bigint
        : N extends 'bytes'
          ? Buffer
          : N extends 'string'
            ? string
            : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

// --- Names --------------------------------------------------------------------------------------

type FullName<Name extends string, Space, Enclosing extends string> = Name extends `${string}.${string}`
  ? Name
  : Space extends string
    ? Space extends ''
      ? Name
      : `${Space}.${Name}`
    : Enclosing extends ''
      ? Name
      : `${Enclosing}.${Name}`;

/** The namespace the children of a named type inherit. */
type ChildSpace<Full extends string> = Full extends `${infer Head}.${infer Tail}`
  ? Tail extends `${string}.${string}`
    ? `${Head}.${ChildSpace<Tail>}`
    : Head
  : '';

type Named = { readonly type: 'record' | 'error' | 'enum' | 'fixed'; readonly name: string };

type NameOf<S, Space extends string> = S extends { readonly name: infer N extends string }
  ? FullName<N, S extends { readonly namespace: infer NS } ? NS : undefined, Space>
  : never;

/** Pairs `{ [fullName]: [schema, its enclosing namespace] }` for every named type defined in `S`. */
type Definitions<S, Space extends string> = S extends readonly (infer Branch)[]
  ? Definitions<Branch, Space>
  : S extends Named
    ? { [K in NameOf<S, Space>]: readonly [S, Space] } | FieldDefinitions<S, ChildSpace<NameOf<S, Space>>>
    : S extends { readonly type: 'array'; readonly items: infer I }
      ? Definitions<I, Space>
      : S extends { readonly type: 'map'; readonly values: infer V }
        ? Definitions<V, Space>
        : S extends { readonly type: infer T extends object }
          ? Definitions<T, Space>
          : never;

type FieldDefinitions<S, Space extends string> = S extends { readonly fields: readonly (infer F)[] }
  ? F extends { readonly type: infer T }
    ? Definitions<T, Space>
    : never
  : never;

type Registry<S> =
  UnionToIntersection<Definitions<S, ''>> extends infer R
    ? R extends object
      ? R
      : EmptyRegistry
    : EmptyRegistry;

type EmptyRegistry = Record<never, never>;

type Lookup<Name extends string, Space extends string, Reg> = Name extends keyof Reg
  ? Reg[Name]
  : `${Space}.${Name}` extends keyof Reg
    ? Reg[`${Space}.${Name}`]
    : undefined;

// --- Unions -------------------------------------------------------------------------------------

/** avsc's bucket of a branch: a union is wrapped when two branches share one (avsc 'auto'). */
type Bucket<S, Space extends string, Reg> = S extends AvroPrimitiveName
  ? S extends 'int' | 'float' | 'double'
    ? 'number'
    : S extends 'bytes'
      ? 'buffer'
      : S
  : S extends string
    ? Lookup<S, Space, Reg> extends readonly [infer D, infer DS extends string]
      ? Bucket<D, DS, Reg>
      : 'unknown'
    : S extends { readonly logicalType: string }
      ? never // logical types are matched by value, never ambiguous
      : S extends { readonly type: 'record' | 'error' | 'map' }
        ? 'object'
        : S extends { readonly type: 'enum' }
          ? 'string'
          : S extends { readonly type: 'fixed' }
            ? 'buffer'
            : S extends { readonly type: 'array' }
              ? 'array'
              : S extends { readonly type: infer T }
                ? Bucket<T, Space, Reg>
                : 'unknown';

type Ambiguous<Branches, Space extends string, Reg, Seen = never> = Branches extends readonly [
  infer Head,
  ...infer Rest,
]
  ? [Bucket<Head, Space, Reg>] extends [never]
    ? Ambiguous<Rest, Space, Reg, Seen>
    : Bucket<Head, Space, Reg> extends Seen
      ? true
      : Ambiguous<Rest, Space, Reg, Seen | Bucket<Head, Space, Reg>>
  : false;

/** The key avsc uses for a branch of a wrapped union. */
type BranchName<S, Space extends string, Reg> = S extends string
  ? S extends AvroPrimitiveName
    ? S
    : Lookup<S, Space, Reg> extends readonly [infer D, infer DS extends string]
      ? NameOf<D, DS>
      : S
  : S extends Named
    ? NameOf<S, Space>
    : S extends { readonly type: infer T }
      ? BranchName<T, Space, Reg>
      : never;

type Union<Branches extends readonly unknown[], Space extends string, Reg> =
  Ambiguous<Branches, Space, Reg> extends true
    ? {
        [I in keyof Branches]: Branches[I] extends 'null'
          ? null
          : { [K in BranchName<Branches[I], Space, Reg>]: Infer<Branches[I], Space, Reg> };
      }[number]
    : { [I in keyof Branches]: Infer<Branches[I], Space, Reg> }[number];

// --- Records, logical types, complex types ------------------------------------------------------

type FieldType<F, Space extends string, Reg> = F extends { readonly type: infer T }
  ? Infer<T, Space, Reg>
  : never;

type RecordOf<S, Space extends string, Reg> = S extends { readonly fields: readonly (infer F)[] }
  ? Simplify<
      {
        [Field in F as Field extends { readonly default: unknown }
          ? never
          : Field extends { readonly name: infer N extends string }
            ? N
            : never]: FieldType<Field, Space, Reg>;
      } & {
        [Field in F as Field extends { readonly default: unknown }
          ? Field extends { readonly name: infer N extends string }
            ? N
            : never
          : never]?: FieldType<Field, Space, Reg>;
      }
    >
  : never;

type Logical<S, Space extends string, Reg> = S extends {
  readonly logicalType: 'timestamp-millis';
  readonly type: 'long';
}
  ? Date
  : S extends { readonly logicalType: 'date'; readonly type: 'int' }
    ? string
    : S extends { readonly logicalType: 'uuid'; readonly type: 'string' }
      ? string
      : S extends {
            readonly logicalType: 'decimal';
            readonly type: 'bytes' | 'fixed';
            readonly precision: number;
          }
        ? string
        : S extends { readonly type: infer T }
          ? T extends object
            ? Infer<T, Space, Reg>
            : Primitive<T> extends never
              ? Infer<Omit<S, 'logicalType'>, Space, Reg>
              : Primitive<T>
          : unknown;

type Infer<S, Space extends string, Reg> = S extends string
  ? S extends AvroPrimitiveName
    ? Primitive<S>
    : Lookup<S, Space, Reg> extends readonly [infer D, infer DS extends string]
      ? Infer<D, DS, Reg>
      : unknown
  : S extends readonly unknown[]
    ? Union<S, Space, Reg>
    : S extends { readonly logicalType: string }
      ? Logical<S, Space, Reg>
      : S extends { readonly type: 'record' | 'error' }
        ? RecordOf<S, ChildSpace<NameOf<S, Space>>, Reg>
        : S extends { readonly type: 'enum'; readonly symbols: readonly (infer Symbol)[] }
          ? Symbol
          : S extends { readonly type: 'fixed' }
            ? Buffer
            : S extends { readonly type: 'array'; readonly items: infer I }
              ? Infer<I, Space, Reg>[]
              : S extends { readonly type: 'map'; readonly values: infer V }
                ? Record<string, Infer<V, Space, Reg>>
                : S extends { readonly type: infer T }
                  ? Infer<T, Space, Reg>
                  : unknown;

/**
 * The TypeScript type of the values of Avro schema `S` (declare the schema `as const`).
 *
 * - `null` → `null`, `boolean` → `boolean`, `int`/`float`/`double` → `number`, `long` → `bigint`,
 *   `bytes`/`fixed` → `Buffer`, `string` → `string`
 * - records → objects (fields with a `default` are optional), enums → a union of their symbols,
 *   arrays → `T[]`, maps → `Record<string, T>`
 * - unions → a TypeScript union; when two branches are the same kind of JavaScript value (two
 *   records, a string and an enum, ...) avsc wraps them, and so does the type:
 *   `{ 'com.acme.Card': Card } | { 'com.acme.Cash': Cash }`
 * - logical types: `timestamp-millis` → `Date`, `date` → `'YYYY-MM-DD'` string, `uuid` → string,
 *   `decimal` → decimal string; the others → their underlying type
 * - names defined earlier in the same schema resolve to their definition; names defined elsewhere
 *   (schema references) are `unknown`: pass the type explicitly (`registryAvro<Order>(...)`) or
 *   use the `cascade-avro-codegen` CLI
 */
export type InferAvro<S> = IsWide<S> extends true ? unknown : Infer<S, '', Registry<S>>;

/** A schema whose type is not a literal (`AvroSchema`, `string`, `object`): nothing to infer. */
type IsWide<S> = string extends S ? true : AvroSchemaObject extends S ? true : false;
