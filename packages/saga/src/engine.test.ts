import { StateError } from '@cascade/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineSaga, replyType, type SagaDefinition } from './definition.js';
import { decide, localStepFailure } from './engine.js';
import { BusinessFailure } from './participant.js';
import type { Decision, SagaEffect, SagaEvent, SagaState, StepError } from './state.js';

interface PlaceOrder {
  readonly orderId: string;
  readonly sku: string;
  readonly amount: number;
}

const fast = { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1_000, jitter: 0 };

function placeOrder(
  overrides: { timeoutMs?: number; chargeAttempts?: number; compensationAttempts?: number } = {},
) {
  return defineSaga<PlaceOrder>(
    'place-order',
    overrides.timeoutMs === undefined ? {} : { timeoutMs: overrides.timeoutMs },
  )
    .step('reserve-stock', {
      participant: 'inventory',
      invoke: ({ input }) => ({ sku: input.sku }),
      reply: replyType<{ reservationId: string }>(),
      compensate: ({ reply, sagaId }) => ({ reservationId: reply?.reservationId ?? null, sagaId }),
      timeoutMs: 1_000,
      retry: { ...fast, maximumAttempts: 2 },
      compensationRetry: { ...fast, maximumAttempts: overrides.compensationAttempts ?? 3 },
    })
    .step('charge-card', {
      participant: 'payment',
      invoke: ({ input, results }) => ({
        amount: input.amount,
        reservation: results['reserve-stock'].reservationId,
      }),
      reply: replyType<{ chargeId: string }>(),
      compensate: ({ reply }) => ({ chargeId: reply?.chargeId ?? null }),
      timeoutMs: 1_000,
      retry: { ...fast, maximumAttempts: overrides.chargeAttempts ?? 3 },
      compensationRetry: { ...fast, maximumAttempts: 3 },
    })
    .step('confirm-order', {
      participant: 'orders',
      invoke: ({ input, results }) => ({ orderId: input.orderId, chargeId: results['charge-card'].chargeId }),
      reply: replyType<{ confirmed: true }>(),
    })
    .build();
}

/** Feeds events one after another, keeping the state, at a clock that the test moves. */
class Harness {
  state: SagaState | undefined;
  now = 1_000;
  readonly log: Decision[] = [];
  constructor(readonly definition: SagaDefinition) {}

  send(event: SagaEvent): Decision {
    const decision = decide(this.definition, this.state, event, { now: this.now, random: () => 0.5 });
    this.state = decision.state;
    this.log.push(decision);
    return decision;
  }
  begin(input: unknown, sagaId = 'saga-1'): Decision {
    return this.send({ type: 'begin', sagaId, input });
  }
  succeed(step: string, result?: unknown, attempt = this.attempt(step, 'invoke')): Decision {
    return this.send({ type: 'reply', step, phase: 'invoke', attempt, outcome: 'success', result });
  }
  fail(
    step: string,
    outcome: 'business-failure' | 'error',
    error: StepError,
    attempt = this.attempt(step, 'invoke'),
  ) {
    return this.send({ type: 'reply', step, phase: 'invoke', attempt, outcome, error });
  }
  compensated(step: string, attempt = this.attempt(step, 'compensate')): Decision {
    return this.send({ type: 'reply', step, phase: 'compensate', attempt, outcome: 'success' });
  }
  /** Moves the clock to the earliest timer and fires it. */
  fireNextTimer(): Decision {
    const timers = Object.entries(this.state?.timers ?? {}).sort(([, a], [, b]) => a.dueAt - b.dueAt);
    const [id, timer] = timers[0] ?? [];
    if (id === undefined || timer === undefined) throw new Error('no timer armed');
    this.now = timer.dueAt;
    return this.send({ type: 'timer', timerId: id });
  }
  attempt(step: string, phase: 'invoke' | 'compensate'): number {
    const state = this.state?.steps[step];
    return (phase === 'invoke' ? state?.attempts : state?.compensationAttempts) ?? 0;
  }
}

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
const allCommands = (h: Harness) => h.log.flatMap((decision) => commands(decision.effects));

const input: PlaceOrder = { orderId: 'o-1', sku: 'SKU-1', amount: 4_200 };

describe('saga state machine: forward path', () => {
  it('runs the steps in order, feeding each reply into the next command, and completes', () => {
    const h = new Harness(placeOrder());
    const begun = h.begin(input);
    expect(notifications(begun.effects)).toEqual(['started']);
    const [first] = begun.effects.filter((e) => e.type === 'send-command');
    expect(first).toMatchObject({
      participant: 'inventory',
      command: 'reserve-stock',
      step: 'reserve-stock',
      phase: 'invoke',
      attempt: 1,
      commandId: 'saga-1/reserve-stock/invoke/1',
      idempotencyKey: 'saga-1/reserve-stock/invoke',
      payload: { sku: 'SKU-1' },
    });

    const charged = h.succeed('reserve-stock', { reservationId: 'r-9' });
    expect(charged.effects.find((e) => e.type === 'send-command')).toMatchObject({
      participant: 'payment',
      payload: { amount: 4_200, reservation: 'r-9' },
    });
    h.succeed('charge-card', { chargeId: 'c-7' });
    const done = h.succeed('confirm-order', { confirmed: true });

    expect(h.state?.status).toBe('completed');
    expect(notifications(done.effects)).toEqual(['step-succeeded confirm-order', 'completed']);
    expect(allCommands(h)).toEqual([
      'invoke reserve-stock #1',
      'invoke charge-card #1',
      'invoke confirm-order #1',
    ]);
    expect(h.state?.seq).toBe(4);
    expect(h.state?.timers).toEqual({});
  });

  it('treats a second begin with the same saga id as a no-op', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    const again = h.begin(input);
    expect(again.applied).toBe(false);
    expect(again.effects).toEqual([]);
    expect(h.state?.seq).toBe(1);
  });

  it('retries a step that threw, after the backoff, and goes on when the retry succeeds', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    const failed = h.fail('charge-card', 'error', { type: 'GatewayDown', message: '503' });
    expect(notifications(failed.effects)).toEqual(['step-retrying charge-card']);
    expect(failed.effects).toContainEqual({
      type: 'set-timer',
      timerId: 'retry:charge-card:invoke:2',
      dueAt: 1_100,
    });

    const retried = h.fireNextTimer();
    expect(commands(retried.effects)).toEqual(['invoke charge-card #2']);
    h.succeed('charge-card', { chargeId: 'c-2' });
    h.succeed('confirm-order', { confirmed: true });
    expect(h.state?.status).toBe('completed');
  });

  it('honours a failure that asks for its own retry delay', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    const failed = h.fail('reserve-stock', 'error', {
      type: 'Busy',
      message: 'later',
      nextRetryDelayMs: 7_000,
    });
    expect(failed.effects).toContainEqual({
      type: 'set-timer',
      timerId: 'retry:reserve-stock:invoke:2',
      dueAt: 8_000,
    });
  });

  it('accepts a late success of an earlier attempt while a retry is scheduled', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    h.fireNextTimer(); // attempt 1 of reserve-stock times out: retry scheduled
    expect(h.state?.steps['reserve-stock']).toMatchObject({ status: 'running', attempts: 1 });
    const late = h.succeed('reserve-stock', { reservationId: 'r-late' }, 1);
    expect(late.applied).toBe(true);
    expect(late.effects).toContainEqual({ type: 'cancel-timer', timerId: 'retry:reserve-stock:invoke:2' });
    expect(commands(late.effects)).toEqual(['invoke charge-card #1']);
  });

  it('ignores duplicate replies, replies for attempts never sent, and stale timers', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    expect(h.succeed('reserve-stock', { reservationId: 'r-1' }, 1)).toMatchObject({ applied: false });
    expect(h.succeed('charge-card', { chargeId: 'x' }, 5)).toMatchObject({ applied: false });
    expect(h.send({ type: 'timer', timerId: 'step-timeout:reserve-stock:invoke:1' })).toMatchObject({
      applied: false,
    });
    expect(
      h.send({ type: 'reply', step: 'no-such-step', phase: 'invoke', attempt: 1, outcome: 'success' }),
    ).toMatchObject({ applied: false, ignored: 'saga place-order has no step no-such-step' });
    expect(h.state?.seq).toBe(2);
  });

  it('skips a step whose condition says no', () => {
    const saga = defineSaga<{ express: boolean }>('ship')
      .step('pack', { run: () => 'packed' })
      .step('express', { participant: 'courier', when: ({ input }) => input.express, invoke: () => ({}) })
      .step('notify', { run: () => 'sent' })
      .build();
    const h = new Harness(saga);
    const begun = h.begin({ express: false });
    expect(begun.effects.filter((e) => e.type === 'run-local')).toHaveLength(1);
    const next = h.succeed('pack', 'packed');
    expect(notifications(next.effects)).toEqual(['step-succeeded pack', 'step-skipped express']);
    expect(next.effects.find((e) => e.type === 'run-local')).toMatchObject({
      step: 'notify',
      phase: 'invoke',
    });
  });

  it('runs a parallel group at once and goes on when every step of it succeeded', () => {
    const saga = defineSaga<PlaceOrder>('parallel')
      .parallel((group) =>
        group
          .step('reserve', {
            participant: 'inventory',
            invoke: () => ({}),
            reply: replyType<{ r: string }>(),
          })
          .step('authorize', {
            participant: 'payment',
            invoke: () => ({}),
            reply: replyType<{ a: string }>(),
          }),
      )
      .step('confirm', {
        participant: 'orders',
        invoke: ({ results }) => ({ r: results.reserve.r, a: results.authorize.a }),
      })
      .build();
    const h = new Harness(saga);
    expect(commands(h.begin(input).effects)).toEqual(['invoke reserve #1', 'invoke authorize #1']);
    expect(commands(h.succeed('authorize', { a: 'A' }).effects)).toEqual([]);
    const next = h.succeed('reserve', { r: 'R' });
    expect(next.effects.find((e) => e.type === 'send-command')).toMatchObject({
      step: 'confirm',
      payload: { r: 'R', a: 'A' },
    });
  });
});

describe('saga state machine: compensation', () => {
  const steps = ['reserve-stock', 'charge-card', 'confirm-order'] as const;

  for (const [index, failing] of steps.entries()) {
    it(`compensates the steps before ${failing} in reverse order, each exactly once, on its business failure`, () => {
      const h = new Harness(placeOrder());
      h.begin(input);
      for (const done of steps.slice(0, index)) h.succeed(done, { reservationId: 'r-1', chargeId: 'c-1' });
      h.fail(failing, 'business-failure', { type: 'Declined', message: `${failing} said no` });
      for (const undone of [...steps.slice(0, index)].reverse()) {
        expect(h.state?.status).toBe('compensating');
        h.compensated(undone);
      }
      expect(h.state?.status).toBe('compensated');
      expect(h.state?.failure).toEqual({
        step: failing,
        error: { type: 'Declined', message: `${failing} said no` },
      });
      const compensations = allCommands(h).filter((c) => c.startsWith('compensate'));
      expect(compensations).toEqual(
        [...steps.slice(0, index)]
          .reverse()
          .filter((s) => s !== 'confirm-order')
          .map((s) => `compensate ${s} #1`),
      );
      expect(h.state?.timers).toEqual({});
    });
  }

  it('compensates a step whose every attempt timed out, since its outcome is unknown', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    h.fireNextTimer(); // attempt 1 times out
    h.fireNextTimer(); // retry: attempt 2 sent
    expect(allCommands(h)).toEqual(['invoke reserve-stock #1', 'invoke reserve-stock #2']);
    const gaveUp = h.fireNextTimer(); // attempt 2 times out: the budget (2) is spent
    expect(notifications(gaveUp.effects)).toEqual([
      'step-failed reserve-stock',
      'compensating reserve-stock',
    ]);
    const compensation = gaveUp.effects.find((e) => e.type === 'send-command');
    expect(compensation).toMatchObject({
      phase: 'compensate',
      step: 'reserve-stock',
      idempotencyKey: 'saga-1/reserve-stock/compensate',
      payload: { reservationId: null, sagaId: 'saga-1' },
    });
    h.compensated('reserve-stock');
    expect(h.state?.status).toBe('compensated');
  });

  it('keeps a late success of a step being compensated, so a retried compensation names what to undo', () => {
    const h = new Harness(placeOrder());
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    const gaveUp = h.fail('charge-card', 'error', { type: 'Boom', message: 'x', nonRetryable: true });
    expect(gaveUp.effects.find((e) => e.type === 'send-command')).toMatchObject({
      phase: 'compensate',
      step: 'charge-card',
      attempt: 1,
      payload: { chargeId: null },
    });
    expect(h.succeed('charge-card', { chargeId: 'c-late' }, 1)).toMatchObject({ applied: true });
    const retry = h.send({
      type: 'reply',
      step: 'charge-card',
      phase: 'compensate',
      attempt: 1,
      outcome: 'error',
      error: { type: 'Busy', message: 'try again' },
    });
    expect(notifications(retry.effects)).toEqual(['step-retrying charge-card']);
    expect(h.fireNextTimer().effects.find((e) => e.type === 'send-command')).toMatchObject({
      attempt: 2,
      payload: { chargeId: 'c-late' },
    });
    expect(h.succeed('charge-card', { chargeId: 'c-late' }, 1)).toMatchObject({ applied: false });
  });

  it('compensates the unfinished siblings of a failed parallel step, then the steps before', () => {
    const saga = defineSaga<PlaceOrder>('parallel-failure')
      .step('open', { participant: 'ledger', invoke: () => ({}), compensate: () => ({}) })
      .parallel((group) =>
        group
          .step('reserve', { participant: 'inventory', invoke: () => ({}), compensate: () => ({}) })
          .step('authorize', { participant: 'payment', invoke: () => ({}), compensate: () => ({}) })
          .step('notify', { participant: 'mail', invoke: () => ({}) }),
      )
      .build();
    const h = new Harness(saga);
    h.begin(input);
    h.succeed('open');
    h.succeed('reserve');
    const failed = h.fail('authorize', 'business-failure', { type: 'Declined', message: 'no' });
    expect(commands(failed.effects)).toEqual(['compensate reserve #1']);
    expect(h.state?.steps.notify?.status).toBe('compensated'); // in flight, unknown, nothing to undo
    expect(h.state?.steps.authorize?.status).toBe('failed');
    expect(commands(h.compensated('reserve').effects)).toEqual(['compensate open #1']);
    h.compensated('open');
    expect(h.state?.status).toBe('compensated');
  });

  it('compensates when the saga deadline passes', () => {
    const h = new Harness(placeOrder({ timeoutMs: 5_000 }));
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    h.now = 1_500;
    h.fail('charge-card', 'error', { type: 'Busy', message: 'x', nextRetryDelayMs: 10_000 });
    const timedOut = h.fireNextTimer(); // the saga deadline (6 000) comes before the retry (11 500)
    expect(h.now).toBe(6_000);
    expect(notifications(timedOut.effects)).toContain('compensating');
    expect(commands(timedOut.effects)).toEqual(['compensate charge-card #1']);
    h.compensated('charge-card');
    h.compensated('reserve-stock');
    expect(h.state?.status).toBe('compensated');
    expect(h.state?.failure?.error.type).toBe('SagaTimeout');
  });

  it('fails a step whose payload builder throws, without retrying it', () => {
    const saga = defineSaga<PlaceOrder>('bad-builder')
      .step('a', { participant: 'p', invoke: () => ({}), compensate: () => ({}) })
      .step('b', {
        participant: 'q',
        invoke: () => {
          throw new Error('no such field');
        },
      })
      .build();
    const h = new Harness(saga);
    h.begin(input);
    const next = h.succeed('a');
    expect(h.state?.failure?.error).toMatchObject({ type: 'PayloadBuilderFailed', nonRetryable: true });
    expect(commands(next.effects)).toEqual(['compensate a #1']);
  });
});

describe('saga state machine: when compensation fails', () => {
  it('retries a compensation, then needs attention, and resumes when an operator retries', () => {
    const h = new Harness(placeOrder({ compensationAttempts: 2 }));
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    h.fail('charge-card', 'business-failure', { type: 'Declined', message: 'no' });
    const failure = { type: 'InventoryDown', message: '503' };
    h.send({
      type: 'reply',
      step: 'reserve-stock',
      phase: 'compensate',
      attempt: 1,
      outcome: 'error',
      error: failure,
    });
    h.fireNextTimer();
    const stuck = h.send({
      type: 'reply',
      step: 'reserve-stock',
      phase: 'compensate',
      attempt: 2,
      outcome: 'error',
      error: failure,
    });
    expect(h.state?.status).toBe('needs-attention');
    expect(h.state?.attention).toEqual({
      reason: 'Compensation of step reserve-stock failed after 2 attempt(s): InventoryDown: 503',
      steps: ['reserve-stock'],
    });
    expect(notifications(stuck.effects)).toEqual(['needs-attention reserve-stock']);

    const retried = h.send({
      type: 'operator',
      action: 'retry',
      by: 'ops@acme',
      reason: 'inventory is back',
    });
    expect(commands(retried.effects)).toEqual(['compensate reserve-stock #3']);
    h.compensated('reserve-stock');
    expect(h.state?.status).toBe('compensated');
    expect(h.state?.audit).toEqual([
      { at: h.now, action: 'retry', by: 'ops@acme', reason: 'inventory is back' },
    ]);
  });

  it('does not retry a compensation failure its policy lists as non-retryable', () => {
    const saga = defineSaga<PlaceOrder>('no-retry')
      .step('reserve', {
        participant: 'inventory',
        invoke: () => ({}),
        compensate: () => ({}),
        compensationRetry: { ...fast, maximumAttempts: 5, nonRetryableErrorTypes: ['ReservationGone'] },
      })
      .step('charge', { participant: 'payment', invoke: () => ({}) })
      .build();
    const h = new Harness(saga);
    h.begin(input);
    h.succeed('reserve');
    h.fail('charge', 'business-failure', { type: 'Declined', message: 'no' });
    const gone = h.send({
      type: 'reply',
      step: 'reserve',
      phase: 'compensate',
      attempt: 1,
      outcome: 'error',
      error: { type: 'ReservationGone', message: 'archived' },
    });
    expect(notifications(gone.effects)).toEqual(['needs-attention reserve']);
    expect(h.state?.status).toBe('needs-attention');
  });

  it('lets an operator mark a compensation done by hand, force completion, or abort', () => {
    const stuck = () => {
      const h = new Harness(placeOrder({ compensationAttempts: 1 }));
      h.begin(input);
      h.succeed('reserve-stock', { reservationId: 'r-1' });
      h.fail('charge-card', 'business-failure', { type: 'Declined', message: 'no' });
      h.send({
        type: 'reply',
        step: 'reserve-stock',
        phase: 'compensate',
        attempt: 1,
        outcome: 'error',
        error: { type: 'X', message: 'y' },
      });
      expect(h.state?.status).toBe('needs-attention');
      return h;
    };
    const marked = stuck();
    marked.send({
      type: 'operator',
      action: 'markCompensated',
      step: 'reserve-stock',
      by: 'ann',
      reason: 'released in UI',
    });
    expect(marked.state?.status).toBe('compensated');

    const forced = stuck();
    forced.send({ type: 'operator', action: 'forceComplete', by: 'bob', reason: 'customer paid by phone' });
    expect(forced.state?.status).toBe('completed');

    const aborted = stuck();
    aborted.send({ type: 'operator', action: 'abort', by: 'cy', reason: 'test order' });
    expect(aborted.state?.status).toBe('failed');
    expect(aborted.send({ type: 'operator', action: 'retry', by: 'cy', reason: 'again' })).toMatchObject({
      applied: false,
    });

    const refused = stuck().send({ type: 'operator', action: 'markCompensated', by: 'd', reason: 'r' });
    expect(refused).toMatchObject({ applied: false, ignored: 'markCompensated needs a step' });
  });

  it('parks a step while its participant circuit is open, without spending its retry budget', () => {
    const h = new Harness(placeOrder({ chargeAttempts: 1 }));
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    for (let i = 0; i < 5; i++) {
      const parked = h.send({
        type: 'dispatch-failed',
        step: 'charge-card',
        phase: 'invoke',
        attempt: 1,
        reason: 'circuit-open',
      });
      expect(notifications(parked.effects)).toEqual(['step-parked charge-card']);
      const resent = h.fireNextTimer();
      expect(commands(resent.effects)).toEqual(['invoke charge-card #1']);
    }
    expect(h.state?.status).toBe('running');
    h.succeed('charge-card', { chargeId: 'c-1' });
    expect(h.state?.steps['charge-card']?.status).toBe('succeeded');
  });
});

describe('saga state machine: circuit breakers', () => {
  it('parks timed-out attempts while the participant circuit is open, then goes on when it closes', () => {
    let open = true;
    const h = new Harness(placeOrder({ chargeAttempts: 2 }));
    const send = (event: SagaEvent) => {
      const decision = decide(h.definition, h.state, event, {
        now: h.now,
        random: () => 0.5,
        circuitOpen: () => open,
      });
      h.state = decision.state;
      h.log.push(decision);
      return decision;
    };
    h.begin(input);
    h.succeed('reserve-stock', { reservationId: 'r-1' });
    for (let outage = 0; outage < 4; outage++) {
      const timeoutId = Object.keys(h.state?.timers ?? {}).find((id) =>
        id.startsWith('step-timeout:charge-card'),
      );
      h.now = h.state?.timers[timeoutId ?? '']?.dueAt ?? h.now;
      expect(notifications(send({ type: 'timer', timerId: timeoutId ?? '' }).effects)).toEqual([
        'step-parked charge-card',
      ]);
      const parkId = Object.keys(h.state?.timers ?? {}).find((id) => id.startsWith('park:'));
      h.now = h.state?.timers[parkId ?? '']?.dueAt ?? h.now;
      expect(commands(send({ type: 'timer', timerId: parkId ?? '' }).effects)).toEqual([
        'invoke charge-card #1',
      ]);
    }
    expect(h.state?.status).toBe('running');
    open = false;
    h.succeed('charge-card', { chargeId: 'c-1' });
    expect(h.state?.steps['charge-card']).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});

describe('saga state', () => {
  it('survives a JSON round trip (the saga log) and continues identically', () => {
    const straight = new Harness(placeOrder());
    const viaLog = new Harness(placeOrder());
    straight.begin(input);
    viaLog.begin(input);
    straight.succeed('reserve-stock', { reservationId: 'r-1' });
    viaLog.succeed('reserve-stock', { reservationId: 'r-1' });
    viaLog.state = JSON.parse(JSON.stringify(viaLog.state)) as SagaState;
    expect(viaLog.fail('charge-card', 'business-failure', { type: 'D', message: 'm' })).toEqual(
      straight.fail('charge-card', 'business-failure', { type: 'D', message: 'm' }),
    );
  });

  it('types each step context with the replies of the steps before it', () => {
    defineSaga<{ id: string }>('typed')
      .step('a', { participant: 'p', invoke: () => ({}), reply: replyType<{ x: number }>() })
      .step('b', {
        run: ({ results, input }) => {
          expectTypeOf(results.a).toEqualTypeOf<{ x: number }>();
          expectTypeOf(input.id).toBeString();
          // @ts-expect-error: step c has not run before b
          void results.c;
          return { y: 'done' };
        },
      })
      .step('c', {
        participant: 'q',
        invoke: ({ results }) => {
          expectTypeOf(results.b).toEqualTypeOf<{ y: string }>();
          return {};
        },
      });
  });

  it('rejects malformed definitions with a ConfigError naming what is wrong', () => {
    expect(() => defineSaga('bad name!')).toThrow('Invalid option saga name');
    expect(() => defineSaga('empty').build()).toThrow('a saga needs at least one step');
    expect(() =>
      defineSaga('dup')
        .step('a', { run: () => 1 })
        .step('a', { run: () => 2 })
        .build(),
    ).toThrow('Invalid option saga dup, step a: step names must be unique in a saga.');
    expect(() =>
      defineSaga('v', { version: 0 })
        .step('a', { run: () => 1 })
        .build(),
    ).toThrow('saga v.version');
    expect(() => defineSaga('t').step('a', { run: () => 1, timeoutMs: -5 })).toThrow(
      'saga t, step a.timeoutMs',
    );
    expect(() => defineSaga('r').step('a', { run: () => 1, retry: { backoffCoefficient: 0.5 } })).toThrow(
      'saga r, step a.retry.backoffCoefficient',
    );
  });
});

describe('saga state machine: local steps', () => {
  const checkout = defineSaga<{ id: string }>('checkout')
    .step('reserve', { run: () => ({ reserved: true }), undo: () => undefined })
    .step('charge', { run: () => ({ charged: true }), undo: () => undefined, retry: fast })
    .build();
  const runs = (effects: readonly SagaEffect[]) =>
    effects.flatMap((effect) =>
      effect.type === 'run-local' ? [`${effect.phase} ${effect.step} #${effect.attempt}`] : [],
    );

  it('classifies a BusinessFailure a local step throws as a business failure that keeps its type and details', () => {
    expect(localStepFailure(new BusinessFailure('CardDeclined', 'card declined', { last4: '4242' }))).toEqual(
      {
        outcome: 'business-failure',
        error: { type: 'CardDeclined', message: 'card declined', details: { last4: '4242' } },
      },
    );
    expect(localStepFailure(new BusinessFailure('OutOfStock', 'none left'))).toEqual({
      outcome: 'business-failure',
      error: { type: 'OutOfStock', message: 'none left' },
    });
  });

  it('classifies anything else a local step throws as an error named by its class', () => {
    expect(localStepFailure(new RangeError('too far'))).toEqual({
      outcome: 'error',
      error: { type: 'RangeError', message: 'too far' },
    });
    expect(localStepFailure('a string')).toEqual({
      outcome: 'error',
      error: { type: 'Error', message: 'a string' },
    });
  });

  it('compensates the steps before a local step that refused, without retrying it or running its undo', () => {
    const h = new Harness(checkout);
    h.begin({ id: 'c-1' });
    h.succeed('reserve', { reserved: true });
    const refused = h.fail('charge', localStepFailure(new BusinessFailure('CardDeclined', 'no')).outcome, {
      type: 'CardDeclined',
      message: 'no',
    });

    expect(runs(refused.effects)).toEqual(['compensate reserve #1']);
    expect(notifications(refused.effects)).not.toContain('step-retrying charge');
    expect(h.state?.steps.charge).toMatchObject({ status: 'failed', attempts: 1, compensationAttempts: 0 });
    expect(h.state?.failure).toEqual({ step: 'charge', error: { type: 'CardDeclined', message: 'no' } });
    h.compensated('reserve');
    expect(h.state?.status).toBe('compensated');
    expect(h.log.flatMap((decision) => runs(decision.effects))).toEqual([
      'invoke reserve #1',
      'invoke charge #1',
      'compensate reserve #1',
    ]);
  });
});

describe('decide() misuse', () => {
  it("refuses an event other than begin without the saga's state, with a StateError", () => {
    const saga = defineSaga<{ n: number }>('misuse')
      .step('only', { run: () => 1 })
      .build();
    let error: unknown;
    try {
      decide(saga, undefined, { type: 'timer', timerId: 'saga-timeout' } as unknown as SagaEvent, { now: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateError);
    expect(error).toMatchObject({ code: 'CASCADE_STATE', operation: 'decide', retriable: false });
  });
});
