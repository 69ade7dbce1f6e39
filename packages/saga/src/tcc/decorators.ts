/**
 * TCC participants as decorated classes: `@TccParticipant(name)` on the class, and `@Try`,
 * `@Confirm`, `@Cancel` on the methods of each resource (several resources per class). Works
 * under standard ECMAScript decorators and `experimentalDecorators`, without `reflect-metadata`.
 *
 * @example
 * ```ts
 * @TccParticipant('payments')
 * class Payments {
 *   @Try('authorize') async hold(payload: unknown, ctx: TccContext<pg.PoolClient>) { ... }
 *   @Confirm('authorize') async capture(payload: unknown, ctx: TccContext<pg.PoolClient>) { ... }
 *   @Cancel('authorize') async release(payload: unknown, ctx: TccContext<pg.PoolClient>) { ... }
 * }
 * const { participant, resources } = tccParticipantFrom(new Payments());
 * createSagaParticipant({ kafka, participant, commands: tccCommandMap(resources, { guard }) });
 * http.createServer(tccHttpHandler(resources.authorize, { guard, basePath: '/payments/authorize' }));
 * ```
 * @module
 */

import {
  type AnyClass,
  ConfigError,
  classDecorator,
  type DualClassDecorator,
  type DualMethodDecorator,
  MethodMarks,
  rejectUnknownKeys,
} from '@cascade/core';
import type { CommandHandlers } from '../participant.js';
import { tccCommandMapOptionKeys } from './options.js';
import {
  type TccContext,
  type TccHandlers,
  type TccParticipantOptions,
  type TccPhase,
  tccCommands,
} from './participant.js';

/**
 * A TCC handler method. Its context's `db` may be typed for the store (`TccContext<PoolClient>`):
 * the parameter is checked bivariantly.
 */
export type TccMethod = {
  bivarianceHack(payload: unknown, context: TccContext<unknown>): unknown;
}['bivarianceHack'];

const marks = new MethodMarks<{ readonly resource: string; readonly phase: TccPhase }>();
type Methods = Record<TccPhase, string | symbol | undefined>;
const participants = new WeakMap<
  AnyClass,
  { readonly name: string; readonly resources: Map<string, Methods> }
>();

/** Marks the method that tries (reserves) `resource`. */
export function Try(resource: string): DualMethodDecorator<TccMethod> {
  return marks.decorator<TccMethod>(`@Try(${resource})`, { resource, phase: 'try' });
}

/** Marks the method that confirms `resource`. */
export function Confirm(resource: string): DualMethodDecorator<TccMethod> {
  return marks.decorator<TccMethod>(`@Confirm(${resource})`, { resource, phase: 'confirm' });
}

/** Marks the method that cancels `resource`. */
export function Cancel(resource: string): DualMethodDecorator<TccMethod> {
  return marks.decorator<TccMethod>(`@Cancel(${resource})`, { resource, phase: 'cancel' });
}

const decoratorName: Record<TccPhase, string> = { try: 'Try', confirm: 'Confirm', cancel: 'Cancel' };

/**
 * Marks a class whose `@Try` / `@Confirm` / `@Cancel` methods make up the TCC participant `name`.
 * @throws {ConfigError} when a resource lacks one of the three, or has two methods for one phase.
 */
export function TccParticipant(name: string): DualClassDecorator {
  return classDecorator((ctor) => {
    const label = `@TccParticipant(${name})`;
    const resources = new Map<string, Methods>();
    for (const { key, mark } of marks.collect(ctor)) {
      const entry = resources.get(mark.resource) ?? { try: undefined, confirm: undefined, cancel: undefined };
      if (entry[mark.phase] !== undefined) {
        throw new ConfigError(label, `two methods are @${decoratorName[mark.phase]}(${mark.resource}).`);
      }
      entry[mark.phase] = key;
      resources.set(mark.resource, entry);
    }
    if (resources.size === 0)
      throw new ConfigError(label, 'the class has no @Try, @Confirm or @Cancel methods.');
    for (const [resource, entry] of resources) {
      const missing = (['try', 'confirm', 'cancel'] as const).filter((phase) => entry[phase] === undefined);
      if (missing.length > 0) {
        throw new ConfigError(
          label,
          `the resource ${resource} has no ${missing.map((phase) => `@${decoratorName[phase]}(${resource})`).join(', ')} method; each resource needs @Try, @Confirm and @Cancel.`,
        );
      }
    }
    participants.set(ctor, { name, resources });
  });
}

/**
 * The participant name and the handlers of each resource of a decorated instance, for
 * {@link tccCommands} / {@link tccCommandMap} and `tccHttpHandler`.
 * @throws {ConfigError} when the instance's class is not a `@TccParticipant`.
 */
export function tccParticipantFrom<Db = unknown>(
  instance: object,
): { participant: string; resources: Record<string, TccHandlers<Db>> } {
  let info: ReturnType<typeof participants.get>;
  for (
    let ctor = instance.constructor as AnyClass | null;
    info === undefined && typeof ctor === 'function';
    ctor = Object.getPrototypeOf(ctor) as AnyClass | null
  ) {
    info = participants.get(ctor);
  }
  if (info === undefined) {
    throw new ConfigError(
      'tccParticipantFrom',
      `${instance.constructor?.name ?? 'the object'} is not a @TccParticipant class.`,
    );
  }
  const call =
    (key: string | symbol | undefined) =>
    (payload: unknown, context: TccContext<Db>): unknown =>
      ((instance as Record<string | symbol, TccMethod>)[key as string | symbol] as TccMethod).call(
        instance,
        payload,
        context,
      );
  const resources: Record<string, TccHandlers<Db>> = {};
  for (const [resource, entry] of info.resources) {
    resources[resource] = { try: call(entry.try), confirm: call(entry.confirm), cancel: call(entry.cancel) };
  }
  return { participant: info.name, resources };
}

/**
 * Command handlers for several resources at once, each registered on the guard under its own
 * name: `createSagaParticipant({ commands: tccCommandMap(resources, { guard }) })`.
 */
export function tccCommandMap<Db>(
  resources: Readonly<Record<string, TccHandlers<Db>>>,
  options: Omit<TccParticipantOptions<Db>, 'resource'>,
): Record<string, CommandHandlers> {
  rejectUnknownKeys('tccCommandMap', options, tccCommandMapOptionKeys);
  const commands: Record<string, CommandHandlers> = {};
  for (const [resource, handlers] of Object.entries(resources)) {
    commands[resource] = tccCommands(handlers, { ...options, resource });
  }
  return commands;
}
