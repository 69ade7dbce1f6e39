/**
 * `@cascade/saga`: sagas for consistency across microservices, without distributed locks.
 *
 * The definition DSL, the pure saga state machine (`decide`), the coordinator that records each
 * transition and its commands in one Kafka transaction, participants over Kafka and HTTP, and
 * the TCC guards that make their confirm and cancel safe.
 *
 * @example
 * ```ts
 * import { decide, defineSaga, replyType } from '@cascade/saga';
 *
 * const saga = defineSaga<{ sku: string }>('reserve-only')
 *   .step('reserve', { participant: 'inventory', invoke: ({ input }) => ({ sku: input.sku }), reply: replyType<{ id: string }>() })
 *   .build();
 * const { state, effects } = decide(saga, undefined, { type: 'begin', sagaId: 's-1', input: { sku: 'A' } }, { now: Date.now() });
 * // effects: started, then a send-command to 'inventory'
 * ```
 * @module
 */

export {
  type CommandContract,
  type CommandContractOptions,
  defineCommand,
  handle,
  type PayloadValidator,
  type TypedCommandHandlers,
} from './command.js';
export {
  coordinatorRetry,
  createSagaCoordinator,
  defaultFinishedRetentionMs,
  type OwnedPartitionInfo,
  type SagaCoordinator,
  type SagaCoordinatorOptions,
  type SagaListQuery,
  type SagaOutcome,
  type SagaPage,
} from './coordinator.js';
export {
  type CommandStepOptions,
  type CompensationContext,
  defineSaga,
  type LocalStepOptions,
  ParallelBuilder,
  type RemoteStepOptions,
  type ReplyType,
  replyType,
  SagaBuilder,
  type SagaDefinition,
  type SagaInput,
  type SagaOptions,
  type SagaResults,
  type StepContext,
  type StepDefinition,
  type StepOptions,
  type TccStepOptions,
} from './definition.js';
export { decide, type TransitionEnv } from './engine.js';
export {
  DuplicateSagaDefinitionError,
  MalformedSagaRecordError,
  MissingCommandTopicsError,
  SagaConflictError,
  type SagaErrorCode,
  SagaErrorCodes,
  SagaNotFoundError,
  SagaRestoreTimeoutError,
  UnknownSagaError,
} from './errors.js';
export { createSagaInspector, type SagaInspector, type SagaInspectorOptions } from './inspector.js';
export type { SagaMetrics, StepLatency } from './observability.js';
export { operatorActions } from './operator.js';
export {
  BusinessFailure,
  type CommandContext,
  type CommandHandlers,
  createSagaParticipant,
  type IdempotencyStore,
  memoryIdempotencyStore,
  type Participant,
  participantRetry,
  type SagaParticipantOptions,
} from './participant.js';
export {
  Command,
  type CommandMethod,
  Compensate,
  participantFrom,
  SagaParticipant,
} from './participant-decorators.js';
export {
  type AuditEntry,
  type Decision,
  idempotencyKey,
  type OperatorAction,
  type SagaEffect,
  type SagaEvent,
  type SagaNotification,
  type SagaState,
  type SagaStatus,
  type StepError,
  type StepState,
  type StepStatus,
  type TimerKind,
  type TimerState,
} from './state.js';
export {
  Cancel,
  Confirm,
  type TccMethod,
  TccParticipant,
  Try,
  tccCommandMap,
  tccParticipantFrom,
} from './tcc/decorators.js';
export {
  createTccGuard,
  type TccCancelOutcome,
  type TccCancelWork,
  type TccCleanupOptions,
  type TccConfirmOutcome,
  TccFailureTypes,
  type TccGuard,
  type TccGuardOptions,
  type TccStoredTry,
  type TccTryOptions,
  type TccTryOutcome,
} from './tcc/guard.js';
export {
  type PgPool,
  type PgPoolClient,
  type PgQueryResult,
  type PostgresGuardStore,
  type PostgresGuardStoreOptions,
  postgresGuardStore,
} from './tcc/guard-postgres.js';
export {
  memoryGuardStore,
  type TccGuardInsert,
  type TccGuardKey,
  type TccGuardRow,
  TccGuardStatus,
  type TccGuardStore,
  type TccGuardTransaction,
  type TccGuardUpdate,
} from './tcc/guard-store.js';
export {
  type HttpTccCall,
  type HttpTccParticipant,
  type HttpTccParticipantOptions,
  type HttpTccReply,
  httpTccParticipant,
} from './tcc/http-adapter.js';
export { type TccHttpHandler, type TccHttpHandlerOptions, tccHttpHandler } from './tcc/http-participant.js';
export {
  type TccContext,
  type TccHandlers,
  type TccParticipantOptions,
  type TccPhase,
  TccPhaseError,
  tccCommands,
} from './tcc/participant.js';
export {
  reservationUri,
  type TccErrorBody,
  type TryResponseBody,
  tccHeaders,
  tccMediaType,
} from './tcc/protocol.js';
export { ensureSagaTopics, type SagaTopics, sagaTopics } from './topics.js';
