/**
 * Building blocks for decorators that work under both TypeScript decorator modes — standard
 * ECMAScript decorators (TypeScript >= 5) and `experimentalDecorators` (as NestJS apps use) — with
 * no `reflect-metadata`: a method decorator records the method by function identity in a
 * `WeakMap`; a class decorator then finds the recorded methods on the class's prototype chain.
 *
 * @example
 * ```ts
 * const routes = new MethodMarks<{ path: string }>();
 * const Get = (path: string) => routes.decorator(`@Get(${path})`, { path });
 * const Controller = () => classDecorator((ctor) => console.log(routes.collect(ctor)));
 * ```
 * @module
 */

import { ConfigError } from './errors.js';

/** Any method. */
export type AnyMethod = (...args: never[]) => unknown;
/** Any class. */
export type AnyClass = abstract new (...args: never[]) => unknown;

/**
 * A method decorator that fits both decorator modes. Generic in the decorated method `T`: under
 * `experimentalDecorators` TypeScript matches the descriptor's exact method type
 * (`TypedPropertyDescriptor<T>` is invariant in `T`), so a decorator typed for `M` alone refused
 * every method narrower than `M` — an `async` one returning `Promise<void>` — with TS1241.
 */
export interface DualMethodDecorator<M extends AnyMethod> {
  /** Standard ECMAScript decorators. */
  <T extends M>(value: T, context: ClassMethodDecoratorContext): void;
  /** `experimentalDecorators`. */
  <T extends M>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): void;
}

/** A class decorator that fits both decorator modes. */
export interface DualClassDecorator {
  /** Standard ECMAScript decorators. */
  <C extends AnyClass>(value: C, context: ClassDecoratorContext<C>): void;
  /** `experimentalDecorators`. */
  <C extends AnyClass>(target: C): void;
}

function isStandardContext(value: unknown): value is { kind: string; name: string | symbol } {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value;
}

/** Marks recorded on methods by a family of method decorators. */
export class MethodMarks<T> {
  readonly #marks = new WeakMap<AnyMethod, T[]>();

  /**
   * A method decorator that records `mark` on the method it decorates.
   * @param label how the decorator is named in errors, e.g. `@Command(reserve)`.
   * @throws {ConfigError} when it decorates something other than a method.
   */
  decorator<M extends AnyMethod>(label: string, mark: T): DualMethodDecorator<M> {
    const record = (fn: unknown, name: string | symbol, kind = 'method'): void => {
      if (typeof fn !== 'function' || kind !== 'method') {
        throw new ConfigError(label, `must decorate a method, not the ${kind} ${String(name)}.`);
      }
      const marks = this.#marks.get(fn as AnyMethod) ?? [];
      marks.push(mark);
      this.#marks.set(fn as AnyMethod, marks);
    };
    return ((first: unknown, second: unknown, third?: PropertyDescriptor): void => {
      if (isStandardContext(second)) record(first, second.name, second.kind);
      else record(third?.value, second as string | symbol);
    }) as DualMethodDecorator<M>;
  }

  /** The marked methods of a class and its base classes, by property key (nearest class wins). */
  collect(ctor: AnyClass): Array<{ readonly key: string | symbol; readonly mark: T }> {
    const found: Array<{ key: string | symbol; mark: T }> = [];
    const seen = new Set<string | symbol>();
    for (
      let proto = ctor.prototype as object | null;
      proto !== null && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const key of Reflect.ownKeys(proto)) {
        if (key === 'constructor' || seen.has(key)) continue;
        const fn = Object.getOwnPropertyDescriptor(proto, key)?.value as AnyMethod | undefined;
        const marks = typeof fn === 'function' ? this.#marks.get(fn) : undefined;
        if (marks === undefined) continue;
        seen.add(key);
        for (const mark of marks) found.push({ key, mark });
      }
    }
    return found;
  }
}

/** A class decorator (both modes) that calls `apply` with the decorated class. */
export function classDecorator(apply: (ctor: AnyClass) => void): DualClassDecorator {
  return ((value: AnyClass): void => apply(value)) as DualClassDecorator;
}
