/**
 * Saga definitions in code: a typed builder whose steps' reply types flow into the context of
 * later steps.
 *
 * @example
 * ```ts
 * const placeOrder = defineSaga<PlaceOrder>('place-order', { version: 2, timeoutMs: 60_000 })
 *   .step('reserve-stock', {
 *     participant: 'inventory',
 *     invoke: ({ input }) => ({ sku: input.sku, quantity: input.quantity }),
 *     reply: replyType<{ reservationId: string }>(),
 *     compensate: ({ reply }) => ({ reservationId: reply?.reservationId }),
 *     timeoutMs: 5_000,
 *   })
 *   .step('charge-card', {
 *     participant: 'payment',
 *     invoke: ({ input, results }) => ({ amount: input.amount, reservation: results['reserve-stock'].reservationId }),
 *     reply: replyType<{ chargeId: string }>(),
 *     compensate: ({ reply }) => ({ chargeId: reply?.chargeId }),
 *   })
 *   .step('confirm-order', { run: async ({ input }) => ({ confirmedAt: Date.now() }) })
 *   .build();
 * ```
 * @module
 */

import { ConfigError, type ResolvedRetryPolicy, type RetryPolicy, resolveRetryPolicy } from '@cascade/core';
import type { CommandContract } from './command.js';

/** What a step's functions see. `results` holds the replies of the steps before it. */
export interface StepContext<Input, Results> {
  readonly sagaId: string;
  readonly input: Input;
  readonly results: Results;
  /** The attempt being made, from 1. */
  readonly attempt: number;
}

/** What a compensation sees: the step's own reply, when it is known. */
export interface CompensationContext<Input, Results, Reply> extends StepContext<Input, Results> {
  /** The step's reply; `undefined` when its outcome is unknown (it timed out or kept failing). */
  readonly reply: Reply | undefined;
}

/** A phantom marker that carries a remote step's reply type: `reply: replyType<Reserved>()`. */
export interface ReplyType<T> {
  readonly __reply?: T;
}

/** Declares the type of a remote step's reply. Carries no runtime information. */
export function replyType<T>(): ReplyType<T> {
  return {};
}

interface CommonStepOptions<Input, Results> {
  /**
   * Run the step only when this returns true; otherwise it is recorded as skipped.
   * @default always
   */
  readonly when?: (context: StepContext<Input, Results>) => boolean;
  /** How long one attempt may take before its outcome is treated as unknown. @default no timeout */
  readonly timeoutMs?: number;
  /** How failed or timed-out attempts are retried before the saga compensates. @default RetryPolicy defaults */
  readonly retry?: RetryPolicy;
  /**
   * How a compensation is retried before the saga needs attention.
   * @default { maximumAttempts: 10, maximumIntervalMs: 60000 }
   */
  readonly compensationRetry?: RetryPolicy;
  /** How long one compensation attempt may take. @default timeoutMs */
  readonly compensationTimeoutMs?: number;
}

/** A step carried out by a participant: a command on its topic, answered on the reply topic. */
export interface RemoteStepOptions<Input, Results, Reply> extends CommonStepOptions<Input, Results> {
  /** The participant's name; commands go to its command topic. */
  readonly participant: string;
  /** The command name the participant dispatches on. @default the step name */
  readonly command?: string;
  /** Builds the command's payload (JSON). Called once per attempt; must not have side effects. */
  readonly invoke: (context: StepContext<Input, Results>) => unknown;
  /** The reply's type. */
  readonly reply?: ReplyType<Reply>;
  /** Builds the compensation command's payload; without it the step needs no compensation. */
  readonly compensate?: (context: CompensationContext<Input, Results, Reply>) => unknown;
}

/** A step the coordinator runs itself. Its return value is the step's reply. */
export interface LocalStepOptions<Input, Results, Reply> extends CommonStepOptions<Input, Results> {
  readonly run: (context: StepContext<Input, Results>) => Reply | Promise<Reply>;
  /** Undoes the step; without it the step needs no compensation. */
  readonly undo?: (context: CompensationContext<Input, Results, Reply>) => void | Promise<void>;
}

/**
 * A TCC (Try-Confirm/Cancel) step: the participant reserves on `try`; when every step of the
 * saga has succeeded the coordinator confirms each reservation, and when the saga fails it
 * cancels every one that may have been made. Confirm and cancel are retried until they succeed
 * (unless a budget is given). A reservation whose TTL passes before the confirm starts makes the
 * saga cancel instead.
 */
export interface TccStepOptions<Input, Results, Reply> {
  /** The participant's name: a Kafka participant, or an HTTP one given to the coordinator. */
  readonly participant: string;
  /** The resource (Kafka command name) the participant dispatches on. @default the step name */
  readonly command?: string;
  /** Builds the try's payload (JSON). Called once per attempt; must not have side effects. */
  readonly try: (context: StepContext<Input, Results>) => unknown;
  /** Builds the confirm's payload. @default null */
  readonly confirm?: (context: CompensationContext<Input, Results, Reply>) => unknown;
  /** Builds the cancel's payload. @default null */
  readonly cancel?: (context: CompensationContext<Input, Results, Reply>) => unknown;
  /** The try's reply type. */
  readonly reply?: ReplyType<Reply>;
  /**
   * How long the participant holds the reservation, counted from the moment the try is sent.
   * Participants may grant less (their answer's expiry wins). @default the participant decides
   */
  readonly reservationTtlMs?: number;
  /**
   * A confirm is not started later than this before the reservation expires; the saga cancels
   * instead. @default 10% of the reservation's lifetime, at most 5000
   */
  readonly expiryMarginMs?: number;
  readonly when?: (context: StepContext<Input, Results>) => boolean;
  /** How long one try, confirm or cancel call may take. @default no timeout */
  readonly timeoutMs?: number;
  /** How failed or timed-out tries are retried before the saga cancels. @default RetryPolicy defaults */
  readonly retry?: RetryPolicy;
  /** How confirms are retried. @default { maximumAttempts: 0 (until it succeeds), maximumIntervalMs: 60000 } */
  readonly confirmRetry?: RetryPolicy;
  /** How cancels are retried. @default { maximumAttempts: 0 (until it succeeds), maximumIntervalMs: 60000 } */
  readonly cancelRetry?: RetryPolicy;
}

/** Either kind of step. */
export type StepOptions<Input, Results, Reply> =
  | RemoteStepOptions<Input, Results, Reply>
  | LocalStepOptions<Input, Results, Reply>;

/**
 * A remote step that sends a typed command ({@link CommandContract}, from `defineCommand`): its
 * participant, command name, payload, reply and compensation types all come from the contract.
 */
export interface CommandStepOptions<Input, Results, Payload, Reply, Undo>
  extends CommonStepOptions<Input, Results> {
  readonly command: CommandContract<Payload, Reply, Undo>;
  /** Builds the command's payload. Called once per attempt; must not have side effects. */
  readonly invoke: (context: StepContext<Input, Results>) => Payload;
  /** Builds the compensation's payload; without it the step needs no compensation. */
  readonly compensate?: (context: CompensationContext<Input, Results, Reply>) => Undo;
}

type AnyStepOptions =
  | StepOptions<never, never, unknown>
  | CommandStepOptions<never, never, unknown, unknown, unknown>;

/** A contract step as the remote step it is. */
function fromContract(options: AnyStepOptions): StepOptions<never, never, unknown> {
  const command = (options as { command?: unknown }).command;
  if (typeof command !== 'object' || command === null) return options as StepOptions<never, never, unknown>;
  const contract = command as CommandContract<unknown, unknown, unknown>;
  return { ...(options as object), participant: contract.participant, command: contract.name } as StepOptions<
    never,
    never,
    unknown
  >;
}

/** A step as the engine sees it: untyped, with its policies resolved. */
export interface StepDefinition {
  readonly name: string;
  readonly kind: 'remote' | 'local' | 'tcc';
  readonly participant: string | undefined;
  readonly command: string;
  readonly timeoutMs: number | undefined;
  readonly compensationTimeoutMs: number | undefined;
  readonly retry: ResolvedRetryPolicy;
  readonly compensationRetry: ResolvedRetryPolicy;
  readonly compensable: boolean;
  readonly when: ((context: StepContext<unknown, Record<string, unknown>>) => boolean) | undefined;
  /** Remote: builds the command payload. Local: runs the step. */
  readonly invoke: (context: StepContext<unknown, Record<string, unknown>>) => unknown;
  /** Remote: builds the compensation payload. Local: undoes the step. TCC: builds the cancel's. */
  readonly compensate:
    | ((context: CompensationContext<unknown, Record<string, unknown>, unknown>) => unknown)
    | undefined;
  /** TCC only: the confirm's policy, payload builder, reservation TTL and safety margin. */
  readonly tcc?: {
    readonly confirm: (context: CompensationContext<unknown, Record<string, unknown>, unknown>) => unknown;
    readonly confirmRetry: ResolvedRetryPolicy;
    readonly reservationTtlMs: number | undefined;
    readonly expiryMarginMs: number | undefined;
  };
}

/** Options of {@link defineSaga}. */
export interface SagaOptions {
  /**
   * The definition's version. Each saga records the version it started with and finishes on it,
   * so deploy a changed definition under a new version and keep the old one registered until its
   * sagas have finished.
   * @default 1
   */
  readonly version?: number;
  /** A deadline for the whole saga; when it passes, the saga compensates. @default none */
  readonly timeoutMs?: number;
}

/** A built saga definition. `Input` and `Results` are carried for typing only. */
export interface SagaDefinition<Input = unknown, Results = Record<string, unknown>> {
  readonly name: string;
  readonly version: number;
  readonly timeoutMs: number | undefined;
  /** Groups run one after another; the steps of a group run in parallel. */
  readonly groups: ReadonlyArray<ReadonlyArray<StepDefinition>>;
  readonly steps: ReadonlyMap<string, StepDefinition>;
  readonly __types?: { readonly input: Input; readonly results: Results };
}

const defaultCompensationRetry: RetryPolicy = { maximumAttempts: 10, maximumIntervalMs: 60_000 };
/** TCC confirms and cancels are retried until they succeed: the participants hold reservations. */
const defaultTccSecondPhaseRetry: RetryPolicy = { maximumAttempts: 0, maximumIntervalMs: 60_000 };

function positiveOption(field: string, value: number | undefined, allowZero = false): void {
  if (value !== undefined && (!Number.isInteger(value) || value < (allowZero ? 0 : 1))) {
    throw new ConfigError(
      field,
      `expected a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}.`,
    );
  }
}

function toTccStepDefinition(
  saga: string,
  name: string,
  options: TccStepOptions<never, never, unknown>,
): StepDefinition {
  const field = `saga ${saga}, step ${name}`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ConfigError(field, 'step names may use letters, digits, ".", "_" and "-" only.');
  }
  if (typeof options.participant !== 'string' || options.participant.trim() === '')
    throw new ConfigError(`${field}.participant`, 'must not be empty.');
  if (typeof options.try !== 'function') throw new ConfigError(`${field}.try`, 'expected a function.');
  positiveOption(`${field}.timeoutMs`, options.timeoutMs);
  positiveOption(`${field}.reservationTtlMs`, options.reservationTtlMs);
  positiveOption(`${field}.expiryMarginMs`, options.expiryMarginMs, true);
  if (
    options.reservationTtlMs !== undefined &&
    options.expiryMarginMs !== undefined &&
    options.expiryMarginMs >= options.reservationTtlMs
  ) {
    throw new ConfigError(`${field}.expiryMarginMs`, 'must be less than reservationTtlMs.');
  }
  const nothing = () => null;
  return {
    name,
    kind: 'tcc',
    participant: options.participant,
    command: options.command ?? name,
    timeoutMs: options.timeoutMs,
    compensationTimeoutMs: options.timeoutMs,
    retry: resolveRetryPolicy(`${field}.retry`, options.retry),
    compensationRetry: resolveRetryPolicy(`${field}.cancelRetry`, {
      ...defaultTccSecondPhaseRetry,
      ...options.cancelRetry,
    }),
    // Every step that may have tried is cancelled, so a TCC step always has a compensation.
    compensable: true,
    when: options.when as StepDefinition['when'],
    invoke: options.try as StepDefinition['invoke'],
    compensate: (options.cancel ?? nothing) as StepDefinition['compensate'],
    tcc: {
      confirm: (options.confirm ?? nothing) as NonNullable<StepDefinition['tcc']>['confirm'],
      confirmRetry: resolveRetryPolicy(`${field}.confirmRetry`, {
        ...defaultTccSecondPhaseRetry,
        ...options.confirmRetry,
      }),
      reservationTtlMs: options.reservationTtlMs,
      expiryMarginMs: options.expiryMarginMs,
    },
  };
}

function toStepDefinition(saga: string, name: string, given: AnyStepOptions): StepDefinition {
  const options = fromContract(given);
  const field = `saga ${saga}, step ${name}`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ConfigError(field, 'step names may use letters, digits, ".", "_" and "-" only.');
  }
  for (const key of ['timeoutMs', 'compensationTimeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new ConfigError(`${field}.${key}`, `expected a positive integer, got ${value}.`);
    }
  }
  const common = {
    name,
    timeoutMs: options.timeoutMs,
    compensationTimeoutMs: options.compensationTimeoutMs ?? options.timeoutMs,
    retry: resolveRetryPolicy(`${field}.retry`, options.retry),
    compensationRetry: resolveRetryPolicy(`${field}.compensationRetry`, {
      ...defaultCompensationRetry,
      ...options.compensationRetry,
    }),
    when: options.when as StepDefinition['when'],
  };
  if ('participant' in options) {
    if (options.participant.trim() === '')
      throw new ConfigError(`${field}.participant`, 'must not be empty.');
    return {
      ...common,
      kind: 'remote',
      participant: options.participant,
      command: options.command ?? name,
      compensable: options.compensate !== undefined,
      invoke: options.invoke as StepDefinition['invoke'],
      compensate: options.compensate as StepDefinition['compensate'],
    };
  }
  return {
    ...common,
    kind: 'local',
    participant: undefined,
    command: name,
    compensable: options.undo !== undefined,
    invoke: options.run as StepDefinition['invoke'],
    compensate: options.undo as StepDefinition['compensate'],
  };
}

/** Collects the steps of a parallel group. */
export class ParallelBuilder<Input, Results, Group> {
  readonly #saga: string;
  readonly #steps: StepDefinition[];

  /** @internal */
  constructor(saga: string, steps: StepDefinition[]) {
    this.#saga = saga;
    this.#steps = steps;
  }

  /** Adds a step to the group. Steps of a group see the results of the steps before the group only. */
  step<Name extends string, Payload, Reply, Undo>(
    name: Name,
    options: CommandStepOptions<Input, Results, Payload, Reply, Undo>,
  ): ParallelBuilder<Input, Results, Group & Record<Name, Reply>>;
  step<Name extends string, Reply>(
    name: Name,
    options: StepOptions<Input, Results, Reply>,
  ): ParallelBuilder<Input, Results, Group & Record<Name, Reply>>;
  step(name: string, options: unknown): unknown {
    this.#steps.push(toStepDefinition(this.#saga, name, options as AnyStepOptions));
    return new ParallelBuilder(this.#saga, this.#steps);
  }

  /** Adds a TCC step to the group: the group's tries run in parallel. */
  tcc<Name extends string, Reply>(
    name: Name,
    options: TccStepOptions<Input, Results, Reply>,
  ): ParallelBuilder<Input, Results, Group & Record<Name, Reply>> {
    this.#steps.push(toTccStepDefinition(this.#saga, name, options as TccStepOptions<never, never, unknown>));
    return new ParallelBuilder(this.#saga, this.#steps);
  }
}

/** Builds a saga definition step by step; each step's reply type joins `Results`. */
export class SagaBuilder<Input, Results> {
  readonly #name: string;
  readonly #options: SagaOptions;
  readonly #groups: StepDefinition[][];

  /** @internal */
  constructor(name: string, options: SagaOptions, groups: StepDefinition[][]) {
    this.#name = name;
    this.#options = options;
    this.#groups = groups;
  }

  /**
   * Adds a step that runs after every step before it has succeeded (or been skipped). With a
   * typed command (`command: defineCommand(...)`) the payload, reply and compensation types come
   * from the contract.
   */
  step<Name extends string, Payload, Reply, Undo>(
    name: Name,
    options: CommandStepOptions<Input, Results, Payload, Reply, Undo>,
  ): SagaBuilder<Input, Results & Record<Name, Reply>>;
  step<Name extends string, Reply>(
    name: Name,
    options: StepOptions<Input, Results, Reply>,
  ): SagaBuilder<Input, Results & Record<Name, Reply>>;
  step(name: string, options: unknown): unknown {
    const step = toStepDefinition(this.#name, name, options as AnyStepOptions);
    return new SagaBuilder(this.#name, this.#options, [...this.#groups, [step]]);
  }

  /**
   * Adds a TCC step: its try runs here, its confirm after every step of the saga has succeeded,
   * its cancel when the saga fails. Put several in `parallel()` to try them at once.
   */
  tcc<Name extends string, Reply>(
    name: Name,
    options: TccStepOptions<Input, Results, Reply>,
  ): SagaBuilder<Input, Results & Record<Name, Reply>> {
    const step = toTccStepDefinition(this.#name, name, options as TccStepOptions<never, never, unknown>);
    return new SagaBuilder(this.#name, this.#options, [...this.#groups, [step]]);
  }

  /** Adds a group of steps that run in parallel; the saga goes on when all have succeeded. */
  parallel<Group>(
    build: (group: ParallelBuilder<Input, Results, unknown>) => ParallelBuilder<Input, Results, Group>,
  ): SagaBuilder<Input, Results & Group> {
    const steps: StepDefinition[] = [];
    build(new ParallelBuilder(this.#name, steps));
    if (steps.length === 0)
      throw new ConfigError(`saga ${this.#name}.parallel`, 'a parallel group needs a step.');
    return new SagaBuilder(this.#name, this.#options, [...this.#groups, steps]);
  }

  /** Validates and freezes the definition. */
  build(): SagaDefinition<Input, Results> {
    const version = this.#options.version ?? 1;
    if (!Number.isInteger(version) || version < 1) {
      throw new ConfigError(`saga ${this.#name}.version`, `expected a positive integer, got ${version}.`);
    }
    const timeoutMs = this.#options.timeoutMs;
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0)) {
      throw new ConfigError(`saga ${this.#name}.timeoutMs`, `expected a positive integer, got ${timeoutMs}.`);
    }
    if (this.#groups.length === 0)
      throw new ConfigError(`saga ${this.#name}`, 'a saga needs at least one step.');
    const steps = new Map<string, StepDefinition>();
    for (const step of this.#groups.flat()) {
      if (steps.has(step.name)) {
        throw new ConfigError(
          `saga ${this.#name}, step ${step.name}`,
          'step names must be unique in a saga.',
        );
      }
      steps.set(step.name, step);
    }
    return Object.freeze({
      name: this.#name,
      version,
      timeoutMs,
      groups: Object.freeze(this.#groups.map((group) => Object.freeze([...group]))),
      steps,
    });
  }
}

/**
 * Starts a saga definition. `Input` is the type of the input `begin()` takes.
 * @throws {ConfigError} for an empty or malformed name.
 */
export function defineSaga<Input>(
  name: string,
  options: SagaOptions = {},
): SagaBuilder<Input, Record<never, never>> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ConfigError('saga name', `"${name}" may use letters, digits, ".", "_" and "-" only.`);
  }
  return new SagaBuilder(name, options, []);
}

/** The input type of a saga definition. */
export type SagaInput<D> = D extends SagaDefinition<infer Input, unknown> ? Input : never;
/** The results (every step's reply, by step name) of a saga definition. */
export type SagaResults<D> = D extends SagaDefinition<unknown, infer Results> ? Results : never;
