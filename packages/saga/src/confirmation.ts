/**
 * The confirm phase of TCC steps. When every step of a saga has succeeded, the reservations its
 * TCC steps made are confirmed, in parallel, each retried until it succeeds. The decision is
 * made at that point: the saga's deadline no longer applies and nothing cancels it. A
 * reservation whose expiry (less a safety margin) comes before the confirm could start makes the
 * saga cancel instead; a participant that answers a confirm with "already cancelled" (it let the
 * reservation expire) is a heuristic outcome: if every reservation was cancelled the saga
 * compensates its other steps; if some were confirmed and some cancelled it ends
 * `heuristic-mixed`, with the details, for a person to settle.
 * @module
 */

import { beginCompensation } from './compensation.js';
import type { Transition } from './internal/transition.js';
import { type StepError, timerId } from './state.js';

/** The largest default safety margin before a reservation's expiry. */
const maxDefaultMarginMs = 5_000;

function tccSteps(t: Transition): string[] {
  return [...t.definition.steps.values()].filter((step) => step.kind === 'tcc').map((step) => step.name);
}

/**
 * A TCC try succeeded: remember when the reservation expires (the sooner of the participant's
 * answer and the step's TTL counted from when the try was sent) and arm a timer at that moment
 * less the margin, after which the saga cancels rather than confirms.
 */
export function recordReservation(
  t: Transition,
  name: string,
  sentAt: number,
  expiresAt: number | undefined,
): void {
  const tcc = t.step(name).tcc;
  if (tcc === undefined) return;
  const candidates = [
    expiresAt,
    tcc.reservationTtlMs === undefined ? undefined : sentAt + tcc.reservationTtlMs,
  ];
  const known = candidates.filter((value): value is number => value !== undefined);
  if (known.length === 0) return;
  const expiry = Math.min(...known);
  const margin =
    tcc.expiryMarginMs ?? Math.min(maxDefaultMarginMs, Math.floor(Math.max(0, expiry - sentAt) * 0.1));
  const state = t.stepState(name);
  state.expiresAt = expiry;
  state.confirmBy = expiry - margin;
  t.setTimer(timerId('reservation-expiry', name), {
    kind: 'reservation-expiry',
    dueAt: state.confirmBy,
    step: name,
  });
}

/** A reservation's confirm-by moment passed: if the saga has not started confirming, it cancels. */
export function onReservationExpiry(t: Transition, name: string): void {
  if (t.state.status !== 'running' || t.stepState(name).status !== 'succeeded') return;
  beginCompensation(t, name, expiredError(name, t.stepState(name).expiresAt));
}

function expiredError(name: string, expiresAt: number | undefined): StepError {
  return {
    type: 'ReservationExpired',
    message: `The reservation of step ${name} expires at ${expiresAt === undefined ? 'an unknown time' : new Date(expiresAt).toISOString()}, too soon to confirm it.`,
    nonRetryable: true,
  };
}

/**
 * Every step has succeeded: confirm the reservations, or complete the saga when it has none. A
 * reservation too close to its expiry makes the saga cancel them all instead.
 */
export function finishForward(t: Transition): void {
  const tried = tccSteps(t).filter((name) => t.stepState(name).status === 'succeeded');
  if (tried.length === 0) {
    t.state.status = 'completed';
    t.cancelAllTimers();
    t.notify('completed');
    return;
  }
  for (const name of tried) {
    const confirmBy = t.stepState(name).confirmBy;
    if (confirmBy !== undefined && t.now >= confirmBy) {
      beginCompensation(t, name, expiredError(name, t.stepState(name).expiresAt));
      return;
    }
  }
  t.state.status = 'confirming';
  t.cancelAllTimers();
  t.notify('confirming');
  for (const name of tried) startConfirm(t, name, 1);
}

/** Sends confirm attempt `attempt` of a TCC step. */
export function startConfirm(t: Transition, name: string, attempt: number): void {
  t.stepState(name).status = 'confirming';
  const error = t.dispatch(name, 'confirm', attempt);
  if (error) onConfirmFailure(t, name, error);
}

/** A confirm attempt failed, timed out or could not be sent: retry it, or the saga needs attention. */
export function onConfirmFailure(t: Transition, name: string, error: StepError): void {
  const policy = t.step(name).tcc?.confirmRetry;
  if (policy === undefined) throw new Error(`Step ${name} is not a TCC step`);
  const state = t.stepState(name);
  t.recordFailure(name, error);
  const attempts = state.confirmAttempts ?? 0;
  const used = attempts - (state.retryBase ?? 0);
  if (t.parkOrRetry(name, 'confirm', policy, attempts, used, error)) return;
  state.status = 'confirm-failed';
  t.needAttention(
    name,
    `Confirm of step ${name} failed after ${used} attempt(s): ${error.type}: ${error.message}`,
    t.stepsIn('confirm-failed'),
    error,
  );
}

/** A confirm attempt was answered. Returns why the reply was ignored, if it was. */
export function onConfirmReply(
  t: Transition,
  name: string,
  attempt: number,
  outcome: 'success' | 'business-failure' | 'error',
  error: StepError | undefined,
): string | undefined {
  const state = t.stepState(name);
  if (state.status !== 'confirming') return `step ${name} is ${state.status}, not confirming`;
  if (attempt > (state.confirmAttempts ?? 0)) return `no confirm attempt ${attempt} of step ${name} was sent`;
  if (outcome === 'error') {
    if (state.outstanding?.attempt !== attempt)
      return `a failure of confirm attempt ${attempt}, already retried`;
    onConfirmFailure(t, name, error ?? { type: 'UnknownError', message: 'no error given' });
    return undefined;
  }
  const latencyMs = state.outstanding ? t.now - state.outstanding.sentAt : undefined;
  delete state.outstanding;
  t.cancelStepTimers(name);
  if (outcome === 'success') {
    state.status = 'confirmed';
    t.notify('step-confirmed', { step: name, attempt, ...(latencyMs === undefined ? {} : { latencyMs }) });
  } else {
    // The participant had cancelled the reservation (it expired): a heuristic outcome.
    state.status = 'expired';
    state.lastError = error ?? { type: 'ReservationCancelled', message: 'the participant had cancelled it' };
    t.notify('step-expired', { step: name, attempt, error: state.lastError });
  }
  settleConfirmation(t);
  return undefined;
}

/** When no confirm is outstanding any more: complete, compensate, or end `heuristic-mixed`. */
export function settleConfirmation(t: Transition): void {
  if (t.state.status !== 'confirming') return;
  // Only TCC steps are ever confirming, confirmed, expired or confirm-failed.
  if (t.stepsIn('confirming').length > 0 || t.stepsIn('confirm-failed').length > 0) return;
  const confirmed = t.stepsIn('confirmed');
  const cancelled = t.stepsIn('expired');
  if (cancelled.length === 0) {
    t.state.status = 'completed';
    t.cancelAllTimers();
    t.notify('completed');
    return;
  }
  const [first] = cancelled;
  if (confirmed.length === 0) {
    // Nothing was confirmed: the saga can still be undone as a whole.
    beginCompensation(t, first, {
      type: 'ReservationExpired',
      message: `Every reservation had been cancelled by its participant when the confirm came (${cancelled.join(', ')}).`,
      nonRetryable: true,
    });
    return;
  }
  t.state.status = 'heuristic-mixed';
  t.state.heuristic = { confirmed, cancelled };
  t.state.attention = {
    reason: `Heuristic outcome: ${confirmed.join(', ')} confirmed, but ${cancelled.join(', ')} had been cancelled by the participant (expired) before the confirm.`,
    steps: cancelled,
  };
  t.cancelAllTimers();
  t.notify('heuristic-mixed', first === undefined ? {} : { step: first });
}
