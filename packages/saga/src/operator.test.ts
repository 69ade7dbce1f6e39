import { ConfigError, CoreErrorCodes } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { checkOperatorRequest, operatorActions } from './operator.js';
import type { StepState } from './state.js';

const step: StepState = { status: 'compensation-failed', attempts: 1, compensationAttempts: 3 };
const saga = { saga: 'order', steps: { reserve: step, charge: step } };

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(CoreErrorCodes.Config);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('operator requests', () => {
  it('accepts each action with who and why, and a step of the saga', () => {
    for (const action of operatorActions) {
      expect(
        checkOperatorRequest(saga, action, { by: 'alice', reason: 'refunded by phone', step: 'charge' }),
      ).toEqual({ action, by: 'alice', reason: 'refunded by phone', step: 'charge' });
    }
    expect(checkOperatorRequest(saga, 'abort', { by: 'alice', reason: 'duplicate order' })).toEqual({
      action: 'abort',
      by: 'alice',
      reason: 'duplicate order',
    });
  });

  it('refuses an unknown action, naming the field and listing the valid ones', () => {
    const error = configError(() => checkOperatorRequest(saga, 'restart', { by: 'alice', reason: 'x' }));
    expect(error.field).toBe('action');
    expect(error.message).toBe(
      `Invalid option action: expected one of 'retry', 'markCompensated', 'skipStep', 'forceComplete', 'abort', got "restart".`,
    );
  });

  it('refuses a missing, empty or blank by or reason, and details that are not an object', () => {
    const cases: Array<[unknown, string]> = [
      [{ reason: 'why' }, 'details.by'],
      [{ by: '', reason: 'why' }, 'details.by'],
      [{ by: 42, reason: 'why' }, 'details.by'],
      [{ by: 'alice' }, 'details.reason'],
      [{ by: 'alice', reason: ' \t' }, 'details.reason'],
      [undefined, 'details'],
      ['alice', 'details'],
    ];
    for (const [details, field] of cases) {
      expect(configError(() => checkOperatorRequest(saga, 'abort', details)).field).toBe(field);
    }
  });

  it('refuses a step the saga does not have, and markCompensated or skipStep without a step', () => {
    const unknown = configError(() =>
      checkOperatorRequest(saga, 'skipStep', { by: 'alice', reason: 'x', step: 'ship' }),
    );
    expect(unknown.field).toBe('details.step');
    expect(unknown.message).toContain('saga order has no step "ship"; its steps are reserve, charge.');
    expect(
      configError(() => checkOperatorRequest(saga, 'skipStep', { by: 'a', reason: 'x', step: '' })).field,
    ).toBe('details.step');
    for (const action of ['markCompensated', 'skipStep'] as const) {
      const error = configError(() => checkOperatorRequest(saga, action, { by: 'alice', reason: 'x' }));
      expect(error.field).toBe('details.step');
      expect(error.message).toContain(`${action} needs the step it applies to, one of reserve, charge`);
    }
  });
});
