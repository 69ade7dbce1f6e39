/**
 * `@cascade/saga`: sagas for consistency across microservices, without distributed locks.
 *
 * This release holds the definition DSL and the saga state machine (`decide`), which is pure:
 * the Kafka coordinator that records each transition and its commands in one transaction builds
 * on it.
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
  type CommandRecord,
  decodeCommand,
  decodeInboxEvent,
  decodeState,
  encodeCommand,
  encodeInboxEvent,
  encodeState,
  type InboxEvent,
  recordFormat,
} from './codec.js';
export {
  coordinatorRetry,
  createSagaCoordinator,
  type SagaCoordinator,
  type SagaCoordinatorOptions,
  type SagaOutcome,
} from './coordinator.js';
export {
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
export { SagaLogReader } from './log-reader.js';
export { type SagaMetrics, SagaObserver, type StepLatency } from './observability.js';
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
export { SagaRegistry } from './registry.js';
export {
  type AuditEntry,
  commandId,
  type Decision,
  idempotencyKey,
  type OperatorAction,
  type Outstanding,
  type Phase,
  resultsOf,
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
  terminalStatuses,
  timerId,
} from './state.js';
export {
  type HttpTccCall,
  type HttpTccParticipant,
  type HttpTccParticipantOptions,
  type HttpTccReply,
  httpTccParticipant,
} from './tcc/http-adapter.js';
export * from './tcc/index.js';
export {
  reservationUri,
  type TccErrorBody,
  type TryResponseBody,
  tccHeaders,
  tccMediaType,
} from './tcc/protocol.js';
export { type TimerFired, TimerScheduler } from './timers.js';
export { ensureSagaTopics, type SagaTopics, sagaTopics } from './topics.js';
