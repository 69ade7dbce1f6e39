/**
 * Saga participants as decorated classes: `@SagaParticipant(name)` on the class, `@Command(name)`
 * on the method that carries a command out and `@Compensate(name)` on the one that undoes it.
 * Works under standard ECMAScript decorators and `experimentalDecorators`, without
 * `reflect-metadata`.
 *
 * @example
 * ```ts
 * @SagaParticipant('inventory')
 * class Inventory {
 *   @Command('reserve-stock')
 *   async reserve(payload: unknown, context: CommandContext) { ... }
 *   @Compensate('reserve-stock')
 *   async release(payload: unknown, context: CommandContext) { ... }
 * }
 * await using participant = createSagaParticipant({ kafka, topics, ...participantFrom(new Inventory()) });
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
} from '@cascade/core';
import type { CommandContext, CommandHandlers } from './participant.js';
import type { Phase } from './state.js';

/**
 * A command handler method: any payload type (the method says what it expects; the coordinator's
 * step decides what is sent), sync or async. Method-style (bivariant in its parameters) so a
 * method typed `(payload: Reserve, context) => Promise<void>` fits.
 */
export type CommandMethod = {
  bivarianceHack(payload: unknown, context: CommandContext): unknown;
}['bivarianceHack'];

type SagaPhase = Exclude<Phase, 'confirm'>;
const marks = new MethodMarks<{ readonly command: string; readonly phase: SagaPhase }>();
const participants = new WeakMap<
  AnyClass,
  { readonly name: string; readonly commands: Map<string, Record<SagaPhase, string | symbol | undefined>> }
>();

/** Marks the method that carries out `command`. */
export function Command(command: string): DualMethodDecorator<CommandMethod> {
  return marks.decorator<CommandMethod>(`@Command(${command})`, { command, phase: 'invoke' });
}

/** Marks the method that undoes `command`. It must accept an undo of a command it never applied. */
export function Compensate(command: string): DualMethodDecorator<CommandMethod> {
  return marks.decorator<CommandMethod>(`@Compensate(${command})`, { command, phase: 'compensate' });
}

/** Marks a class whose `@Command` / `@Compensate` methods make up the participant `name`. */
export function SagaParticipant(name: string): DualClassDecorator {
  return classDecorator((ctor) => {
    const commands = new Map<string, Record<SagaPhase, string | symbol | undefined>>();
    for (const { key, mark } of marks.collect(ctor)) {
      const entry = commands.get(mark.command) ?? { invoke: undefined, compensate: undefined };
      if (entry[mark.phase] !== undefined) {
        throw new ConfigError(
          `@SagaParticipant(${name})`,
          `two methods handle the ${mark.phase} of ${mark.command}.`,
        );
      }
      entry[mark.phase] = key;
      commands.set(mark.command, entry);
    }
    for (const [command, entry] of commands) {
      if (entry.invoke === undefined) {
        throw new ConfigError(
          `@SagaParticipant(${name})`,
          `@Compensate(${command}) has no @Command(${command}).`,
        );
      }
    }
    if (commands.size === 0)
      throw new ConfigError(`@SagaParticipant(${name})`, 'the class has no @Command methods.');
    participants.set(ctor, { name, commands });
  });
}

/**
 * The participant name and command handlers of a decorated instance, for `createSagaParticipant`.
 * @throws {ConfigError} when the instance's class is not a `@SagaParticipant`.
 */
export function participantFrom(instance: object): {
  participant: string;
  commands: Record<string, CommandHandlers>;
} {
  let info: ReturnType<typeof participants.get>;
  for (
    let ctor = instance.constructor as AnyClass | null;
    info === undefined && typeof ctor === 'function';
  ) {
    info = participants.get(ctor);
    ctor = Object.getPrototypeOf(ctor) as AnyClass | null;
  }
  if (info === undefined) {
    throw new ConfigError(
      'participantFrom',
      `${instance.constructor?.name ?? 'the object'} is not a @SagaParticipant class.`,
    );
  }
  const call = (key: string | symbol | undefined) =>
    key === undefined
      ? undefined
      : (payload: unknown, context: CommandContext) =>
          ((instance as Record<string | symbol, CommandMethod>)[key] as CommandMethod).call(
            instance,
            payload,
            context,
          );
  const commands: Record<string, CommandHandlers> = {};
  for (const [command, entry] of info.commands) {
    const invoke = call(entry.invoke) as CommandMethod;
    const compensate = call(entry.compensate);
    commands[command] = compensate === undefined ? { invoke } : { invoke, compensate };
  }
  return { participant: info.name, commands };
}
