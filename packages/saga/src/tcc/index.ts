/**
 * The TCC participant side: guarded try/confirm/cancel handlers over Kafka and HTTP.
 * @module
 */

export {
  Cancel,
  Confirm,
  type TccMethod,
  TccParticipant,
  Try,
  tccCommandMap,
  tccParticipantFrom,
} from './decorators.js';
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
} from './guard.js';
export {
  type PostgresGuardStore,
  type PostgresGuardStoreOptions,
  postgresGuardStore,
} from './guard-postgres.js';
export {
  memoryGuardStore,
  type TccGuardInsert,
  type TccGuardKey,
  type TccGuardRow,
  TccGuardStatus,
  type TccGuardStore,
  type TccGuardTransaction,
  type TccGuardUpdate,
} from './guard-store.js';
export { type TccHttpHandler, type TccHttpHandlerOptions, tccHttpHandler } from './http-participant.js';
export {
  type TccContext,
  type TccHandlers,
  type TccParticipantOptions,
  type TccPhase,
  TccPhaseError,
  tccCommands,
} from './participant.js';
