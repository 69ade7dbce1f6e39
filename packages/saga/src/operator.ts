/**
 * Operator actions on a saga: each is a logged transition with who did it and why.
 * - `retry`: compensations that exhausted their budget get a fresh one;
 * - `markCompensated`: a step was compensated by hand;
 * - `skipStep`: a step needs no (further) compensation, or a stuck forward step is skipped;
 * - `forceComplete`: the saga is declared completed;
 * - `abort`: the saga is declared failed; nothing more is attempted.
 * @module
 */

import { ConfigError, requireNonEmptyString, requireOneOf } from '@cascade/core';
import { compensateNext, startCompensation } from './compensation.js';
import { settleConfirmation, startConfirm } from './confirmation.js';
import { advance, resendParked } from './forward.js';
import type { Transition } from './internal/transition.js';
import type { OperatorAction, SagaState } from './state.js';

function resumeCompensation(t: Transition): void {
  if (t.stepsIn('compensation-failed').length > 0) return;
  t.state.status = 'compensating';
  delete t.state.attention;
  compensateNext(t);
}

/** Applies an operator action. Returns why it was refused, if it was. */
export function applyOperator(
  t: Transition,
  action: OperatorAction,
  by: string,
  reason: string,
  step: string | undefined,
): string | undefined {
  const stepState = step === undefined ? undefined : t.state.steps[step];
  if (step !== undefined && stepState === undefined) return `saga ${t.state.saga} has no step ${step}`;
  const refusal = ((): string | undefined => {
    switch (action) {
      case 'retry': {
        const confirmFailed = t.stepsIn('confirm-failed');
        if (confirmFailed.length > 0) {
          t.state.status = 'confirming';
          delete t.state.attention;
          for (const name of confirmFailed) {
            const state = t.stepState(name);
            state.retryBase = state.confirmAttempts ?? 0;
            startConfirm(t, name, (state.confirmAttempts ?? 0) + 1);
          }
          return undefined;
        }
        const failed = t.stepsIn('compensation-failed');
        if (failed.length === 0) {
          // A command that could not be sent (saga.md, "When a command cannot be sent").
          if (resendParked(t)) return undefined;
          return 'no compensation or confirm has failed: nothing to retry';
        }
        t.state.status = 'compensating';
        delete t.state.attention;
        for (const name of failed) {
          const state = t.stepState(name);
          state.retryBase = state.compensationAttempts;
          startCompensation(t, name, state.compensationAttempts + 1);
        }
        return undefined;
      }
      case 'markCompensated':
      case 'skipStep': {
        if (step === undefined || stepState === undefined) return `${action} needs a step`;
        if (stepState.status === 'compensation-failed' || stepState.status === 'compensating') {
          const state = t.stepState(step);
          state.status = 'compensated';
          delete state.outstanding;
          t.cancelStepTimers(step);
          resumeCompensation(t);
          return undefined;
        }
        if (stepState.status === 'confirm-failed' || stepState.status === 'confirming') {
          // The reservation was confirmed by hand (or needs no confirm).
          const state = t.stepState(step);
          state.status = 'confirmed';
          delete state.outstanding;
          t.cancelStepTimers(step);
          if (t.state.status === 'needs-attention' && t.stepsIn('confirm-failed').length === 0) {
            t.state.status = 'confirming';
            delete t.state.attention;
          }
          settleConfirmation(t);
          return undefined;
        }
        if (action === 'skipStep' && stepState.status === 'running' && t.state.status === 'running') {
          const state = t.stepState(step);
          state.status = 'skipped';
          delete state.outstanding;
          t.cancelStepTimers(step);
          advance(t);
          return undefined;
        }
        return `step ${step} is ${stepState.status}: ${action} does not apply`;
      }
      case 'forceComplete':
        t.state.status = 'completed';
        delete t.state.attention;
        t.cancelAllTimers();
        t.notify('completed');
        return undefined;
      case 'abort':
        t.state.status = 'failed';
        delete t.state.attention;
        t.cancelAllTimers();
        t.notify('failed');
        return undefined;
    }
  })();
  if (refusal !== undefined) return refusal;
  t.state.audit.push({ at: t.now, action, by, reason, ...(step === undefined ? {} : { step }) });
  t.notify('operator-action', step === undefined ? {} : { step });
  return undefined;
}

/** Every operator action, as {@link OperatorAction} lists them. */
export const operatorActions = [
  'retry',
  'markCompensated',
  'skipStep',
  'forceComplete',
  'abort',
] as const satisfies readonly OperatorAction[];

/** An operator's request, checked: what `resolve()` writes to the inbox. */
export interface OperatorRequest {
  readonly action: OperatorAction;
  readonly by: string;
  readonly reason: string;
  readonly step?: string;
}

/**
 * Checks an operator's request on saga `state` before anything is written: the action is one of
 * {@link operatorActions}, `by` and `reason` are non-empty strings, and `step`, which
 * `markCompensated` and `skipStep` need, is one of the saga's steps. Whether the action applies to
 * the saga as it is then is for the state machine to say (a refusal is logged, not thrown).
 * @throws {ConfigError} naming the field (`action`, `details.by`, `details.reason`, `details.step`).
 */
export function checkOperatorRequest(
  state: Pick<SagaState, 'saga' | 'steps'>,
  action: unknown,
  details: unknown,
): OperatorRequest {
  const checkedAction = requireOneOf('action', action, operatorActions);
  if (typeof details !== 'object' || details === null) {
    throw new ConfigError('details', 'expected { by, reason, step? }: who resolves the saga, and why.');
  }
  const { by, reason, step } = details as Record<string, unknown>;
  const request = {
    action: checkedAction,
    by: requireNonEmptyString('details.by', by),
    reason: requireNonEmptyString('details.reason', reason),
  };
  const steps = Object.keys(state.steps);
  if (step === undefined) {
    if (checkedAction === 'markCompensated' || checkedAction === 'skipStep') {
      throw new ConfigError(
        'details.step',
        `${checkedAction} needs the step it applies to, one of ${steps.join(', ')} (saga ${state.saga}).`,
      );
    }
    return request;
  }
  const name = requireNonEmptyString('details.step', step);
  if (!steps.includes(name)) {
    throw new ConfigError(
      'details.step',
      `saga ${state.saga} has no step "${name}"; its steps are ${steps.join(', ')}.`,
    );
  }
  return { ...request, step: name };
}
