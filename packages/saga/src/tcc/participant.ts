/**
 * TCC participants: a resource's try, confirm and cancel handlers, guarded by a {@link TccGuard},
 * served over Kafka ({@link tccCommands}, for `createSagaParticipant`) or over HTTP
 * (`tccHttpHandler`).
 *
 * @example
 * ```ts
 * const guard = createTccGuard({ store: postgresGuardStore({ pool }) });
 * const authorize: TccHandlers<pg.PoolClient> = {
 *   try: async (payload, ctx) => (await ctx.db.query('INSERT ... RETURNING id', [...])).rows[0],
 *   confirm: async (_payload, ctx) => { await ctx.db.query('UPDATE ... captured', [...]); },
 *   cancel: async (_payload, ctx) => { await ctx.db.query('DELETE ...', [...]); },
 * };
 * await using payments = createSagaParticipant({
 *   kafka, participant: 'payments',
 *   commands: { authorize: tccCommands(authorize, { guard, resource: 'authorize' }) },
 * });
 * ```
 * @module
 */

import { brandErrorClass, CascadeError, rejectUnknownKeys } from '@cascade/core';
import { SagaErrorCodes } from '../errors.js';
import { BusinessFailure, type CommandContext, type CommandHandlers, Reservation } from '../participant.js';
import type { TccCancelWork, TccGuard, TccStoredTry } from './guard.js';
import type { TccGuardKey } from './guard-store.js';
import { bodyProblem, keyProblem } from './http-request.js';
import { tccParticipantOptionKeys } from './options.js';

/** The TCC phases. */
export type TccPhase = 'try' | 'confirm' | 'cancel';

/** What a TCC handler sees besides the payload. */
export interface TccContext<Db = unknown> {
  /** The global transaction: the saga id. */
  readonly transaction: string;
  /** The branch: the step name. */
  readonly branch: string;
  readonly phase: TccPhase;
  /** Over Kafka, the coordinator's attempt number. */
  readonly attempt?: number;
  /** The same for every attempt of this phase: pass it on to remote side effects. */
  readonly idempotencyKey: string;
  /** Try: when the reservation lapses (epoch ms). Confirm, cancel: the try's expiry. */
  readonly expiresAt?: number;
  /** Try: how long the coordinator asked the reservation to be held. */
  readonly reservationTtlMs?: number;
  /**
   * The guard store's transaction handle: the guard row commits with what the handler does
   * through it (a `pg.PoolClient` for `postgresGuardStore`, `undefined` for the memory store).
   */
  readonly db: Db;
  /** Confirm, cancel: the stored try (payload and result). Absent on a try. */
  readonly tried?: TccStoredTry;
  /** What the handler runs for: a guarded call, an expiry, or the undo of an overtaken try. */
  readonly cause: 'call' | 'expiry' | 'undo';
}

/**
 * A resource's handlers. Each runs inside the guard's transaction: exactly once per
 * (transaction, branch), except the cancel, which may also run to undo an intent-first try that a
 * cancel overtook. Over HTTP and on expiry, the cancel's and confirm's payload defaults to the
 * try's payload when the request has none.
 */
export interface TccHandlers<Db = unknown> {
  /** Reserves. Returns the result (JSON). Throw `BusinessFailure` to refuse. */
  try(payload: unknown, context: TccContext<Db>): unknown;
  /** Makes the reservation final. Must not refuse: throw only to be retried. */
  confirm(payload: unknown, context: TccContext<Db>): unknown;
  /** Releases the reservation. Must not refuse; must accept a try that did only part of its work. */
  cancel(payload: unknown, context: TccContext<Db>): unknown;
}

/** Options shared by the Kafka and HTTP TCC participants. */
export interface TccParticipantOptions<Db> {
  readonly guard: TccGuard<Db>;
  /**
   * The resource's name in guard rows; the guard's expiry sweep cancels a row with the cancel of
   * its resource. Unique per guard.
   * @default 'default' for {@link tccCommands}; the base path for `tccHttpHandler`
   */
  readonly resource?: string;
  /** How long to hold a reservation when the coordinator does not say. @default 300_000 */
  readonly defaultTtlMs?: number;
  /** Record the try's intent first (for tries with side effects outside the database). @default false */
  readonly intentFirst?: boolean;
}

/** Runs one guarded phase; the transports map the outcomes onto their wire. @internal */
export interface TccCall {
  readonly key: TccGuardKey;
  readonly payload: unknown;
  readonly idempotencyKey: string;
  readonly attempt?: number;
  readonly reservationTtlMs?: number;
}

/** The guarded phases of one resource, shared by the Kafka and HTTP participants. @internal */
export function guardedResource<Db>(
  handlers: TccHandlers<Db>,
  options: TccParticipantOptions<Db>,
  resource: string,
) {
  const { guard } = options;
  const defaultTtlMs = options.defaultTtlMs ?? 300_000;
  const context = (
    call: Pick<TccCall, 'key' | 'idempotencyKey' | 'attempt'>,
    phase: TccPhase,
    db: Db,
    cause: TccContext['cause'],
    extra: { tried?: TccStoredTry; expiresAt?: number | undefined; reservationTtlMs?: number },
  ): TccContext<Db> => ({
    transaction: call.key.transaction,
    branch: call.key.branch,
    phase,
    idempotencyKey: call.idempotencyKey,
    db,
    cause,
    ...(call.attempt === undefined ? {} : { attempt: call.attempt }),
    ...(extra.tried === undefined ? {} : { tried: extra.tried }),
    ...(extra.expiresAt === undefined ? {} : { expiresAt: extra.expiresAt }),
    ...(extra.reservationTtlMs === undefined ? {} : { reservationTtlMs: extra.reservationTtlMs }),
  });
  const cancelWork =
    (cause: 'expiry' | 'undo', idempotencyKey: (key: TccGuardKey) => string): TccCancelWork<Db> =>
    async (db, tried, key) =>
      handlers.cancel(
        tried.payload,
        context({ key, idempotencyKey: idempotencyKey(key) }, 'cancel', db, cause, {
          tried,
          expiresAt: tried.expiresAt,
        }),
      );
  const cancelKey = (key: TccGuardKey) => `${key.transaction}/${key.branch}/compensate`;
  const unregister = guard.register(resource, cancelWork('expiry', cancelKey));

  return {
    unregister,
    tryPhase(call: TccCall) {
      const reservationTtlMs = call.reservationTtlMs ?? defaultTtlMs;
      const expiresAt = guard.now() + reservationTtlMs;
      return guard.try(
        call.key,
        async (db) =>
          handlers.try(call.payload, context(call, 'try', db, 'call', { expiresAt, reservationTtlMs })),
        {
          resource,
          payload: call.payload,
          expiresAt,
          ...(options.intentFirst === undefined ? {} : { intentFirst: options.intentFirst }),
          cancel: cancelWork('undo', cancelKey),
        },
      );
    },
    confirmPhase(call: TccCall) {
      return guard.confirm(
        call.key,
        async (db, tried) =>
          handlers.confirm(
            call.payload === undefined ? tried.payload : call.payload,
            context(call, 'confirm', db, 'call', { tried, expiresAt: tried.expiresAt }),
          ),
        cancelWork('expiry', cancelKey),
      );
    },
    cancelPhase(call: TccCall) {
      return guard.cancel(
        call.key,
        async (db, tried) =>
          handlers.cancel(
            call.payload === undefined ? tried.payload : call.payload,
            context(call, 'cancel', db, 'call', { tried, expiresAt: tried.expiresAt }),
          ),
        { resource, payload: call.payload },
      );
    },
  };
}

/**
 * A resource's TCC handlers as saga command handlers, for `createSagaParticipant`: the try is the
 * command's `invoke`, the cancel its `compensate`, the confirm its `confirm`.
 *
 * - try: success with the result and `expiresAt` (now + the command's `reservationTtlMs`, or
 *   `defaultTtlMs`); a duplicate answers the first try's result; a try after its cancel is a
 *   `BusinessFailure` `TryAfterCancel`.
 * - confirm: success (also for a duplicate); after a cancel or the expiry a `BusinessFailure`
 *   `ReservationCancelled` (a heuristic outcome); never tried, or still trying: an error the
 *   coordinator retries (`NotTried`, `TryInProgress`).
 * - cancel: success (also for a duplicate and an empty rollback); after the confirm a
 *   `BusinessFailure` `AlreadyConfirmed`.
 * @throws {ConfigError} when the resource is registered on the guard already.
 */
export function tccCommands<Db>(
  handlers: TccHandlers<Db>,
  options: TccParticipantOptions<Db>,
): CommandHandlers {
  rejectUnknownKeys('tccCommands', options, tccParticipantOptionKeys);
  const resource = guardedResource(handlers, options, options.resource ?? 'default');
  const call = (payload: unknown, context: CommandContext): TccCall => {
    refuseUnstorable(payload, context);
    return {
      key: { transaction: context.sagaId, branch: context.step },
      payload,
      idempotencyKey: context.idempotencyKey,
      attempt: context.attempt,
      ...(context.reservationTtlMs === undefined ? {} : { reservationTtlMs: context.reservationTtlMs }),
    };
  };
  return {
    async invoke(payload, context) {
      const outcome = await resource.tryPhase(call(payload, context));
      if (outcome.outcome === 'refused') {
        throw new BusinessFailure(
          'TryAfterCancel',
          `The try of ${context.sagaId}/${context.step} came after its cancel (${outcome.status}); refused.`,
        );
      }
      return outcome.expiresAt === undefined
        ? outcome.result
        : new Reservation(outcome.result, outcome.expiresAt);
    },
    async confirm(payload, context) {
      const outcome = await resource.confirmPhase(call(payload, context));
      switch (outcome.outcome) {
        case 'confirmed':
          return outcome.result;
        case 'cancelled':
          throw new BusinessFailure(
            'ReservationCancelled',
            `The reservation ${context.sagaId}/${context.step} was ${outcome.expired ? 'cancelled as it lapsed' : 'cancelled'}; it cannot be confirmed.`,
            { expired: outcome.expired },
          );
        case 'not-tried':
          throw new TccPhaseError(
            'NotTried',
            `No try of ${context.sagaId}/${context.step} is recorded; cannot confirm it yet.`,
          );
        case 'in-progress':
          throw new TccPhaseError(
            'TryInProgress',
            `The try of ${context.sagaId}/${context.step} is still running.`,
          );
      }
    },
    async compensate(payload, context) {
      const outcome = await resource.cancelPhase(call(payload, context));
      if (outcome.outcome === 'refused') {
        throw new BusinessFailure(
          'AlreadyConfirmed',
          `The reservation ${context.sagaId}/${context.step} is confirmed; it cannot be cancelled.`,
        );
      }
      return null;
    },
  };
}

/**
 * Refuses a command the guard store cannot hold (U+0000 or an unpaired surrogate in the saga id,
 * the step or the payload; a key over 1,024 bytes; nesting deeper than 64), before the guard
 * runs: the same rules as the HTTP participant's `400`, so the answer is the same on every store
 * and never a database error the coordinator would retry. A refused try is compensated; a
 * refused confirm or cancel needs attention.
 */
function refuseUnstorable(payload: unknown, context: CommandContext): void {
  const problem =
    prefixed('The saga id', keyProblem(context.sagaId)) ??
    prefixed('The step name', keyProblem(context.step)) ??
    prefixed('The payload', bodyProblem(payload));
  if (problem !== undefined) throw new BusinessFailure('MalformedCommand', `${problem}; refused.`);
}

function prefixed(what: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${what} ${problem}`;
}

/**
 * A confirm the participant cannot carry out yet (never tried, or the try still running): the
 * coordinator retries it. Its `name` is its `type`, so the reply's error type is `NotTried` or
 * `TryInProgress`.
 */
export class TccPhaseError extends CascadeError {
  readonly code = SagaErrorCodes.TccNotReady;
  readonly type: 'NotTried' | 'TryInProgress';

  constructor(type: 'NotTried' | 'TryInProgress', message: string) {
    super(message, true);
    this.type = type;
    this.name = type;
  }
}
brandErrorClass(TccPhaseError, '@cascade/saga');
