/**
 * The backward path: compensating the steps that took (or may have taken) effect, group by group
 * in reverse, each retried per its compensation policy until it succeeds; when one's budget is
 * spent the saga needs attention.
 * @module
 */

import type { Transition } from './internal/transition.js';
import { type StepError, timerId } from './state.js';

/** Starts compensating after `error` (of `step`, when one step caused it). */
export function beginCompensation(t: Transition, step: string | undefined, error: StepError): void {
  t.state.status = 'compensating';
  t.state.failure = step === undefined ? { error } : { step, error };
  t.cancelTimer(timerId('saga-timeout'));
  for (const group of t.definition.groups.slice(0, t.state.group + 1)) {
    for (const { name } of group) {
      const state = t.stepState(name);
      if (state.status !== 'running') continue;
      // Its outcome is unknown: compensate it like a step that succeeded.
      state.status = 'unknown';
      delete state.outstanding;
      t.cancelStepTimers(name);
    }
  }
  t.notify('compensating', { ...(step === undefined ? {} : { step }), error });
  compensateNext(t);
}

/** Compensates the current group, or moves to the one before it, or finishes. */
export function compensateNext(t: Transition): void {
  const groups = t.definition.groups;
  while (t.state.group >= 0) {
    const group = groups[t.state.group] ?? [];
    const toCompensate: string[] = [];
    for (const step of group) {
      const state = t.stepState(step.name);
      if (state.status !== 'succeeded' && state.status !== 'unknown') continue;
      if (step.compensable) toCompensate.push(step.name);
      else state.status = 'compensated';
    }
    for (const name of toCompensate) startCompensation(t, name, t.stepState(name).compensationAttempts + 1);
    if (toCompensate.length > 0) return;
    const settled = group.every((step) => {
      const status = t.stepState(step.name).status;
      return status !== 'compensating' && status !== 'compensation-failed';
    });
    if (!settled) return;
    t.state.group -= 1;
  }
  t.state.status = 'compensated';
  t.cancelAllTimers();
  t.notify('compensated');
}

/** Sends a compensation attempt. */
export function startCompensation(t: Transition, name: string, attempt: number): void {
  t.stepState(name).status = 'compensating';
  const error = t.dispatch(name, 'compensate', attempt);
  if (error) onCompensationFailure(t, name, error);
}

/** A compensation attempt failed, timed out, or could not be sent. */
export function onCompensationFailure(t: Transition, name: string, error: StepError): void {
  const state = t.stepState(name);
  t.recordFailure(name, error);
  const attempts = state.compensationAttempts;
  const used = attempts - (state.retryBase ?? 0);
  if (t.parkOrRetry(name, 'compensate', t.step(name).compensationRetry, attempts, used, error)) return;
  state.status = 'compensation-failed';
  t.needAttention(
    name,
    `Compensation of step ${name} failed after ${used} attempt(s): ${error.type}: ${error.message}`,
    t.stepsIn('compensation-failed'),
    error,
  );
}

/** A compensation attempt was answered. */
export function onCompensationReply(
  t: Transition,
  name: string,
  attempt: number,
  outcome: 'success' | 'business-failure' | 'error',
  error: StepError | undefined,
): string | undefined {
  const state = t.stepState(name);
  if (state.status !== 'compensating') return `step ${name} is ${state.status}, not compensating`;
  if (attempt > state.compensationAttempts)
    return `no compensation attempt ${attempt} of step ${name} was sent`;
  if (outcome === 'success') {
    const latencyMs = state.outstanding ? t.now - state.outstanding.sentAt : undefined;
    state.status = 'compensated';
    delete state.outstanding;
    t.cancelStepTimers(name);
    t.notify('step-compensated', { step: name, attempt, ...(latencyMs === undefined ? {} : { latencyMs }) });
    if (t.state.status === 'compensating') compensateNext(t);
    return undefined;
  }
  if (state.outstanding?.attempt !== attempt)
    return `a failure of compensation attempt ${attempt}, already retried`;
  const failure = error ?? { type: 'UnknownError', message: 'no error given' };
  // A participant that refuses an undo (a TCC cancel answered AlreadyConfirmed) will refuse it
  // again: asking once more changes nothing, so the saga needs attention at once.
  onCompensationFailure(
    t,
    name,
    outcome === 'business-failure' ? { ...failure, nonRetryable: true } : failure,
  );
  return undefined;
}
