/**
 * The state of one saga, and the events and effects of its state machine. Everything here is
 * plain JSON, so the whole state is one record in the saga log (a compacted topic keyed by saga
 * id): the latest record of a saga is all a coordinator needs to continue it.
 * @module
 */

/**
 * Where a saga is. `completed`, `compensated`, `failed` and `heuristic-mixed` are terminal.
 * - `confirming`: every step has succeeded and its TCC reservations are being confirmed; the
 *   decision is made, so nothing cancels it any more (not even the saga's deadline);
 * - `heuristic-mixed`: some TCC participants confirmed while others had already cancelled their
 *   reservation (it expired): the outcome is mixed and needs a person; see `heuristic`.
 */
export type SagaStatus =
  | 'running'
  | 'confirming'
  | 'compensating'
  | 'completed'
  | 'compensated'
  | 'failed'
  | 'needs-attention'
  | 'heuristic-mixed';

/** Every status, in the order the state machine reaches them. */
export const sagaStatuses: readonly SagaStatus[] = [
  'running',
  'confirming',
  'compensating',
  'completed',
  'compensated',
  'failed',
  'needs-attention',
  'heuristic-mixed',
];

/** The terminal statuses. */
export const terminalStatuses: ReadonlySet<SagaStatus> = new Set([
  'completed',
  'compensated',
  'failed',
  'heuristic-mixed',
]);

/**
 * Where a step is.
 * - `running`: an attempt is out, or a retry is scheduled;
 * - `unknown`: it timed out or kept failing, so whether it took effect is not known: it is
 *   compensated like a step that succeeded (participants accept a compensation for a command
 *   they never applied);
 * - `failed`: the participant answered with a business failure: it did not take effect.
 *
 * A TCC step's try is its invoke (`succeeded` = reserved) and its cancel its compensation; then
 * - `confirming`: a confirm attempt is out, or a retry is scheduled;
 * - `confirmed`: the participant confirmed the reservation;
 * - `expired`: the participant had cancelled the reservation (it expired) when the confirm came;
 * - `confirm-failed`: the confirm's retry budget is spent (the saga needs attention).
 */
export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'skipped'
  | 'failed'
  | 'unknown'
  | 'compensating'
  | 'compensated'
  | 'compensation-failed'
  | 'confirming'
  | 'confirmed'
  | 'expired'
  | 'confirm-failed';

/** A step failure, in Temporal's failure model. */
export interface StepError {
  /** The error's class or kind, e.g. `OutOfStock`, `Timeout`. */
  readonly type: string;
  readonly message: string;
  /** Never retry this failure, whatever the retry policy says. */
  readonly nonRetryable?: boolean;
  /** Asks for this delay before the next attempt instead of the policy's backoff. */
  readonly nextRetryDelayMs?: number;
  /** Anything else worth keeping, as JSON. */
  readonly details?: unknown;
}

/** Invoke (do, or a TCC try), compensate (undo, or a TCC cancel) or confirm (a TCC confirm). */
export type Phase = 'invoke' | 'compensate' | 'confirm';

/** An attempt that was sent and not yet answered. */
export interface Outstanding {
  readonly phase: Phase;
  readonly attempt: number;
  readonly commandId: string;
  readonly sentAt: number;
}

/** The state of one step. */
export interface StepState {
  readonly status: StepStatus;
  /** Invoke attempts made. */
  readonly attempts: number;
  /** Compensation attempts made. */
  readonly compensationAttempts: number;
  readonly outstanding?: Outstanding;
  /** The reply, once the step succeeded. */
  readonly result?: unknown;
  readonly lastError?: StepError;
  /**
   * Compensation (or confirm) attempts made before an operator's `retry`: the budget counts from
   * there. A TCC step is either confirmed or cancelled, never both, so the two share it.
   */
  readonly retryBase?: number;
  /** TCC: confirm attempts made. */
  readonly confirmAttempts?: number;
  /** TCC: when the participant lets the reservation go (epoch ms), once it is known. */
  readonly expiresAt?: number;
  /** TCC: the last moment a confirm may start: `expiresAt` less the safety margin. */
  readonly confirmBy?: number;
  /** TCC over HTTP: the reservation's URI, which confirm (PUT) and cancel (DELETE) address. */
  readonly reservationUri?: string;
}

/** What a timer does when it fires. */
export type TimerKind = 'step-timeout' | 'retry' | 'park' | 'saga-timeout' | 'reservation-expiry';

/** A durable timer: a deadline stored with the state, re-armed by whichever coordinator owns the saga. */
export interface TimerState {
  readonly kind: TimerKind;
  readonly dueAt: number;
  readonly step?: string;
  readonly phase?: Phase;
  readonly attempt?: number;
}

/** An operator's action on a saga, kept in its audit trail. */
export interface AuditEntry {
  readonly at: number;
  readonly action: OperatorAction;
  readonly by: string;
  readonly reason: string;
  readonly step?: string;
}

/** The whole state of a saga. */
export interface SagaState {
  readonly sagaId: string;
  readonly saga: string;
  readonly version: number;
  readonly input: unknown;
  readonly status: SagaStatus;
  /** Incremented on every transition: replies and timers from older transitions are recognised. */
  readonly seq: number;
  /** The group being run (forward) or compensated (backward). */
  readonly group: number;
  readonly steps: Readonly<Record<string, StepState>>;
  readonly timers: Readonly<Record<string, TimerState>>;
  readonly startedAt: number;
  readonly updatedAt: number;
  /** Why the saga is compensating, once it is. */
  readonly failure?: { readonly step?: string; readonly error: StepError };
  /** Why it needs attention, while it does (and why a `heuristic-mixed` saga does). */
  readonly attention?: { readonly reason: string; readonly steps: readonly string[] };
  /** For `heuristic-mixed`: which TCC steps were confirmed and which the participants cancelled. */
  readonly heuristic?: { readonly confirmed: readonly string[]; readonly cancelled: readonly string[] };
  readonly audit: readonly AuditEntry[];
}

/** What an operator may do to a saga that needs attention (or any saga not yet terminal). */
export type OperatorAction = 'retry' | 'markCompensated' | 'skipStep' | 'forceComplete' | 'abort';

/** An input to the state machine. */
export type SagaEvent =
  | { readonly type: 'begin'; readonly sagaId: string; readonly input: unknown }
  | {
      readonly type: 'reply';
      readonly step: string;
      readonly phase: Phase;
      readonly attempt: number;
      readonly outcome: 'success';
      readonly result?: unknown;
      /** TCC try: when the participant lets the reservation go (epoch ms). */
      readonly expiresAt?: number;
      /** TCC try over HTTP: the reservation's URI. */
      readonly reservationUri?: string;
    }
  | {
      readonly type: 'reply';
      readonly step: string;
      readonly phase: Phase;
      readonly attempt: number;
      /**
       * `business-failure`: the participant refused and did nothing (to a confirm: it had
       * cancelled the reservation already); `error`: it failed (retry).
       */
      readonly outcome: 'business-failure' | 'error';
      readonly error: StepError;
    }
  | { readonly type: 'timer'; readonly timerId: string }
  | {
      /** The command could not be handed over: with `circuit-open`, the step parks instead of failing. */
      readonly type: 'dispatch-failed';
      readonly step: string;
      readonly phase: Phase;
      readonly attempt: number;
      readonly reason: 'circuit-open' | 'send-failed';
      readonly error?: StepError;
    }
  | {
      readonly type: 'operator';
      readonly action: OperatorAction;
      readonly by: string;
      readonly reason: string;
      readonly step?: string;
    };

/** A notification for listeners and metrics. */
export interface SagaNotification {
  readonly kind:
    | 'started'
    | 'step-succeeded'
    | 'step-failed'
    | 'step-retrying'
    | 'step-parked'
    | 'step-skipped'
    | 'compensating'
    | 'step-compensated'
    | 'confirming'
    | 'step-confirmed'
    | 'step-expired'
    | 'completed'
    | 'compensated'
    | 'needs-attention'
    | 'heuristic-mixed'
    | 'failed'
    | 'operator-action';
  readonly sagaId: string;
  readonly saga: string;
  readonly at: number;
  readonly step?: string;
  readonly attempt?: number;
  readonly error?: StepError;
  /** For step-succeeded and step-compensated: how long the attempt took. */
  readonly latencyMs?: number;
}

/** What the coordinator must do after a transition, in the transaction that records it. */
export type SagaEffect =
  | {
      readonly type: 'send-command';
      readonly sagaId: string;
      readonly seq: number;
      readonly participant: string;
      readonly command: string;
      readonly step: string;
      readonly phase: Phase;
      readonly attempt: number;
      readonly commandId: string;
      /** The same for every attempt of a phase: participants deduplicate on it. */
      readonly idempotencyKey: string;
      readonly payload: unknown;
      /** TCC try: how long the participant should hold the reservation. */
      readonly reservationTtlMs?: number;
      /** TCC confirm and cancel over HTTP: the reservation's URI, when the try's answer gave it. */
      readonly reservationUri?: string;
    }
  | {
      readonly type: 'run-local';
      readonly sagaId: string;
      readonly step: string;
      readonly phase: Phase;
      readonly attempt: number;
      readonly commandId: string;
    }
  | { readonly type: 'set-timer'; readonly timerId: string; readonly dueAt: number }
  | { readonly type: 'cancel-timer'; readonly timerId: string }
  | { readonly type: 'emit'; readonly notification: SagaNotification };

/** The outcome of one event. `applied: false` means the event changed nothing (stale, duplicate). */
export interface Decision {
  readonly state: SagaState;
  readonly effects: readonly SagaEffect[];
  readonly applied: boolean;
  /** Why an event was not applied. */
  readonly ignored?: string;
}

/** The replies of a saga's steps so far, by step name: what step functions see as `results`. */
export function resultsOf(state: Pick<SagaState, 'steps'>): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const [name, step] of Object.entries(state.steps)) {
    if (step.status === 'succeeded' || step.result !== undefined) results[name] = step.result;
  }
  return results;
}

/** The id of a timer: one per kind, step, phase and attempt. */
export function timerId(
  kind: TimerKind,
  step = '',
  phase: Phase | '' = '',
  attempt: number | '' = '',
): string {
  return `${kind}:${step}:${phase}:${attempt}`;
}

/** The id of one attempt of one phase of one step. */
export function commandId(sagaId: string, step: string, phase: Phase, attempt: number): string {
  return `${sagaId}/${step}/${phase}/${attempt}`;
}

/** The idempotency key of a phase of a step: the same for each of its attempts. */
export function idempotencyKey(sagaId: string, step: string, phase: Phase): string {
  return `${sagaId}/${step}/${phase}`;
}

/** JSON text of `value` with every object's keys sorted: equal for equal JSON values. */
function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : inner,
  );
}

/**
 * Whether a `begin` of `saga` with `input` asks for the saga `state` already is: `undefined` when
 * it does (the same saga name and the same input as JSON, whatever the order of keys: a repeated
 * begin), else what differs. The version is not compared: a saga runs on the version it began with.
 */
export function beginConflict(
  state: Pick<SagaState, 'saga' | 'input'>,
  saga: string,
  input: unknown,
): 'saga' | 'input' | undefined {
  if (state.saga !== saga) return 'saga';
  return canonicalJson(state.input) === canonicalJson(input) ? undefined : 'input';
}
