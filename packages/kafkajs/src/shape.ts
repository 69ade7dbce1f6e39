/**
 * What a patch relies on in a kafkajs class, checked before it patches: each prototype method it
 * calls or replaces, and each instance field it reads or writes (a field kafkajs' constructor or
 * methods assign: `this.<field>` in the class's source). A patch whose class lacks any of them
 * declines (and the client factory warns once), instead of patching a shape it does not know.
 * @module
 */

/** The methods and fields of one class a patch relies on. */
export interface ClassShape {
  /** Prototype methods. */
  readonly methods?: readonly string[];
  /** Instance fields, found as `this.<field>` in the class's source. */
  readonly fields?: readonly string[];
}

/** The first member of `shape` that `target` lacks, or undefined when it has them all. */
export function missingMember(target: unknown, shape: ClassShape): string | undefined {
  if (typeof target !== 'function') return 'the class itself';
  const proto = (target as { prototype?: Record<string, unknown> }).prototype;
  for (const method of shape.methods ?? []) {
    if (typeof proto?.[method] !== 'function') return `method ${method}`;
  }
  const fields = shape.fields ?? [];
  if (fields.length === 0) return undefined;
  const source = Function.prototype.toString.call(target);
  for (const field of fields) {
    if (!new RegExp(`\\bthis\\.${field}\\b`).test(source)) return `field ${field}`;
  }
  return undefined;
}

/** Whether `target` has every member of `shape`. */
export function hasShape(target: unknown, shape: ClassShape): boolean {
  return missingMember(target, shape) === undefined;
}
