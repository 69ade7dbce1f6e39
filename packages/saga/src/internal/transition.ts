import { backoffDelayMs, hasAttemptsLeft, type ResolvedRetryPolicy } from '@cascade/core';
import type { SagaDefinition, StepDefinition } from '../definition.js';
import {
  commandId,
  idempotencyKey,
  type Phase,
  resultsOf,
  type SagaEffect,
  type SagaNotification,
  type SagaState,
  type StepError,
  type StepState,
  type StepStatus,
  type TimerState,
  timerId,
} from '../state.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** A saga state being changed by one transition. */
export type DraftState = Mutable<Omit<SagaState, 'steps' | 'timers' | 'audit'>> & {
  steps: Record<string, Mutable<StepState>>;
  timers: Record<string, TimerState>;
  audit: SagaState['audit'][number][];
};

type SendCommand = Extract<SagaEffect, { type: 'send-command' }>;

/**
 * The command of one attempt of a phase of a remote or TCC step, built from the saga's state.
 * A payload builder that throws gives a non-retryable error instead.
 */
export function buildCommand(
  step: StepDefinition,
  saga: Pick<SagaState, 'sagaId' | 'input' | 'steps'>,
  seq: number,
  phase: Phase,
  attempt: number,
): { readonly command: SendCommand } | { readonly error: StepError } {
  const state = saga.steps[step.name];
  let payload: unknown;
  try {
    const context = { sagaId: saga.sagaId, input: saga.input, results: resultsOf(saga), attempt };
    payload =
      phase === 'invoke'
        ? step.invoke(context)
        : phase === 'confirm'
          ? step.tcc?.confirm({ ...context, reply: state?.result })
          : step.compensate?.({ ...context, reply: state?.result });
  } catch (error) {
    return {
      error: {
        type: 'PayloadBuilderFailed',
        message: `Building the ${phase} command of step ${step.name} threw: ${error instanceof Error ? error.message : String(error)}`,
        nonRetryable: true,
      },
    };
  }
  const command: SendCommand = {
    type: 'send-command',
    sagaId: saga.sagaId,
    seq,
    participant: step.participant ?? '',
    command: step.command,
    step: step.name,
    phase,
    attempt,
    commandId: commandId(saga.sagaId, step.name, phase, attempt),
    idempotencyKey: idempotencyKey(saga.sagaId, step.name, phase),
    payload,
    ...(phase === 'invoke' && step.tcc?.reservationTtlMs !== undefined
      ? { reservationTtlMs: step.tcc.reservationTtlMs }
      : {}),
    ...(phase !== 'invoke' && state?.reservationUri !== undefined
      ? { reservationUri: state.reservationUri }
      : {}),
  };
  return { command };
}

/** The environment of a transition: the clock and the randomness of jitter. */
export interface TransitionEnv {
  readonly now: number;
  /** A number in `[0, 1)`, for retry jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Whether a participant's circuit breaker is open. While it is, a failed or timed-out attempt
   * at one of its steps is parked on a timer instead of spending the retry budget.
   * @default never open
   */
  readonly circuitOpen?: (participant: string) => boolean;
}

/**
 * One transition in the making: a copy of the state to change, and the effects collected. Shared
 * by the forward path (engine.ts) and the backward path (compensation.ts).
 */
export class Transition {
  readonly state: DraftState;
  readonly definition: SagaDefinition;
  readonly now: number;
  readonly random: () => number;
  readonly circuitOpen: (participant: string) => boolean;
  readonly effects: SagaEffect[] = [];
  /** The sequence number this transition gives the state, carried by the commands it emits. */
  readonly seq: number;

  constructor(definition: SagaDefinition, state: SagaState, env: TransitionEnv) {
    this.definition = definition;
    this.state = structuredClone(state) as DraftState;
    this.seq = state.seq + 1;
    this.now = env.now;
    this.random = env.random ?? Math.random;
    this.circuitOpen = env.circuitOpen ?? (() => false);
  }

  step(name: string): StepDefinition {
    const step = this.definition.steps.get(name);
    if (step === undefined) throw new Error(`Saga ${this.definition.name} has no step ${name}`);
    return step;
  }

  stepState(name: string): Mutable<StepState> {
    const state = this.state.steps[name];
    if (state === undefined) throw new Error(`Saga ${this.state.sagaId} has no state for step ${name}`);
    return state;
  }

  /** The steps in `status`, in definition order. */
  stepsIn(status: StepStatus): string[] {
    return Object.entries(this.state.steps)
      .filter(([, state]) => state.status === status)
      .map(([name]) => name);
  }

  /** The results of the steps so far, by step name. */
  results(): Record<string, unknown> {
    return resultsOf(this.state);
  }

  notify(kind: SagaNotification['kind'], extra: Partial<SagaNotification> = {}): void {
    this.effects.push({
      type: 'emit',
      notification: { kind, sagaId: this.state.sagaId, saga: this.state.saga, at: this.now, ...extra },
    });
  }

  setTimer(id: string, timer: TimerState): void {
    this.state.timers[id] = timer;
    this.effects.push({ type: 'set-timer', timerId: id, dueAt: timer.dueAt });
  }

  cancelTimer(id: string): void {
    if (this.state.timers[id] === undefined) return;
    delete this.state.timers[id];
    this.effects.push({ type: 'cancel-timer', timerId: id });
  }

  /** Cancels the timers of one step (its timeout, retry and park timers). */
  cancelStepTimers(step: string): void {
    for (const [id, timer] of Object.entries(this.state.timers)) {
      if (timer.step === step) this.cancelTimer(id);
    }
  }

  cancelAllTimers(): void {
    for (const id of Object.keys(this.state.timers)) this.cancelTimer(id);
  }

  /** A failed attempt of a step: forgets what was outstanding, records the error, stops its timers. */
  recordFailure(name: string, error: StepError): void {
    const state = this.stepState(name);
    delete state.outstanding;
    state.lastError = error;
    this.cancelStepTimers(name);
  }

  /**
   * After a failed attempt `attempt` of a phase (`used` of the policy's attempts spent): parks it
   * while the participant's circuit is open, else schedules the next attempt if the policy and the
   * error allow. Returns whether it did either; if not, the caller decides what follows.
   */
  parkOrRetry(
    name: string,
    phase: Phase,
    policy: ResolvedRetryPolicy,
    attempt: number,
    used: number,
    error: StepError,
  ): boolean {
    return (
      this.parkIfCircuitOpen(name, phase, attempt, policy, error) ||
      this.retryIfAllowed(name, phase, policy, used, attempt + 1, error)
    );
  }

  /** The saga stops and needs an operator, because of `steps` (the last failure on `step`). */
  needAttention(step: string, reason: string, steps: readonly string[], error: StepError): void {
    this.state.status = 'needs-attention';
    this.state.attention = { reason, steps };
    this.notify('needs-attention', { step, error });
  }

  /**
   * Parks a failed attempt of a remote step whose participant's circuit is open: the same attempt
   * is sent again after a backoff, and the retry budget is untouched. Returns whether it did.
   */
  private parkIfCircuitOpen(
    name: string,
    phase: Phase,
    attempt: number,
    policy: ResolvedRetryPolicy,
    error: StepError,
  ): boolean {
    const step = this.step(name);
    if (step.kind === 'local' || step.participant === undefined || !this.circuitOpen(step.participant))
      return false;
    if (error.nonRetryable) return false;
    this.setTimer(timerId('park', name, phase, attempt), {
      kind: 'park',
      dueAt: this.now + backoffDelayMs(policy, Math.max(1, attempt), this.random),
      step: name,
      phase,
      attempt,
    });
    this.notify('step-parked', { step: name, attempt, error });
    return true;
  }

  /**
   * Schedules the next attempt of a phase of a step after a failure, if `policy` allows another
   * (`used` attempts made so far) and the error may be retried. Returns whether it did.
   */
  private retryIfAllowed(
    name: string,
    phase: Phase,
    policy: ResolvedRetryPolicy,
    used: number,
    nextAttempt: number,
    error: StepError,
  ): boolean {
    const retriable = !error.nonRetryable && !policy.nonRetryableErrorTypes.includes(error.type);
    if (!retriable || !hasAttemptsLeft(policy, used)) return false;
    const delayMs = error.nextRetryDelayMs ?? backoffDelayMs(policy, used, this.random);
    this.setTimer(timerId('retry', name, phase, nextAttempt), {
      kind: 'retry',
      dueAt: this.now + delayMs,
      step: name,
      phase,
      attempt: nextAttempt,
    });
    this.notify('step-retrying', { step: name, attempt: nextAttempt, error });
    return true;
  }

  /**
   * Sends attempt `attempt` of a phase of a step: a command to its participant, or a local run.
   * A payload builder that throws fails the attempt with a non-retryable error, returned.
   */
  dispatch(name: string, phase: Phase, attempt: number): StepError | undefined {
    const step = this.step(name);
    const state = this.stepState(name);
    const id = commandId(this.state.sagaId, name, phase, attempt);
    if (step.kind !== 'local') {
      const built = buildCommand(step, this.state, this.seq, phase, attempt);
      if ('error' in built) return built.error;
      this.effects.push(built.command);
    } else {
      this.effects.push({
        type: 'run-local',
        sagaId: this.state.sagaId,
        step: name,
        phase,
        attempt,
        commandId: id,
      });
    }
    state.outstanding = { phase, attempt, commandId: id, sentAt: this.now };
    if (phase === 'invoke') state.attempts = attempt;
    else if (phase === 'confirm') state.confirmAttempts = attempt;
    else state.compensationAttempts = attempt;
    const timeoutMs = phase === 'invoke' ? step.timeoutMs : step.compensationTimeoutMs;
    if (timeoutMs !== undefined) {
      this.setTimer(timerId('step-timeout', name, phase, attempt), {
        kind: 'step-timeout',
        dueAt: this.now + timeoutMs,
        step: name,
        phase,
        attempt,
      });
    }
    return undefined;
  }
}
