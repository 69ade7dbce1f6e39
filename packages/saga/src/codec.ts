/**
 * The records sagas exchange over Kafka, as JSON, and their strict decoding: a record that does
 * not decode is a poison pill ({@link MalformedSagaRecordError}), never a crash or a silent skip.
 *
 * - inbox events (`begin`, `reply`, `timer`, `operator`), keyed by saga id, read by the coordinator;
 * - commands, keyed by saga id, on a participant's command topic;
 * - states, keyed by saga id, in the compacted saga log: the latest one is the saga.
 * @module
 */

import { MalformedSagaRecordError } from './errors.js';
import {
  type OperatorAction,
  type Phase,
  type SagaEffect,
  type SagaEvent,
  type SagaState,
  type StepError,
  sagaStatuses,
} from './state.js';

/** The format version written into every record. */
export const recordFormat = 1;

/** An event for the coordinator's inbox. `begin` names the saga to start. */
export type InboxEvent =
  | {
      readonly type: 'begin';
      readonly saga: string;
      /** The definition's version; absent in records written before begins named it (the newest). */
      readonly version?: number;
      readonly input: unknown;
    }
  | Exclude<SagaEvent, { type: 'begin' }>
  /**
   * A finished saga is past its retention: the coordinator that owns it tombstones it, unless it
   * was begun again or finished at another time than `finishedAt` (its final state's `updatedAt`).
   */
  | { readonly type: 'expire'; readonly finishedAt: number };

/** A command to a participant. */
export type CommandRecord = Omit<Extract<SagaEffect, { type: 'send-command' }>, 'type'> & {
  readonly saga: string;
  /** The topic the reply goes to (the coordinator's inbox). */
  readonly replyTo: string;
};

type Json = Record<string, unknown>;

function parse(kind: string, bytes: Buffer | string | null): Json {
  if (bytes === null) throw new MalformedSagaRecordError(kind, 'the value is empty');
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (error) {
    throw new MalformedSagaRecordError(kind, 'the value is not JSON', undefined, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedSagaRecordError(kind, 'the value is not a JSON object');
  }
  const record = value as Json;
  if (record.v !== recordFormat) {
    throw new MalformedSagaRecordError(
      kind,
      `format ${JSON.stringify(record.v)} is not ${recordFormat}`,
      'v',
    );
  }
  return record;
}

function text(kind: string, record: Json, field: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value === '')
    throw new MalformedSagaRecordError(kind, 'expected a non-empty string', field);
  return value;
}

function positive(kind: string, record: Json, field: string): number {
  const value = record[field];
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new MalformedSagaRecordError(kind, 'expected a positive integer', field);
  }
  return value as number;
}

function oneOf<const T extends string>(kind: string, record: Json, field: string, allowed: readonly T[]): T {
  const value = record[field];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new MalformedSagaRecordError(kind, `expected one of ${allowed.join(', ')}`, field);
  }
  return value as T;
}

function stepError(kind: string, value: unknown): StepError {
  if (typeof value !== 'object' || value === null)
    throw new MalformedSagaRecordError(kind, 'expected an error object', 'error');
  const error = value as Json;
  const type = text(kind, error, 'type');
  const message = typeof error.message === 'string' ? error.message : '';
  return {
    type,
    message,
    ...(error.nonRetryable === true ? { nonRetryable: true } : {}),
    ...(Number.isInteger(error.nextRetryDelayMs) && (error.nextRetryDelayMs as number) >= 0
      ? { nextRetryDelayMs: error.nextRetryDelayMs as number }
      : {}),
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}

const phases = ['invoke', 'compensate', 'confirm'] as const satisfies readonly Phase[];

function optionalTime(kind: string, record: Json, field: string): number | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new MalformedSagaRecordError(kind, 'expected a non-negative integer', field);
  }
  return value as number;
}
const actions = [
  'retry',
  'markCompensated',
  'skipStep',
  'forceComplete',
  'abort',
] as const satisfies readonly OperatorAction[];

/** Encodes an inbox event. */
export function encodeInboxEvent(event: InboxEvent): Buffer {
  return Buffer.from(JSON.stringify({ v: recordFormat, ...event }));
}

/** Decodes an inbox event. @throws {MalformedSagaRecordError} */
export function decodeInboxEvent(bytes: Buffer | string | null): InboxEvent {
  const kind = 'event';
  const record = parse(kind, bytes);
  const type = oneOf(kind, record, 'type', [
    'begin',
    'reply',
    'timer',
    'dispatch-failed',
    'operator',
    'expire',
  ]);
  switch (type) {
    case 'begin': {
      const version = record.version === undefined ? undefined : positive(kind, record, 'version');
      return {
        type,
        saga: text(kind, record, 'saga'),
        ...(version === undefined ? {} : { version }),
        input: record.input,
      };
    }
    case 'timer':
      return { type, timerId: text(kind, record, 'timerId') };
    case 'expire': {
      const finishedAt = optionalTime(kind, record, 'finishedAt');
      if (finishedAt === undefined)
        throw new MalformedSagaRecordError(kind, 'expected a non-negative integer', 'finishedAt');
      return { type, finishedAt };
    }
    case 'operator': {
      const step = record.step === undefined ? undefined : text(kind, record, 'step');
      return {
        type,
        action: oneOf(kind, record, 'action', actions),
        by: text(kind, record, 'by'),
        reason: text(kind, record, 'reason'),
        ...(step === undefined ? {} : { step }),
      };
    }
    case 'dispatch-failed':
      return {
        type,
        step: text(kind, record, 'step'),
        phase: oneOf(kind, record, 'phase', phases),
        attempt: positive(kind, record, 'attempt'),
        reason: oneOf(kind, record, 'reason', ['circuit-open', 'send-failed']),
        ...(record.error === undefined ? {} : { error: stepError(kind, record.error) }),
      };
    case 'reply': {
      const common = {
        type,
        step: text(kind, record, 'step'),
        phase: oneOf(kind, record, 'phase', phases),
        attempt: positive(kind, record, 'attempt'),
      };
      const outcome = oneOf(kind, record, 'outcome', ['success', 'business-failure', 'error']);
      if (outcome === 'success') {
        const expiresAt = optionalTime(kind, record, 'expiresAt');
        const reservationUri =
          record.reservationUri === undefined ? undefined : text(kind, record, 'reservationUri');
        return {
          ...common,
          outcome,
          result: record.result,
          ...(expiresAt === undefined ? {} : { expiresAt }),
          ...(reservationUri === undefined ? {} : { reservationUri }),
        };
      }
      return { ...common, outcome, error: stepError(kind, record.error) };
    }
  }
}

/** Encodes a command for a participant. */
export function encodeCommand(command: CommandRecord): Buffer {
  return Buffer.from(JSON.stringify({ v: recordFormat, ...command }));
}

/** Decodes a command. @throws {MalformedSagaRecordError} */
export function decodeCommand(bytes: Buffer | string | null): CommandRecord {
  const kind = 'command';
  const record = parse(kind, bytes);
  const reservationTtlMs = optionalTime(kind, record, 'reservationTtlMs');
  const reservationUri =
    record.reservationUri === undefined ? undefined : text(kind, record, 'reservationUri');
  return {
    sagaId: text(kind, record, 'sagaId'),
    saga: text(kind, record, 'saga'),
    seq: positive(kind, record, 'seq'),
    participant: text(kind, record, 'participant'),
    command: text(kind, record, 'command'),
    step: text(kind, record, 'step'),
    phase: oneOf(kind, record, 'phase', phases),
    attempt: positive(kind, record, 'attempt'),
    commandId: text(kind, record, 'commandId'),
    idempotencyKey: text(kind, record, 'idempotencyKey'),
    payload: record.payload,
    replyTo: text(kind, record, 'replyTo'),
    ...(reservationTtlMs === undefined ? {} : { reservationTtlMs }),
    ...(reservationUri === undefined ? {} : { reservationUri }),
  };
}

/** Encodes a saga's state for the saga log. */
export function encodeState(state: SagaState): Buffer {
  return Buffer.from(JSON.stringify({ v: recordFormat, state }));
}

/** Decodes a saga's state from the saga log. @throws {MalformedSagaRecordError} */
export function decodeState(bytes: Buffer | string | null): SagaState {
  const kind = 'state';
  const record = parse(kind, bytes);
  const state = record.state;
  if (typeof state !== 'object' || state === null)
    throw new MalformedSagaRecordError(kind, 'expected an object', 'state');
  const fields = state as Json;
  text(kind, fields, 'sagaId');
  text(kind, fields, 'saga');
  positive(kind, fields, 'version');
  if (!Number.isInteger(fields.seq))
    throw new MalformedSagaRecordError(kind, 'expected an integer', 'state.seq');
  oneOf(kind, fields, 'status', sagaStatuses);
  for (const field of ['steps', 'timers'] as const) {
    if (typeof fields[field] !== 'object' || fields[field] === null) {
      throw new MalformedSagaRecordError(kind, 'expected an object', `state.${field}`);
    }
  }
  return state as SagaState;
}
