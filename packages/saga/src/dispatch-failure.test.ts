import { describe, expect, it } from 'vitest';
import { defineSaga } from './definition.js';
import { decide, decideDelivering } from './engine.js';
import type { SagaEffect, SagaState, StepError } from './state.js';

const fast = { initialIntervalMs: 100, maximumIntervalMs: 1_000, jitter: 0 };

/** `reserve` and `notify` in parallel (inventory, mail), then `charge` (payment). */
const order = defineSaga<{ readonly id: string }>('order')
  .parallel((group) =>
    group
      .step('reserve', {
        participant: 'inventory',
        invoke: ({ input }) => ({ id: input.id }),
        compensate: ({ input }) => ({ id: input.id }),
        timeoutMs: 1_000,
        retry: { ...fast, maximumAttempts: 2 },
      })
      .step('notify', {
        participant: 'mail',
        invoke: ({ input }) => ({ id: input.id }),
        timeoutMs: 1_000,
      }),
  )
  .step('charge', {
    participant: 'payment',
    invoke: ({ input }) => ({ id: input.id }),
    compensate: ({ input }) => ({ id: input.id }),
    timeoutMs: 1_000,
  })
  .build();

const env = { now: 1_000, random: () => 0.5 };
const commands = (effects: readonly SagaEffect[]) =>
  effects.flatMap((effect) =>
    effect.type === 'send-command' ? [`${effect.phase} ${effect.step} #${effect.attempt}`] : [],
  );
const notifications = (effects: readonly SagaEffect[]) =>
  effects.flatMap((effect) =>
    effect.type === 'emit'
      ? [`${effect.notification.kind}${effect.notification.step ? ` ${effect.notification.step}` : ''}`]
      : [],
  );
const missing = (participant: string) => (command: { participant: string }) =>
  command.participant === participant
    ? ({
        type: 'CommandUndeliverable',
        message: `no topic for ${participant}`,
        nonRetryable: true,
      } as StepError)
    : undefined;

describe('decideDelivering: a command that cannot be sent', () => {
  it('sends what it can and parks the unsendable attempt, so the saga needs attention with its budget untouched', () => {
    const decision = decideDelivering(
      order,
      undefined,
      { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } },
      env,
      missing('mail'),
    );

    expect(decision.applied).toBe(true);
    expect(commands(decision.effects)).toEqual(['invoke reserve #1']);
    expect(notifications(decision.effects)).toEqual([
      'started',
      'step-parked notify',
      'needs-attention notify',
    ]);
    const state = decision.state;
    expect(state.status).toBe('needs-attention');
    expect(state.attention?.steps).toEqual(['notify']);
    expect(state.attention?.reason).toContain('no topic for mail');
    expect(state.steps.notify).toMatchObject({ status: 'running', attempts: 1 });
    expect(state.steps.notify?.outstanding).toBeUndefined();
    expect(state.steps.notify?.lastError?.type).toBe('CommandUndeliverable');
    expect(Object.keys(state.timers).filter((id) => id.includes('notify'))).toEqual([]);
    // The sendable command's attempt is outstanding as usual.
    expect(state.steps.reserve?.outstanding?.attempt).toBe(1);
  });

  it('parks every unsendable command of one decision and names each step', () => {
    const decision = decideDelivering(
      order,
      undefined,
      { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } },
      env,
      () => ({ type: 'CommandUndeliverable', message: 'gone', nonRetryable: true }),
    );

    expect(commands(decision.effects)).toEqual([]);
    expect(decision.state.attention?.steps).toEqual(['reserve', 'notify']);
  });

  it('is decide() itself when every command can be sent', () => {
    const event = { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } } as const;
    expect(decideDelivering(order, undefined, event, env, () => undefined)).toEqual(
      decide(order, undefined, event, env),
    );
  });

  it('an operator retry sends the parked attempt again, with the same number, and the saga runs on', () => {
    const parked = decideDelivering(
      order,
      undefined,
      { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } },
      env,
      missing('mail'),
    ).state;

    const retried = decide(
      order,
      parked,
      { type: 'operator', action: 'retry', by: 'ops', reason: 'created the topic' },
      { ...env, now: 2_000 },
    );

    expect(retried.applied).toBe(true);
    expect(commands(retried.effects)).toEqual(['invoke notify #1']);
    expect(retried.state.status).toBe('running');
    expect(retried.state.attention).toBeUndefined();
    expect(retried.state.steps.notify?.outstanding).toMatchObject({ attempt: 1, sentAt: 2_000 });
    expect(retried.state.audit.at(-1)).toMatchObject({ action: 'retry', by: 'ops' });
    let state: SagaState = retried.state;
    for (const step of ['reserve', 'notify']) {
      state = decide(
        order,
        state,
        { type: 'reply', step, phase: 'invoke', attempt: 1, outcome: 'success' },
        env,
      ).state;
    }
    expect(state.steps.charge?.outstanding?.attempt).toBe(1);
  });

  it('an operator retry also resends a parallel step whose retry came due while the saga needed attention', () => {
    let state = decideDelivering(
      order,
      undefined,
      { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } },
      env,
      missing('mail'),
    ).state;
    // reserve times out while the saga waits: its retry is due, but the saga is not running.
    state = decide(order, state, { type: 'timer', timerId: 'step-timeout:reserve:invoke:1' }, env).state;
    const retryTimer = Object.keys(state.timers).find((id) => id.startsWith('retry:reserve'));
    expect(retryTimer).toBeDefined();
    state = decide(order, state, { type: 'timer', timerId: retryTimer ?? '' }, env).state;
    expect(state.steps.reserve?.outstanding).toBeUndefined();

    const retried = decide(
      order,
      state,
      { type: 'operator', action: 'retry', by: 'ops', reason: 'fixed' },
      env,
    );

    expect(commands(retried.effects)).toEqual(['invoke reserve #1', 'invoke notify #1']);
  });

  it('a parked compensation goes back to compensating on retry', () => {
    const state = decide(order, undefined, { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } }, env).state;
    // notify refuses: reserve's outcome is unknown, so it is compensated, and that command cannot be sent.
    const parked = decideDelivering(
      order,
      state,
      {
        type: 'reply',
        step: 'notify',
        phase: 'invoke',
        attempt: 1,
        outcome: 'business-failure',
        error: { type: 'Refused', message: 'no' },
      },
      env,
      missing('inventory'),
    );
    expect(parked.state.status).toBe('needs-attention');
    expect(parked.state.steps.reserve).toMatchObject({ status: 'compensating', compensationAttempts: 1 });
    expect(commands(parked.effects)).toEqual([]);

    const retried = decide(
      order,
      parked.state,
      { type: 'operator', action: 'retry', by: 'ops', reason: 'r' },
      env,
    );

    expect(retried.state.status).toBe('compensating');
    expect(commands(retried.effects)).toEqual(['compensate reserve #1']);
  });

  it('an operator retry of a running saga with nothing parked is still refused', () => {
    const state = decide(order, undefined, { type: 'begin', sagaId: 's-1', input: { id: 'o-1' } }, env).state;

    const retried = decide(order, state, { type: 'operator', action: 'retry', by: 'ops', reason: 'r' }, env);

    expect(retried).toMatchObject({
      applied: false,
      ignored: 'no compensation or confirm has failed: nothing to retry',
    });
  });
});
