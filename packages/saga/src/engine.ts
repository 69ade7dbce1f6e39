/**
 * The saga state machine: `decide(definition, state, event, env)` returns the next state and the
 * effects to carry out (commands to send, local steps to run, timers to set, notifications). It is
 * pure — no I/O, no clock of its own — so the coordinator can record a transition and its effects
 * in one Kafka transaction, and a crash replays the same decision instead of a different one.
 * @module
 */

import { backoffDelayMs, isCascadeError, StateError } from '@cascade/core';
import {
  beginCompensation,
  onCompensationFailure,
  onCompensationReply,
  startCompensation,
} from './compensation.js';
import { onConfirmFailure, onConfirmReply, onReservationExpiry, startConfirm } from './confirmation.js';
import type { SagaDefinition } from './definition.js';
import { advance, onInvokeFailure, onInvokeReply, startInvoke } from './forward.js';
import { Transition, type TransitionEnv } from './internal/transition.js';
import { applyOperator } from './operator.js';
import type { BusinessFailure } from './participant.js';
import {
  type Decision,
  type SagaEffect,
  type SagaEvent,
  type SagaState,
  type StepError,
  type StepState,
  terminalStatuses,
  timerId,
} from './state.js';

export type { TransitionEnv } from './internal/transition.js';

/** The state of a saga that has just begun, before its first transition. */
function initialState(definition: SagaDefinition, sagaId: string, input: unknown, now: number): SagaState {
  const steps: Record<string, StepState> = {};
  for (const name of definition.steps.keys())
    steps[name] = { status: 'pending', attempts: 0, compensationAttempts: 0 };
  return {
    sagaId,
    saga: definition.name,
    version: definition.version,
    input,
    status: 'running',
    seq: 0,
    group: 0,
    steps,
    timers: {},
    startedAt: now,
    updatedAt: now,
    audit: [],
  };
}

function onTimer(t: Transition, id: string): string | undefined {
  const timer = t.state.timers[id];
  if (timer === undefined) return `timer ${id} is not armed (cancelled, or fired already)`;
  delete t.state.timers[id];
  const { step, phase, attempt } = timer;
  if (timer.kind === 'saga-timeout') {
    if (t.state.status === 'running') {
      beginCompensation(t, undefined, {
        type: 'SagaTimeout',
        message: 'The saga did not finish before its deadline.',
      });
    }
    return undefined;
  }
  if (timer.kind === 'reservation-expiry') {
    if (step === undefined) return `timer ${id} names no step`;
    onReservationExpiry(t, step);
    return undefined;
  }
  if (step === undefined || phase === undefined || attempt === undefined) return `timer ${id} names no step`;
  const state = t.stepState(step);
  if (timer.kind === 'step-timeout') {
    if (state.outstanding?.phase !== phase || state.outstanding.attempt !== attempt) return undefined;
    const definition = t.step(step);
    const timeoutMs = phase === 'invoke' ? definition.timeoutMs : definition.compensationTimeoutMs;
    const error = {
      type: 'Timeout',
      message: `No reply to ${phase} attempt ${attempt} within ${timeoutMs} ms.`,
    };
    if (phase === 'invoke') onInvokeFailure(t, step, error, 'timeout');
    else if (phase === 'confirm') onConfirmFailure(t, step, error);
    else onCompensationFailure(t, step, error);
    return undefined;
  }
  // A retry or a parked attempt is due.
  if (phase === 'invoke' && state.status === 'running' && t.state.status === 'running')
    startInvoke(t, step, attempt);
  else if (phase === 'compensate' && state.status === 'compensating') startCompensation(t, step, attempt);
  else if (phase === 'confirm' && state.status === 'confirming') startConfirm(t, step, attempt);
  return undefined;
}

function onDispatchFailed(
  t: Transition,
  event: Extract<SagaEvent, { type: 'dispatch-failed' }>,
): string | undefined {
  const state = t.stepState(event.step);
  const outstanding = state.outstanding;
  if (outstanding?.phase !== event.phase || outstanding.attempt !== event.attempt) {
    return `${event.phase} attempt ${event.attempt} of step ${event.step} is not outstanding`;
  }
  if (event.reason === 'send-failed') {
    // The command never left (its topic is gone, the record is too large for it): the
    // participant did nothing, and sending it again changes nothing until someone fixes the
    // deployment. Park the attempt (same number, budget untouched, the step keeps its status)
    // and let an operator decide: `retry` sends it again, `abort` or `forceComplete` end it.
    const error = event.error ?? { type: 'SendFailed', message: 'The command could not be sent.' };
    t.recordFailure(event.step, error);
    t.notify('step-parked', { step: event.step, attempt: event.attempt, error });
    const parked = t.state.status === 'needs-attention' ? (t.state.attention?.steps ?? []) : [];
    t.needAttention(
      event.step,
      `The ${event.phase} command of step ${event.step} could not be sent: ${error.type}: ${error.message}`,
      [...new Set([...parked, event.step])],
      error,
    );
    return undefined;
  }
  // The participant's circuit breaker is open: park the attempt (same number, budget untouched)
  // instead of failing it, so an outage does not set off a storm of compensations.
  delete state.outstanding;
  t.cancelStepTimers(event.step);
  const definition = t.step(event.step);
  const policy =
    event.phase === 'invoke'
      ? definition.retry
      : event.phase === 'confirm'
        ? (definition.tcc?.confirmRetry ?? definition.compensationRetry)
        : definition.compensationRetry;
  t.setTimer(timerId('park', event.step, event.phase, event.attempt), {
    kind: 'park',
    dueAt: t.now + backoffDelayMs(policy, Math.max(1, event.attempt), t.random),
    step: event.step,
    phase: event.phase,
    attempt: event.attempt,
  });
  t.notify('step-parked', { step: event.step, attempt: event.attempt });
  return undefined;
}

/**
 * Applies one event to a saga. `state` is `undefined` only for `begin`. Events that change
 * nothing (a duplicate reply, a stale timer, a second `begin`) come back with `applied: false`
 * and the reason; the state is then returned unchanged and `seq` does not move.
 */
export function decide(
  definition: SagaDefinition,
  state: SagaState | undefined,
  event: SagaEvent,
  env: TransitionEnv,
): Decision {
  if (event.type === 'begin') {
    if (state !== undefined)
      return { state, effects: [], applied: false, ignored: `saga ${state.sagaId} has begun already` };
    const t = new Transition(definition, initialState(definition, event.sagaId, event.input, env.now), env);
    t.notify('started');
    if (definition.timeoutMs !== undefined) {
      t.setTimer(timerId('saga-timeout'), { kind: 'saga-timeout', dueAt: env.now + definition.timeoutMs });
    }
    advance(t);
    return finish(t);
  }
  if (state === undefined) {
    throw new StateError('decide', `decide() needs the saga's state for a '${event.type}' event.`);
  }
  if (terminalStatuses.has(state.status)) {
    return { state, effects: [], applied: false, ignored: `saga ${state.sagaId} is ${state.status}` };
  }
  const t = new Transition(definition, state, env);
  let ignored: string | undefined;
  switch (event.type) {
    case 'reply':
      if (t.state.steps[event.step] === undefined) ignored = `saga ${state.saga} has no step ${event.step}`;
      else if (event.phase === 'invoke') {
        const error = event.outcome === 'success' ? undefined : event.error;
        const result = event.outcome === 'success' ? event.result : undefined;
        const reservation =
          event.outcome === 'success'
            ? {
                ...(event.expiresAt === undefined ? {} : { expiresAt: event.expiresAt }),
                ...(event.reservationUri === undefined ? {} : { uri: event.reservationUri }),
              }
            : {};
        ignored = onInvokeReply(t, event.step, event.attempt, event.outcome, result, error, reservation);
      } else if (event.phase === 'confirm') {
        const error = event.outcome === 'success' ? undefined : event.error;
        ignored = onConfirmReply(t, event.step, event.attempt, event.outcome, error);
      } else {
        const error = event.outcome === 'success' ? undefined : event.error;
        ignored = onCompensationReply(t, event.step, event.attempt, event.outcome, error);
      }
      break;
    case 'timer':
      ignored = onTimer(t, event.timerId);
      break;
    case 'dispatch-failed':
      ignored =
        t.state.steps[event.step] === undefined
          ? `saga ${state.saga} has no step ${event.step}`
          : onDispatchFailed(t, event);
      break;
    case 'operator':
      ignored = applyOperator(t, event.action, event.by, event.reason, event.step);
      break;
  }
  if (ignored !== undefined) return { state, effects: [], applied: false, ignored };
  return finish(t);
}

type SendCommand = Extract<SagaEffect, { type: 'send-command' }>;

/**
 * {@link decide}, for a coordinator that cannot send every command: each command `undeliverable`
 * gives a reason against (its topic is gone, the record is too large for it) is left out, and the
 * saga is decided again with that attempt's `dispatch-failed` (`send-failed`), which parks it and
 * makes the saga need attention. So one saga's unsendable command is that saga's failure, never
 * a failure of the transaction its inbox partition shares with other sagas. Returns the last
 * decision with the effects of all of them, in order, the left-out commands excepted.
 */
export function decideDelivering(
  definition: SagaDefinition,
  state: SagaState | undefined,
  event: SagaEvent,
  env: TransitionEnv,
  undeliverable: (command: SendCommand) => StepError | undefined,
): Decision {
  const first = decide(definition, state, event, env);
  if (!first.applied) return first;
  let last = first;
  const effects: SagaEffect[] = [];
  const queue: Decision[] = [first];
  for (let decision = queue.shift(); decision !== undefined; decision = queue.shift()) {
    for (const effect of decision.effects) {
      const error = effect.type === 'send-command' ? undeliverable(effect) : undefined;
      if (error === undefined || effect.type !== 'send-command') {
        effects.push(effect);
        continue;
      }
      const { step, phase, attempt } = effect;
      const failed = decide(
        definition,
        last.state,
        { type: 'dispatch-failed', step, phase, attempt, reason: 'send-failed', error },
        env,
      );
      if (!failed.applied) continue;
      last = failed;
      queue.push(failed);
    }
  }
  return { state: last.state, effects, applied: true };
}

function finish(t: Transition): Decision {
  t.state.seq = t.seq;
  t.state.updatedAt = t.now;
  return { state: t.state, effects: t.effects, applied: true };
}

const businessFailureCode: BusinessFailure['code'] = 'CASCADE_SAGA_BUSINESS_FAILURE';

/**
 * The outcome of a local step's `run` (or `undo`) that threw, classified as a participant's
 * reply is: a {@link BusinessFailure} is a refusal (`business-failure`: not retried; the steps
 * before it are compensated, not this one) that keeps its `type` (`CardDeclined`) and `details`;
 * anything else is an `error` named by its class, retried per the step's policy. Recognised by
 * its code, so a `BusinessFailure` from another installed copy of the package counts too.
 */
export function localStepFailure(error: unknown): {
  readonly outcome: 'business-failure' | 'error';
  readonly error: StepError;
} {
  if (isCascadeError(error) && error.code === businessFailureCode) {
    const failure = error as BusinessFailure;
    return {
      outcome: 'business-failure',
      error: {
        type: failure.type,
        message: failure.message,
        ...(failure.details === undefined ? {} : { details: failure.details }),
      },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'error', error: { type: error instanceof Error ? error.name : 'Error', message } };
}
