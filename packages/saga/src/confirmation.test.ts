import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { decodeCommand, decodeInboxEvent, encodeCommand, encodeInboxEvent } from './codec.js';
import { defineSaga, replyType, type SagaDefinition } from './definition.js';
import { decide } from './engine.js';
import type { Decision, Phase, SagaEffect, SagaEvent, SagaState, StepError } from './state.js';

interface Booking {
  readonly bookingId: string;
  readonly amount: number;
}

const fast = { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1_000, jitter: 0 };
const boom: StepError = { type: 'Unavailable', message: 'try later' };

function booking(options: { confirmAttempts?: number; sagaTimeoutMs?: number } = {}) {
  return defineSaga<Booking>(
    'book-trip',
    options.sagaTimeoutMs === undefined ? {} : { timeoutMs: options.sagaTimeoutMs },
  )
    .step('create-booking', {
      participant: 'bookings',
      invoke: ({ input }) => ({ bookingId: input.bookingId }),
      compensate: ({ input }) => ({ bookingId: input.bookingId }),
      retry: { ...fast, maximumAttempts: 2 },
    })
    .parallel((group) =>
      group
        .tcc('authorize-payment', {
          participant: 'payments',
          try: ({ input }) => ({ amount: input.amount }),
          reply: replyType<{ authorizationId: string }>(),
          confirm: ({ reply }) => ({ authorizationId: reply?.authorizationId }),
          cancel: ({ reply }) => ({ authorizationId: reply?.authorizationId ?? null }),
          reservationTtlMs: 30_000,
          timeoutMs: 1_000,
          retry: { ...fast, maximumAttempts: 2 },
          confirmRetry: {
            ...fast,
            ...(options.confirmAttempts === undefined ? {} : { maximumAttempts: options.confirmAttempts }),
          },
          cancelRetry: fast,
        })
        .tcc('reserve-seat', {
          participant: 'seats',
          try: ({ input }) => ({ bookingId: input.bookingId }),
          timeoutMs: 1_000,
          retry: { ...fast, maximumAttempts: 2 },
          confirmRetry: fast,
          cancelRetry: fast,
        }),
    )
    .step('notify', { participant: 'mailer', invoke: ({ results }) => results['authorize-payment'] })
    .build();
}

class Harness {
  state: SagaState | undefined;
  now = 1_000;
  readonly log: Decision[] = [];
  circuitOpen = false;
  constructor(readonly definition: SagaDefinition) {}

  send(event: SagaEvent): Decision {
    const decision = decide(this.definition, this.state, event, {
      now: this.now,
      random: () => 0.5,
      circuitOpen: () => this.circuitOpen,
    });
    this.state = decision.state;
    this.log.push(decision);
    return decision;
  }
  reply(
    step: string,
    phase: Phase,
    outcome: 'success' | 'business-failure' | 'error' = 'success',
    extra: { result?: unknown; expiresAt?: number; error?: StepError } = {},
  ): Decision {
    const attempt = this.attempt(step, phase);
    if (outcome === 'success') {
      return this.send({
        type: 'reply',
        step,
        phase,
        attempt,
        outcome,
        result: extra.result,
        ...(extra.expiresAt === undefined ? {} : { expiresAt: extra.expiresAt }),
      });
    }
    return this.send({ type: 'reply', step, phase, attempt, outcome, error: extra.error ?? boom });
  }
  fireNextTimer(): Decision {
    const timers = Object.entries(this.state?.timers ?? {}).sort(([, a], [, b]) => a.dueAt - b.dueAt);
    const [id, timer] = timers[0] ?? [];
    if (id === undefined || timer === undefined) throw new Error('no timer armed');
    this.now = Math.max(this.now, timer.dueAt);
    return this.send({ type: 'timer', timerId: id });
  }
  attempt(step: string, phase: Phase): number {
    const state = this.state?.steps[step];
    const attempts = {
      invoke: state?.attempts,
      compensate: state?.compensationAttempts,
      confirm: state?.confirmAttempts,
    };
    return attempts[phase] ?? 0;
  }
  step(name: string) {
    const step = this.state?.steps[name];
    if (step === undefined) throw new Error(`no step ${name}`);
    return step;
  }
  /** Runs the saga up to the confirm phase. */
  tryAll(expiresAt?: number): Decision {
    this.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    this.reply('create-booking', 'invoke');
    this.reply('authorize-payment', 'invoke', 'success', {
      result: { authorizationId: 'auth-7' },
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
    this.reply('reserve-seat', 'invoke', 'success', { result: { seat: '12A' } });
    return this.reply('notify', 'invoke');
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

describe('TCC steps: try, then confirm all', () => {
  it('tries a parallel group at once, confirms every reservation after the last step, and completes', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    const tries = h.reply('create-booking', 'invoke');
    expect(commands(tries.effects)).toEqual(['invoke authorize-payment #1', 'invoke reserve-seat #1']);
    expect(tries.effects.find((e) => e.type === 'send-command')).toMatchObject({
      participant: 'payments',
      payload: { amount: 120 },
      reservationTtlMs: 30_000,
    });
    h.now = 1_500;
    h.reply('authorize-payment', 'invoke', 'success', { result: { authorizationId: 'auth-7' } });
    // The TTL counts from the try's sending; the margin is 10% of the lifetime.
    expect(h.step('authorize-payment')).toMatchObject({ expiresAt: 31_000, confirmBy: 28_000 });
    h.reply('reserve-seat', 'invoke', 'success', { result: { seat: '12A' } });
    const confirming = h.reply('notify', 'invoke');
    expect(h.state?.status).toBe('confirming');
    expect(commands(confirming.effects)).toEqual(['confirm authorize-payment #1', 'confirm reserve-seat #1']);
    expect(confirming.effects.find((e) => e.type === 'send-command')).toMatchObject({
      payload: { authorizationId: 'auth-7' },
      idempotencyKey: 'trip-1/authorize-payment/confirm',
    });
    expect(notifications(confirming.effects)).toContain('confirming');
    h.reply('reserve-seat', 'confirm');
    expect(h.state?.status).toBe('confirming');
    const done = h.reply('authorize-payment', 'confirm');
    expect(h.state?.status).toBe('completed');
    expect(notifications(done.effects)).toEqual(['step-confirmed authorize-payment', 'completed']);
    expect(h.state?.timers).toEqual({});
  });

  it('retries a failing confirm with exponential backoff until it succeeds, without a budget by default', () => {
    const h = new Harness(booking());
    h.tryAll();
    h.reply('reserve-seat', 'confirm');
    for (let failure = 1; failure <= 12; failure += 1) {
      h.reply('authorize-payment', 'confirm', 'error');
      expect(h.state?.status).toBe('confirming');
      h.fireNextTimer();
    }
    expect(h.attempt('authorize-payment', 'confirm')).toBe(13);
    const retryDelays = h.log
      .flatMap((d) => d.effects)
      .flatMap((e) => (e.type === 'set-timer' && e.timerId.startsWith('retry:authorize-payment') ? [e] : []));
    expect(retryDelays.length).toBe(12);
    h.reply('authorize-payment', 'confirm');
    expect(h.state?.status).toBe('completed');
  });

  it('treats a timed-out confirm as a failure to retry', () => {
    const h = new Harness(booking());
    h.tryAll();
    h.reply('reserve-seat', 'confirm');
    h.fireNextTimer(); // the confirm's 1 s timeout
    expect(h.step('authorize-payment')).toMatchObject({
      status: 'confirming',
      lastError: { type: 'Timeout' },
    });
    h.fireNextTimer(); // the retry
    expect(allCommands(h).filter((c) => c.startsWith('confirm authorize-payment'))).toEqual([
      'confirm authorize-payment #1',
      'confirm authorize-payment #2',
    ]);
  });

  it('parks a confirm while the participant circuit is open, without spending the budget', () => {
    const h = new Harness(booking({ confirmAttempts: 2 }));
    h.tryAll();
    h.reply('reserve-seat', 'confirm');
    h.circuitOpen = true;
    const parked = h.reply('authorize-payment', 'confirm', 'error');
    expect(notifications(parked.effects)).toEqual(['step-parked authorize-payment']);
    h.fireNextTimer();
    expect(h.attempt('authorize-payment', 'confirm')).toBe(1);
    h.reply('authorize-payment', 'confirm', 'error');
    h.fireNextTimer();
    h.circuitOpen = false;
    h.reply('authorize-payment', 'confirm', 'error');
    expect(h.state?.status).toBe('confirming');
    h.fireNextTimer();
    h.reply('authorize-payment', 'confirm');
    expect(h.state?.status).toBe('completed');
  });

  it('needs attention when a confirm budget is spent, and an operator retry resumes it', () => {
    const h = new Harness(booking({ confirmAttempts: 2 }));
    h.tryAll();
    h.reply('reserve-seat', 'confirm');
    h.reply('authorize-payment', 'confirm', 'error');
    h.fireNextTimer();
    const stuck = h.reply('authorize-payment', 'confirm', 'error');
    expect(h.state?.status).toBe('needs-attention');
    expect(h.step('authorize-payment').status).toBe('confirm-failed');
    expect(notifications(stuck.effects)).toEqual(['needs-attention authorize-payment']);
    const retried = h.send({ type: 'operator', action: 'retry', by: 'ops', reason: 'payments back' });
    expect(commands(retried.effects)).toEqual(['confirm authorize-payment #3']);
    expect(h.state?.status).toBe('confirming');
    h.reply('authorize-payment', 'confirm');
    expect(h.state?.status).toBe('completed');
  });

  it('lets an operator settle a stuck confirm by hand with skipStep', () => {
    const h = new Harness(booking({ confirmAttempts: 1 }));
    h.tryAll();
    h.reply('reserve-seat', 'confirm');
    h.reply('authorize-payment', 'confirm', 'error');
    expect(h.state?.status).toBe('needs-attention');
    h.send({
      type: 'operator',
      action: 'skipStep',
      step: 'authorize-payment',
      by: 'ops',
      reason: 'done by hand',
    });
    expect(h.state?.status).toBe('completed');
  });

  it('no longer lets the saga deadline cancel once confirming', () => {
    const h = new Harness(booking({ sagaTimeoutMs: 5_000 }));
    h.tryAll();
    // The deadline was armed at the start, and is gone once the saga is confirming.
    expect(h.log[0]?.effects).toContainEqual(
      expect.objectContaining({ type: 'set-timer', timerId: expect.stringMatching(/^saga-timeout/) }),
    );
    expect(h.state?.status).toBe('confirming');
    expect(Object.keys(h.state?.timers ?? {}).some((id) => id.startsWith('saga-timeout'))).toBe(false);
  });
});

describe('TCC steps: cancel every one that may have tried', () => {
  it('cancels the tried and the unanswered reservations when a try is refused, not the refused one', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    h.reply('create-booking', 'invoke');
    h.reply('authorize-payment', 'invoke', 'success', { result: { authorizationId: 'auth-7' } });
    const failed = h.reply('reserve-seat', 'invoke', 'business-failure', {
      error: { type: 'SoldOut', message: 'no seats' },
    });
    expect(commands(failed.effects)).toEqual(['compensate authorize-payment #1']);
    expect(failed.effects.find((e) => e.type === 'send-command')).toMatchObject({
      payload: { authorizationId: 'auth-7' },
    });
    h.reply('authorize-payment', 'compensate');
    h.reply('create-booking', 'compensate');
    expect(h.state?.status).toBe('compensated');
  });

  it('cancels a try whose answer never came (the participant may have reserved)', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    h.reply('create-booking', 'invoke');
    h.reply('authorize-payment', 'invoke', 'business-failure', {
      error: { type: 'Declined', message: 'no' },
    });
    expect(h.step('reserve-seat').status).toBe('compensating');
    expect(allCommands(h)).toContain('compensate reserve-seat #1');
  });

  it('retries a cancel until it succeeds', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    h.reply('create-booking', 'invoke');
    h.reply('authorize-payment', 'invoke', 'success', { result: { authorizationId: 'auth-7' } });
    h.reply('reserve-seat', 'invoke', 'business-failure', { error: { type: 'SoldOut', message: 'none' } });
    for (let failure = 0; failure < 15; failure += 1) {
      h.reply('authorize-payment', 'compensate', 'error');
      expect(h.state?.status).toBe('compensating');
      h.fireNextTimer();
    }
    h.reply('authorize-payment', 'compensate');
    h.reply('create-booking', 'compensate');
    expect(h.state?.status).toBe('compensated');
  });
});

describe('TCC steps: reservation expiry and heuristic outcomes', () => {
  it('cancels instead of confirming when a reservation expires before the confirm could start', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    h.reply('create-booking', 'invoke');
    // The participant grants only 4 s: the confirm must start by 3.6 s after the try was sent.
    h.reply('authorize-payment', 'invoke', 'success', { result: { authorizationId: 'a' }, expiresAt: 5_000 });
    expect(h.step('authorize-payment')).toMatchObject({ expiresAt: 5_000, confirmBy: 4_600 });
    h.reply('reserve-seat', 'invoke', 'success', { result: {} });
    // 'notify' is slow; the reservation's timer fires first.
    const expired = h.fireNextTimer();
    expect(h.now).toBe(4_600);
    expect(h.state?.status).toBe('compensating');
    expect(h.state?.failure).toMatchObject({
      step: 'authorize-payment',
      error: { type: 'ReservationExpired' },
    });
    // 'notify' has no compensation; both reservations are cancelled.
    expect(commands(expired.effects)).toEqual([
      'compensate authorize-payment #1',
      'compensate reserve-seat #1',
    ]);
  });

  it('never starts a confirm past the earliest expiry less the margin', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    h.reply('create-booking', 'invoke');
    h.reply('authorize-payment', 'invoke', 'success', { result: {}, expiresAt: 5_000 });
    h.reply('reserve-seat', 'invoke', 'success', { result: {} });
    h.now = 4_700; // past confirmBy, and the expiry timer has not been delivered yet
    const last = h.reply('notify', 'invoke');
    expect(commands(last.effects).some((c) => c.startsWith('confirm'))).toBe(false);
    expect(h.state?.status).toBe('compensating');
  });

  it('ends heuristic-mixed when one participant confirmed and another had cancelled by expiry', () => {
    const h = new Harness(booking());
    h.tryAll();
    h.reply('authorize-payment', 'confirm');
    const mixed = h.reply('reserve-seat', 'confirm', 'business-failure', {
      error: { type: 'ReservationCancelled', message: '410 Gone' },
    });
    expect(h.state?.status).toBe('heuristic-mixed');
    expect(h.state?.heuristic).toEqual({ confirmed: ['authorize-payment'], cancelled: ['reserve-seat'] });
    expect(h.state?.attention?.reason).toMatch(/authorize-payment confirmed, but reserve-seat/);
    expect(notifications(mixed.effects)).toEqual([
      'step-expired reserve-seat',
      'heuristic-mixed reserve-seat',
    ]);
    // Terminal: nothing more happens.
    expect(h.send({ type: 'operator', action: 'retry', by: 'x', reason: 'y' }).applied).toBe(false);
  });

  it('compensates the other steps when every reservation had been cancelled by its participant', () => {
    const h = new Harness(booking());
    h.tryAll();
    h.reply('authorize-payment', 'confirm', 'business-failure', { error: { type: 'Gone', message: '' } });
    const undo = h.reply('reserve-seat', 'confirm', 'business-failure', {
      error: { type: 'Gone', message: '' },
    });
    expect(h.state?.status).toBe('compensating');
    expect(commands(undo.effects)).toEqual(['compensate create-booking #1']);
    h.reply('create-booking', 'compensate');
    expect(h.state?.status).toBe('compensated');
  });
});

describe('TCC definitions and records', () => {
  it('refuses a TCC step without a participant or try, or with a margin not under the TTL', () => {
    const base = defineSaga<unknown>('s');
    expect(() => base.tcc('t', { participant: '', try: () => null })).toThrow(ConfigError);
    expect(() => base.tcc('t', { participant: 'p' } as never)).toThrow(ConfigError);
    expect(() =>
      base.tcc('t', { participant: 'p', try: () => null, reservationTtlMs: 1_000, expiryMarginMs: 1_000 }),
    ).toThrow(/less than reservationTtlMs/);
    expect(() => base.tcc('t', { participant: 'p', try: () => null, reservationTtlMs: 0 })).toThrow(
      ConfigError,
    );
  });

  it('round-trips a confirm command with its TTL and a try reply with its expiry', () => {
    const command = {
      sagaId: 's',
      saga: 'book-trip',
      seq: 3,
      participant: 'seats',
      command: 'reserve-seat',
      step: 'reserve-seat',
      phase: 'confirm' as const,
      attempt: 1,
      commandId: 's/reserve-seat/confirm/1',
      idempotencyKey: 's/reserve-seat/confirm',
      payload: null,
      replyTo: 'inbox',
      reservationTtlMs: 9_000,
    };
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
    const reply = {
      type: 'reply' as const,
      step: 'reserve-seat',
      phase: 'invoke' as const,
      attempt: 1,
      outcome: 'success' as const,
      result: { seat: '1A' },
      expiresAt: 1_700_000_000_000,
    };
    expect(decodeInboxEvent(encodeInboxEvent(reply))).toEqual(reply);
    expect(() => decodeInboxEvent(encodeInboxEvent({ ...reply, expiresAt: -1 }))).toThrow(/expiresAt/);
  });
});

describe('TCC steps: a cancel the participant refuses', () => {
  it('needs attention at once when a cancel is answered AlreadyConfirmed, instead of retrying forever', () => {
    const h = new Harness(booking());
    h.send({ type: 'begin', sagaId: 'trip-1', input: { bookingId: 'b-1', amount: 120 } });
    h.reply('create-booking', 'invoke');
    h.reply('authorize-payment', 'invoke', 'success', { result: { authorizationId: 'a' } });
    h.reply('reserve-seat', 'invoke', 'business-failure', { error: { type: 'SoldOut', message: 'none' } });
    const refused = h.reply('authorize-payment', 'compensate', 'business-failure', {
      error: { type: 'AlreadyConfirmed', message: 'the reservation was confirmed' },
    });
    expect(h.state?.status).toBe('needs-attention');
    expect(h.step('authorize-payment').status).toBe('compensation-failed');
    expect(h.state?.attention?.reason).toMatch(/AlreadyConfirmed/);
    expect(notifications(refused.effects)).toEqual(['needs-attention authorize-payment']);
  });
});
