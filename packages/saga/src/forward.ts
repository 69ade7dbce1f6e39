/**
 * The forward path: running the groups of a saga in order, the steps of a group in parallel,
 * retrying failed and timed-out attempts per each step's retry policy.
 * @module
 */

import { beginCompensation, startCompensation } from './compensation.js';
import { finishForward, recordReservation, startConfirm } from './confirmation.js';
import type { Transition } from './internal/transition.js';
import type { StepError } from './state.js';

/** Runs the next steps: skips those whose `when` says no, starts the rest, or completes the saga. */
export function advance(t: Transition): void {
  const groups = t.definition.groups;
  while (t.state.group < groups.length) {
    const group = groups[t.state.group] ?? [];
    const toRun: string[] = [];
    for (const step of group) {
      const state = t.stepState(step.name);
      if (state.status !== 'pending') continue;
      let run = true;
      try {
        run =
          step.when?.({ sagaId: t.state.sagaId, input: t.state.input, results: t.results(), attempt: 1 }) ??
          true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        beginCompensation(t, step.name, { type: 'ConditionFailed', message, nonRetryable: true });
        return;
      }
      if (run) toRun.push(step.name);
      else {
        state.status = 'skipped';
        t.notify('step-skipped', { step: step.name });
      }
    }
    for (const name of toRun) {
      startInvoke(t, name, 1);
      if (t.state.status !== 'running') return;
    }
    const done = group.every((step) => ['succeeded', 'skipped'].includes(t.stepState(step.name).status));
    if (!done) return;
    t.state.group += 1;
  }
  finishForward(t);
}

/** Sends invoke attempt `attempt` of a step. */
export function startInvoke(t: Transition, name: string, attempt: number): void {
  t.stepState(name).status = 'running';
  const error = t.dispatch(name, 'invoke', attempt);
  if (error) onInvokeFailure(t, name, error, 'error');
}

/**
 * An invoke attempt failed. A business failure compensates at once; an error or a timeout is
 * retried while the policy allows, then the step's outcome is unknown and the saga compensates.
 */
export function onInvokeFailure(
  t: Transition,
  name: string,
  error: StepError,
  kind: 'business-failure' | 'error' | 'timeout',
): void {
  const state = t.stepState(name);
  t.recordFailure(name, error);
  if (kind === 'business-failure') {
    state.status = 'failed';
    t.notify('step-failed', { step: name, attempt: state.attempts, error });
    beginCompensation(t, name, error);
    return;
  }
  if (t.parkOrRetry(name, 'invoke', t.step(name).retry, state.attempts, state.attempts, error)) return;
  state.status = 'unknown';
  t.notify('step-failed', { step: name, attempt: state.attempts, error });
  beginCompensation(t, name, error);
}

/** An invoke attempt was answered. Returns why the reply was ignored, if it was. */
export function onInvokeReply(
  t: Transition,
  name: string,
  attempt: number,
  outcome: 'success' | 'business-failure' | 'error',
  result: unknown,
  error: StepError | undefined,
  reservation: { readonly expiresAt?: number; readonly uri?: string } = {},
): string | undefined {
  const state = t.stepState(name);
  if (attempt > state.attempts) return `no attempt ${attempt} of step ${name} was sent`;
  const beingUndone = state.status === 'unknown' || state.status === 'compensating';
  if (beingUndone && outcome === 'success' && state.result === undefined) {
    // A late success of a step being compensated: keep its reply (and its reservation's URI), so
    // a retried compensation can name what to undo.
    state.result = result;
    if (reservation.uri !== undefined) state.reservationUri = reservation.uri;
    return undefined;
  }
  if (state.status !== 'running' || t.state.status !== 'running') {
    return `step ${name} is ${state.status} (saga ${t.state.status}): a late or duplicate reply`;
  }
  if (outcome === 'success') {
    // Any attempt's success counts: attempts share one idempotency key, so they are one effect.
    const sentAt = state.outstanding?.sentAt;
    const latencyMs = sentAt === undefined ? undefined : t.now - sentAt;
    state.status = 'succeeded';
    state.result = result;
    delete state.outstanding;
    t.cancelStepTimers(name);
    if (reservation.uri !== undefined) state.reservationUri = reservation.uri;
    recordReservation(t, name, sentAt ?? t.now, reservation.expiresAt);
    t.notify('step-succeeded', { step: name, attempt, ...(latencyMs === undefined ? {} : { latencyMs }) });
    advance(t);
    return undefined;
  }
  if (state.outstanding?.attempt !== attempt)
    return `a failure of attempt ${attempt} of step ${name}, already retried`;
  onInvokeFailure(t, name, error ?? { type: 'UnknownError', message: 'no error given' }, outcome);
  return undefined;
}

/** The phase a step in progress is in, and the saga status that goes with it. */
const inProgress = {
  running: { phase: 'invoke', saga: 'running' },
  compensating: { phase: 'compensate', saga: 'compensating' },
  confirming: { phase: 'confirm', saga: 'confirming' },
} as const;

/**
 * An operator's `retry` of a saga that needs attention because a command could not be sent:
 * every step left in progress with nothing outstanding and no timer armed (a parked attempt, or
 * one whose retry came due while the saga waited) is sent again with the same attempt number,
 * and the saga goes back to the phase those steps are in. Returns whether there was any.
 */
export function resendParked(t: Transition): boolean {
  if (t.state.status !== 'needs-attention') return false;
  const armed = new Set(Object.values(t.state.timers).map((timer) => timer.step));
  const idle = Object.entries(t.state.steps).flatMap(([name, state]) => {
    const where = inProgress[state.status as keyof typeof inProgress] as
      | (typeof inProgress)[keyof typeof inProgress]
      | undefined;
    return where === undefined || state.outstanding !== undefined || armed.has(name)
      ? []
      : [{ name, state, ...where }];
  });
  const first = idle[0];
  if (first === undefined) return false;
  t.state.status = first.saga;
  delete t.state.attention;
  for (const { name, state, phase } of idle) {
    if (phase === 'invoke') startInvoke(t, name, Math.max(1, state.attempts));
    else if (phase === 'compensate') startCompensation(t, name, Math.max(1, state.compensationAttempts));
    else startConfirm(t, name, Math.max(1, state.confirmAttempts ?? 0));
  }
  return true;
}
