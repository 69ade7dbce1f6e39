/**
 * Typed command contracts: a command defined once, with its payload, reply and compensation
 * types, used by the saga step that sends it and by the participant handler that answers it, so
 * both sides agree at compile time. An optional validator checks payloads at the participant's
 * boundary at run time (a command from an older or foreign producer).
 *
 * @example
 * ```ts
 * export const reserveStock = defineCommand<{ sku: string; quantity: number }, { reservationId: string }, { reservationId: string }>(
 *   'inventory',
 *   'reserve-stock',
 * );
 * // the saga:        .step('reserve', { command: reserveStock, invoke: ({ input }) => ({ sku: input.sku, quantity: 1 }),
 * //                                     compensate: ({ reply }) => ({ reservationId: reply?.reservationId ?? '' }) })
 * // the participant: commands: { ...handle(reserveStock, { invoke: async ({ sku, quantity }) => ({ reservationId: ... }) }) }
 * ```
 * @module
 */

import { ConfigError, requireNonEmptyString } from '@cascade/core';
import { BusinessFailure, type CommandContext, type CommandHandlers } from './participant.js';

/** Checks an incoming payload and returns it typed, or throws (the command is then refused). */
export type PayloadValidator<T> = (payload: unknown) => T;

/** A command's name, participant and types. Create it with {@link defineCommand}. */
export interface CommandContract<Payload, Reply, Undo = never> {
  /** The participant that handles it (its command topic). */
  readonly participant: string;
  /** The command's name, as the participant's `commands` map names it. */
  readonly name: string;
  readonly validatePayload: PayloadValidator<Payload> | undefined;
  readonly validateUndo: PayloadValidator<Undo> | undefined;
  /** Carries the types only; never set. */
  readonly __types?: { readonly payload: Payload; readonly reply: Reply; readonly undo: Undo };
}

/** Options of {@link defineCommand}. */
export interface CommandContractOptions<Payload, Undo> {
  /** Checks each command's payload at the participant before its handler runs. */
  readonly validate?: PayloadValidator<Payload>;
  /** Checks each compensation's payload at the participant before its handler runs. */
  readonly validateUndo?: PayloadValidator<Undo>;
}

const namePattern = /^[A-Za-z0-9._-]+$/;

/**
 * Defines a command of `participant`: `Payload` is what the step's `invoke` builds and the
 * handler's `invoke` takes, `Reply` what the handler returns and later steps see in `results`,
 * `Undo` the compensation's payload (`never`: the command has no compensation).
 * @throws {ConfigError} for an empty or malformed participant or name.
 */
export function defineCommand<Payload, Reply = void, Undo = never>(
  participant: string,
  name: string,
  options: CommandContractOptions<Payload, Undo> = {},
): CommandContract<Payload, Reply, Undo> {
  requireNonEmptyString('participant', participant);
  if (!namePattern.test(name)) {
    throw new ConfigError('name', `"${name}" may use letters, digits, ".", "_" and "-" only.`);
  }
  for (const key of ['validate', 'validateUndo'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new ConfigError(key, 'expected a function that returns the payload or throws.');
    }
  }
  return Object.freeze({
    participant,
    name,
    validatePayload: options.validate,
    validateUndo: options.validateUndo,
  });
}

/** A participant's handlers of one {@link CommandContract}, typed by it. */
export interface TypedCommandHandlers<Payload, Reply, Undo> {
  invoke(payload: Payload, context: CommandContext): Reply | Promise<Reply>;
  /** Undo. Must accept a compensation for a command that was never applied (answer success). */
  compensate?(payload: Undo, context: CommandContext): unknown;
}

const contractOf = Symbol.for('cascade.saga.commandContract');

/** The contract a handler entry was made for (set by {@link handle}). @internal */
export function contractOfHandlers(
  handlers: CommandHandlers,
): CommandContract<unknown, unknown, unknown> | undefined {
  return (handlers as { [contractOf]?: CommandContract<unknown, unknown, unknown> })[contractOf];
}

function validated<T>(validate: PayloadValidator<T> | undefined, payload: unknown, what: string): T {
  if (validate === undefined) return payload as T;
  try {
    return validate(payload);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BusinessFailure('InvalidCommand', `The ${what} failed validation: ${reason}`, undefined, {
      cause: error,
    });
  }
}

/**
 * The `commands` entry of a participant for `contract`: spread it into the participant's
 * `commands`. With the contract's validators, a payload that fails them is refused with
 * `BusinessFailure('InvalidCommand')` (the step fails without retries and the saga compensates)
 * before the handler runs.
 */
export function handle<Payload, Reply, Undo>(
  contract: CommandContract<Payload, Reply, Undo>,
  handlers: TypedCommandHandlers<Payload, Reply, Undo>,
): Readonly<Record<string, CommandHandlers>> {
  if (typeof handlers?.invoke !== 'function') {
    throw new ConfigError(`commands.${contract.name}.invoke`, 'expected a function.');
  }
  const compensate = handlers.compensate;
  const entry: CommandHandlers = {
    invoke: (payload, context) =>
      handlers.invoke(validated(contract.validatePayload, payload, `payload of ${contract.name}`), context),
    ...(compensate === undefined
      ? {}
      : {
          compensate: (payload: unknown, context: CommandContext) =>
            compensate.call(
              handlers,
              validated(contract.validateUndo, payload, `compensation of ${contract.name}`),
              context,
            ),
        }),
  };
  Object.defineProperty(entry, contractOf, { value: contract });
  return { [contract.name]: entry };
}
