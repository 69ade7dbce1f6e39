import { brandErrorClass, CascadeError, type CascadeErrorOptions } from '@cascade/core';

/** The codes of the errors `@cascade/saga` throws. */
export const SagaErrorCodes = {
  UnknownSaga: 'CASCADE_SAGA_UNKNOWN_DEFINITION',
  MalformedRecord: 'CASCADE_SAGA_MALFORMED_RECORD',
  DuplicateDefinition: 'CASCADE_SAGA_DUPLICATE_DEFINITION',
  /** A TCC confirm or cancel that came before its try was ready (retried). */
  TccNotReady: 'CASCADE_SAGA_TCC_NOT_READY',
} as const;

/** One of {@link SagaErrorCodes}. */
export type SagaErrorCode = (typeof SagaErrorCodes)[keyof typeof SagaErrorCodes];

/** No definition is registered under a saga name (and version). Not retriable: deploy it. */
export class UnknownSagaError extends CascadeError {
  readonly code = SagaErrorCodes.UnknownSaga;
  readonly saga: string;
  readonly version: number | undefined;
  readonly sagaId: string | undefined;

  constructor(saga: string, version: number | undefined, sagaId?: string, options?: CascadeErrorOptions) {
    const which = version === undefined ? `saga "${saga}"` : `saga "${saga}" version ${version}`;
    const instance = sagaId === undefined ? '' : ` (saga id ${sagaId})`;
    super(
      `No definition is registered for ${which}${instance}. Register it with the coordinator; keep old versions registered until their sagas finish.`,
      false,
      options,
    );
    this.saga = saga;
    this.version = version;
    this.sagaId = sagaId;
  }
}
brandErrorClass(UnknownSagaError);

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
brandErrorClass(MalformedSagaRecordError);

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
brandErrorClass(DuplicateSagaDefinitionError);
