import { brandErrorClass, CascadeError, type CascadeErrorOptions } from '@cascade/core';

/** The codes of the errors `@cascade/saga` throws. */
export const SagaErrorCodes = {
  UnknownSaga: 'CASCADE_SAGA_UNKNOWN_DEFINITION',
  MalformedRecord: 'CASCADE_SAGA_MALFORMED_RECORD',
  DuplicateDefinition: 'CASCADE_SAGA_DUPLICATE_DEFINITION',
  /** A TCC confirm or cancel that came before its try was ready (retried). */
  TccNotReady: 'CASCADE_SAGA_TCC_NOT_READY',
  /** Registered participants whose command topic does not exist (the coordinator cannot start). */
  MissingCommandTopics: 'CASCADE_SAGA_MISSING_COMMAND_TOPICS',
  /** An operation named a saga id the coordinator does not know. */
  SagaNotFound: 'CASCADE_SAGA_NOT_FOUND',
  /** A `begin()` of a saga id that has begun already with another saga or input. */
  SagaConflict: 'CASCADE_SAGA_CONFLICT',
  /** The view of the saga log did not reach a partition's end in time (retried). */
  RestoreTimeout: 'CASCADE_SAGA_RESTORE_TIMEOUT',
  /** A step's participant or local step refused the command for good (`BusinessFailure`). */
  BusinessFailure: 'CASCADE_SAGA_BUSINESS_FAILURE',
} as const;

/** One of {@link SagaErrorCodes}. */
export type SagaErrorCode = (typeof SagaErrorCodes)[keyof typeof SagaErrorCodes];

/** No definition is registered under a saga name (and version). Not retriable: deploy it. */
export class UnknownSagaError extends CascadeError {
  readonly code = SagaErrorCodes.UnknownSaga;
  readonly saga: string;
  readonly version: number | undefined;
  readonly sagaId: string | undefined;
  /** The versions of `saga` that are registered (none when the name is unknown), oldest first. */
  readonly registeredVersions: readonly number[];

  constructor(
    saga: string,
    version: number | undefined,
    sagaId?: string,
    options?: CascadeErrorOptions & { readonly registeredVersions?: readonly number[] },
  ) {
    const which = version === undefined ? `saga "${saga}"` : `saga "${saga}" version ${version}`;
    const instance = sagaId === undefined ? '' : ` (saga id ${sagaId})`;
    const registered = options?.registeredVersions ?? [];
    const known =
      version !== undefined && registered.length > 0 ? `; registered versions: ${registered.join(', ')}` : '';
    super(
      `No definition is registered for ${which}${instance}${known}. Register it with the coordinator; keep old versions registered until their sagas finish.`,
      false,
      options,
    );
    this.saga = saga;
    this.version = version;
    this.sagaId = sagaId;
    this.registeredVersions = registered;
  }
}
brandErrorClass(UnknownSagaError, '@cascade/saga');

/** A saga record (an event, a command, a reply, a state) that cannot be read. A poison pill. */
export class MalformedSagaRecordError extends CascadeError {
  readonly code = SagaErrorCodes.MalformedRecord;
  /** What kind of record was expected: `event`, `command`, `state`. */
  readonly kind: string;
  /** The offending field, when one is to blame. */
  readonly field: string | undefined;

  constructor(kind: string, problem: string, field?: string, options?: CascadeErrorOptions) {
    super(
      `Malformed saga ${kind} record: ${problem}${field === undefined ? '' : ` (field ${field})`}.`,
      false,
      options,
    );
    this.kind = kind;
    this.field = field;
  }
}
brandErrorClass(MalformedSagaRecordError, '@cascade/saga');

/** Two definitions were registered under one name and version. */
export class DuplicateSagaDefinitionError extends CascadeError {
  readonly code = SagaErrorCodes.DuplicateDefinition;

  constructor(saga: string, version: number, options?: CascadeErrorOptions) {
    super(
      `Saga "${saga}" version ${version} is registered twice. Give the changed definition a new version.`,
      false,
      options,
    );
  }
}
brandErrorClass(DuplicateSagaDefinitionError, '@cascade/saga');

/**
 * The coordinator's `start()` found registered participants whose command topic does not exist:
 * their commands could never be sent. Not retriable: create the topics (`ensureSagaTopics` with
 * `participants`), or reach the participant over HTTP, then start again.
 */
export class MissingCommandTopicsError extends CascadeError {
  readonly code = SagaErrorCodes.MissingCommandTopics;
  /** The participants without a command topic, sorted. */
  readonly participants: readonly string[];
  /** Their command topics, in the same order. */
  readonly topics: readonly string[];

  constructor(missing: ReadonlyArray<{ participant: string; topic: string }>, options?: CascadeErrorOptions) {
    const sorted = [...missing].sort((a, b) => a.participant.localeCompare(b.participant));
    const list = sorted.map(({ participant, topic }) => `${participant} (${topic})`).join(', ');
    super(
      `The command topic of ${sorted.length === 1 ? 'participant' : 'participants'} ${list} does not exist, so the saga coordinator cannot send them commands. Create the topics (ensureSagaTopics with participants) and start the coordinator again.`,
      false,
      options,
    );
    this.participants = sorted.map(({ participant }) => participant);
    this.topics = sorted.map(({ topic }) => topic);
  }
}
brandErrorClass(MissingCommandTopicsError, '@cascade/saga');

/**
 * An operation (an operator's `resolve()`) named a saga id the coordinator does not know: no state
 * of it is in the coordinator's view of the saga log. Not retriable, but the view is read from the
 * log continuously: right after `start()` a saga that exists may not have been read yet.
 */
export class SagaNotFoundError extends CascadeError {
  readonly code = SagaErrorCodes.SagaNotFound;
  readonly sagaId: string;

  constructor(sagaId: string, operation: string, options?: CascadeErrorOptions) {
    super(
      `Cannot ${operation}: no saga with id ${sagaId} is in this coordinator's view of the saga log. Check the id (list() shows the sagas it knows).`,
      false,
      options,
    );
    this.sagaId = sagaId;
  }
}
brandErrorClass(SagaNotFoundError, '@cascade/saga');

/**
 * A `begin()` named a saga id that has begun already, as another saga or with another input: the
 * saga of that id runs as first begun, and this begin did nothing. Not retriable: pick another id.
 */
export class SagaConflictError extends CascadeError {
  readonly code = SagaErrorCodes.SagaConflict;
  readonly sagaId: string;
  /** The saga the id runs, as it was first begun. */
  readonly existingSaga: string;
  /** What differs: the saga's name, or its input. */
  readonly conflict: 'saga' | 'input';

  constructor(
    sagaId: string,
    existingSaga: string,
    conflict: 'saga' | 'input',
    options?: CascadeErrorOptions,
  ) {
    super(
      conflict === 'saga'
        ? `Saga id ${sagaId} has begun already as saga "${existingSaga}": this begin names another saga and was not run. Give each saga its own id.`
        : `Saga id ${sagaId} (saga "${existingSaga}") has begun already with a different input: this begin was not run. Begin it again with the same input, or give the new saga its own id.`,
      false,
      options,
    );
    this.sagaId = sagaId;
    this.existingSaga = existingSaga;
    this.conflict = conflict;
  }
}
brandErrorClass(SagaConflictError, '@cascade/saga');

/**
 * The coordinator's view of the saga log did not read up to the end of a log partition within the
 * restore deadline (`restoreTimeoutMs`): the broker leading it died, the view's own group lost its
 * coordinator, or a transaction on the partition is still open. Nothing was decided from the
 * partial view; the coordinator tries again (and restarts a view that read nothing in that time),
 * while the inbox partition waits. Retriable.
 */
export class SagaRestoreTimeoutError extends CascadeError {
  readonly code = SagaErrorCodes.RestoreTimeout;
  /** The saga log partition (and inbox partition) being restored. */
  readonly partition: number;
  readonly topic: string;
  readonly timeoutMs: number;

  constructor(topic: string, partition: number, timeoutMs: number, options?: CascadeErrorOptions) {
    super(
      `The saga log view did not read to the end of ${topic} partition ${partition} within ${timeoutMs} ms; the sagas of inbox partition ${partition} wait, and their restore is tried again. Is a broker down, or a transaction on the log left open?`,
      true,
      options,
    );
    this.topic = topic;
    this.partition = partition;
    this.timeoutMs = timeoutMs;
  }
}
brandErrorClass(SagaRestoreTimeoutError, '@cascade/saga');
