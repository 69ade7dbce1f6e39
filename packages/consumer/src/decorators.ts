/**
 * Decorated handler classes: `@Handler()` on a class, `@Subscribe(topic, options)` on its
 * methods. The same decorators work under standard ECMAScript decorators (TypeScript >= 5) and
 * under `experimentalDecorators` (as NestJS apps use), with no `reflect-metadata`: methods are
 * recorded by function identity in a module-level `WeakMap`, and `@Handler` collects them.
 *
 * @example
 * ```ts
 * @Handler({ groupId: 'billing' })
 * class Billing {
 *   @Subscribe('orders', { value: json<Order>(), concurrency: 'key' })
 *   async onOrder(message: Message<string, Order>) { ... }
 * }
 * consumer.register(new Billing());
 * ```
 * @module
 */

import { DecoratorError } from './errors.js';
import type { HandledValue, HandlerContext, Message, SubscriptionOptions, TombstoneMode } from './types.js';

/** Options of {@link Handler}. */
export interface HandlerClassOptions {
  /** The consumer group of this class's subscriptions, used by `startHandlers`. @default the consumer's groupId */
  readonly groupId?: string;
}

/** Options of {@link Subscribe}: a subscription without topic and handler. */
export type SubscribeOptions<K, V, T extends TombstoneMode = 'handle'> = Omit<
  SubscriptionOptions<K, V, T>,
  'topic' | 'topics' | 'pattern' | 'handler' | 'batchHandler'
>;

/** What to subscribe: a topic, several, or a pattern. */
export type SubscribeTarget = string | readonly string[] | RegExp;

/** A recorded `@Subscribe` method. */
export interface HandlerMethod {
  readonly method: string | symbol;
  readonly target: SubscribeTarget;
  readonly options: SubscribeOptions<unknown, unknown>;
}

/** What `@Handler` recorded about a class. */
export interface HandlerClassInfo {
  readonly options: HandlerClassOptions;
  readonly methods: readonly HandlerMethod[];
}

type AnyFunction = (...args: never[]) => unknown;
type AnyClass = abstract new (...args: never[]) => unknown;

const subscribedMethods = new WeakMap<AnyFunction, Array<Omit<HandlerMethod, 'method'>>>();
const methodNames = new WeakMap<AnyFunction, string | symbol>();
const handlerClasses = new WeakMap<object, HandlerClassInfo>();

function isStandardContext(value: unknown): value is { kind: string; name: string | symbol } {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value;
}

/** The method a handler method decorator gets: `(message, context) => ...`. */
export type HandlerMethodFn<K, V> = (message: Message<K, V>, context: HandlerContext) => unknown;

/** The decorator {@link Subscribe} returns; fits both decorator modes. */
export interface SubscribeDecorator<K, V> {
  /** Standard ECMAScript decorators. */
  <M extends HandlerMethodFn<K, V>>(value: M, context: ClassMethodDecoratorContext): void;
  /** `experimentalDecorators`. */
  <M extends HandlerMethodFn<K, V>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void;
}

/**
 * Marks a method as the handler of `target` (a topic, topics or a pattern). `K` and `V` come
 * from the serdes, and the method's message type must match them: `message.value` is `V | null`
 * (a tombstone) unless `tombstones: 'skip'`.
 */
export function Subscribe<V, K = string, T extends TombstoneMode = 'handle'>(
  target: SubscribeTarget,
  options: SubscribeOptions<K, V, T>,
): SubscribeDecorator<K, HandledValue<V, T>> {
  if (typeof options?.value?.deserialize !== 'function') {
    throw new DecoratorError(`@Subscribe(${String(target)}) needs a value serde: { value: json() }.`);
  }
  const record = (fn: unknown, name: string | symbol): void => {
    if (typeof fn !== 'function') {
      throw new DecoratorError(`@Subscribe(${String(target)}) must decorate a method, not ${String(name)}.`);
    }
    const list = subscribedMethods.get(fn as AnyFunction) ?? [];
    list.push({ target, options: options as SubscribeOptions<unknown, unknown> });
    subscribedMethods.set(fn as AnyFunction, list);
    methodNames.set(fn as AnyFunction, name);
  };
  return ((first: unknown, second: unknown, third?: PropertyDescriptor): void => {
    if (isStandardContext(second)) {
      if (second.kind !== 'method') {
        throw new DecoratorError(
          `@Subscribe(${String(target)}) must decorate a method, not a ${second.kind}.`,
        );
      }
      record(first, second.name);
      return;
    }
    record(third?.value, second as string | symbol);
  }) as SubscribeDecorator<K, HandledValue<V, T>>;
}

/** The decorator {@link Handler} returns; fits both decorator modes. */
export interface HandlerDecorator {
  /** Standard ECMAScript decorators. */
  <C extends AnyClass>(value: C, context: ClassDecoratorContext<C>): void;
  /** `experimentalDecorators`. */
  <C extends AnyClass>(target: C): void;
}

/** Marks a class whose `@Subscribe` methods a consumer registers. */
export function Handler(options: HandlerClassOptions = {}): HandlerDecorator {
  return ((value: AnyClass): void => {
    const methods: HandlerMethod[] = [];
    const seen = new Set<string | symbol>();
    for (
      let proto = value.prototype as object | null;
      proto !== null && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const key of Reflect.ownKeys(proto)) {
        if (key === 'constructor' || seen.has(key)) continue;
        const descriptor = Object.getOwnPropertyDescriptor(proto, key);
        const fn = descriptor?.value as AnyFunction | undefined;
        if (typeof fn !== 'function') continue;
        const specs = subscribedMethods.get(fn);
        if (specs === undefined) continue;
        seen.add(key);
        for (const spec of specs) methods.push({ method: key, ...spec });
      }
    }
    if (methods.length === 0) {
      throw new DecoratorError(`@Handler class ${value.name} has no @Subscribe methods.`);
    }
    handlerClasses.set(value, { options, methods });
  }) as HandlerDecorator;
}

/** What `@Handler` recorded for `instance`'s class (or a base class); `undefined` when not decorated. */
export function handlerInfo(instance: object): HandlerClassInfo | undefined {
  for (
    let ctor = instance.constructor as object | null;
    typeof ctor === 'function';
    ctor = Object.getPrototypeOf(ctor)
  ) {
    const info = handlerClasses.get(ctor);
    if (info !== undefined) return info;
  }
  return undefined;
}

/** Turns a decorated instance into subscriptions whose handlers call its methods (with `this` bound). */
export function subscriptionsOf(instance: object): Array<SubscriptionOptions<unknown, unknown>> {
  const info = handlerInfo(instance);
  if (info === undefined) {
    throw new DecoratorError(
      `${instance.constructor?.name ?? 'This object'} is not a @Handler class: decorate the class with @Handler() and its methods with @Subscribe().`,
    );
  }
  return info.methods.map(({ method, target, options }) => {
    const fn = (instance as Record<string | symbol, unknown>)[method] as HandlerMethodFn<unknown, unknown>;
    const where =
      target instanceof RegExp
        ? { pattern: target }
        : typeof target === 'string'
          ? { topic: target }
          : { topics: target };
    return {
      ...options,
      ...where,
      handler: (message: Message<unknown, unknown>, context: HandlerContext) =>
        fn.call(instance, message, context),
    } as SubscriptionOptions<unknown, unknown>;
  });
}
