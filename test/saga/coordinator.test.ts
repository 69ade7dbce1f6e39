// The saga coordinator and participants on the real broker: sagas complete, compensate in
// reverse order, and survive a participant that is down for longer than the step timeout.
import { createLogger, type LogMeta } from '@cascade/core';
import { createProducer } from '@cascade/producer';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  type Participant,
  replyType,
  type SagaCoordinator,
  type SagaTopics,
  sagaTopics,
} from '@cascade/saga';
import { bytes } from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';

interface PlaceOrder {
  readonly orderId: string;
  readonly sku: string;
  readonly amountCents: number;
}

const kafka = () => ({ brokers: cluster().brokers, clientId: uniqueName('saga-test') });

const placeOrder = defineSaga<PlaceOrder>('place-order')
  .step('reserve-stock', {
    participant: 'inventory',
    invoke: ({ input }) => ({ orderId: input.orderId, sku: input.sku }),
    reply: replyType<{ reservationId: string }>(),
    compensate: ({ reply, input }) => ({
      orderId: input.orderId,
      reservationId: reply?.reservationId ?? null,
    }),
    timeoutMs: 4_000,
  })
  .step('charge-card', {
    participant: 'payment',
    invoke: ({ input, results }) => ({
      orderId: input.orderId,
      amountCents: input.amountCents,
      reservationId: results['reserve-stock'].reservationId,
    }),
    reply: replyType<{ chargeId: string }>(),
    compensate: ({ input }) => ({ orderId: input.orderId }),
    timeoutMs: 1_500,
    retry: { maximumAttempts: 2, initialIntervalMs: 200 },
  })
  .step('confirm-order', { run: ({ results }) => ({ confirmed: results['charge-card'].chargeId }) })
  .build();

/** What the participants applied, by effect: `reserve o-1`, `release o-1`, `charge o-1`, ... */
class Ledger {
  readonly applied: string[] = [];
  count(effect: string): number {
    return this.applied.filter((entry) => entry === effect).length;
  }
}

const running: Array<SagaCoordinator | Participant> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((component) => component.stop()));
});

async function deploy(options: { payment?: boolean; declined?: ReadonlySet<string> } = {}) {
  const topics: SagaTopics = sagaTopics(uniqueName('saga'));
  await ensureSagaTopics(kafka(), topics, { partitions: 3, participants: ['inventory', 'payment'] });
  const ledger = new Ledger();
  const inventory = createSagaParticipant({
    kafka: kafka(),
    participant: 'inventory',
    topics,
    commands: {
      'reserve-stock': {
        invoke: (payload) => {
          const { orderId } = payload as { orderId: string };
          ledger.applied.push(`reserve ${orderId}`);
          return { reservationId: `r-${orderId}` };
        },
        compensate: (payload) => {
          ledger.applied.push(`release ${(payload as { orderId: string }).orderId}`);
        },
      },
    },
  });
  const payment = createSagaParticipant({
    kafka: kafka(),
    participant: 'payment',
    topics,
    commands: {
      'charge-card': {
        invoke: (payload) => {
          const { orderId } = payload as { orderId: string };
          if (options.declined?.has(orderId))
            throw new BusinessFailure('CardDeclined', `card of ${orderId} declined`);
          ledger.applied.push(`charge ${orderId}`);
          return { chargeId: `c-${orderId}` };
        },
        compensate: (payload) => {
          ledger.applied.push(`refund ${(payload as { orderId: string }).orderId}`);
        },
      },
    },
  });
  const logs: Array<{ level: string; message: string; meta: LogMeta }> = [];
  const logger = createLogger((level, message, meta) => logs.push({ level, message, meta }), {
    level: 'warn',
  });
  const coordinator = createSagaCoordinator({
    kafka: kafka(),
    sagas: [placeOrder],
    topics,
    sessionTimeoutMs: 6_000,
    logger,
  });
  running.push(coordinator, inventory);
  await Promise.all([coordinator.start(), inventory.start()]);
  const startPayment = async () => {
    running.push(payment);
    await payment.start();
  };
  if (options.payment !== false) await startPayment();
  return { coordinator, ledger, topics, startPayment, logs };
}

const order = (i: number): PlaceOrder => ({ orderId: `o-${i}`, sku: `SKU-${i % 3}`, amountCents: 100 * i });

describe('saga coordinator on Kafka', () => {
  it('completes sagas, each participant applying each step exactly once', async () => {
    const { coordinator, ledger } = await deploy();
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => coordinator.begin(placeOrder, order(i), { sagaId: `saga-${i}` })),
    );
    // Beginning a saga id twice runs one saga.
    await coordinator.begin(placeOrder, order(0), { sagaId: 'saga-0' });

    const outcomes = await Promise.all(ids.map((id) => coordinator.result(id)));

    expect(outcomes).toEqual(Array(10).fill('completed'));
    for (let i = 0; i < 10; i++) {
      expect(ledger.count(`reserve o-${i}`)).toBe(1);
      expect(ledger.count(`charge o-${i}`)).toBe(1);
    }
    expect(ledger.applied).toHaveLength(20);
    const metrics = coordinator.metrics();
    expect(metrics.transitions).toMatchObject({ started: 10, completed: 10 });
    expect(metrics.stepLatencyMs['place-order/charge-card']?.count).toBe(10);
    expect((await coordinator.status('saga-3'))?.steps['confirm-order']).toMatchObject({
      status: 'succeeded',
      result: { confirmed: 'c-o-3' },
    });
  });

  it('compensates the reservation, once, when the card is declined', async () => {
    const { coordinator, ledger } = await deploy({ declined: new Set(['o-1', 'o-3']) });
    const ids = await Promise.all(
      [0, 1, 2, 3].map((i) => coordinator.begin(placeOrder, order(i), { sagaId: `s-${i}` })),
    );

    const outcomes = await Promise.all(ids.map((id) => coordinator.result(id)));

    expect(outcomes).toEqual(['completed', 'compensated', 'completed', 'compensated']);
    for (const declined of ['o-1', 'o-3']) {
      expect(ledger.applied.filter((entry) => entry.endsWith(` ${declined}`))).toEqual([
        `reserve ${declined}`,
        `release ${declined}`,
      ]);
    }
    expect((await coordinator.status('s-1'))?.failure?.error).toEqual({
      type: 'CardDeclined',
      message: 'card of o-1 declined',
    });
  });

  it('compensates a step whose participant is down past the timeout, and undoes what it did once back', async () => {
    const { coordinator, ledger, startPayment } = await deploy({ payment: false });
    const id = await coordinator.begin(placeOrder, order(7), { sagaId: 'down-1' });
    let charge: string | undefined;
    await waitFor(
      async () => {
        charge = (await coordinator.status(id))?.steps['charge-card']?.status;
        return charge === 'compensating';
      },
      () => `charge-card compensating, is ${charge}`,
    );

    await startPayment();

    expect(await coordinator.result(id)).toBe('compensated');
    // Back, the participant reads its backlog in order: both invoke attempts (one effect: they
    // share an idempotency key), then the compensation; then the reservation is released.
    expect(ledger.applied).toEqual(['reserve o-7', 'charge o-7', 'refund o-7', 'release o-7']);
    const state = await coordinator.status(id);
    expect(state?.steps['charge-card']).toMatchObject({ status: 'compensated', attempts: 2 });
    expect(state?.failure?.error.type).toBe('Timeout');
  });

  it('logs and skips malformed inbox records, replies for unknown sagas and unknown saga names, and goes on', async () => {
    const { coordinator, topics, logs } = await deploy();
    const raw = createProducer({ ...kafka(), value: bytes() });
    await raw.connect();
    const reply = {
      v: 1,
      type: 'reply',
      step: 'reserve-stock',
      phase: 'invoke',
      attempt: 1,
      outcome: 'success',
    };
    await raw.sendBatch([
      { topic: topics.inbox, key: 'garbage-1', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
      { topic: topics.inbox, key: 'ghost-1', value: Buffer.from(JSON.stringify(reply)) },
      {
        topic: topics.inbox,
        key: 'refund-1',
        value: Buffer.from(JSON.stringify({ v: 1, type: 'begin', saga: 'refund', input: {} })),
      },
    ]);
    await raw.close();

    const id = await coordinator.begin(placeOrder, order(1), { sagaId: 'after-bad-input' });
    expect(await coordinator.result(id)).toBe('completed');

    await waitFor(
      () => logs.length >= 3,
      () => `three warnings or errors logged, have ${JSON.stringify(logs.map((l) => l.message))}`,
    );
    const errorCodes = logs.map((log) => (log.meta.error as { code?: string } | undefined)?.code);
    expect(logs.map((log) => log.message).sort()).toEqual([
      'Skipping an event for a saga that has not begun.',
      'Skipping an inbox record for an unknown saga.',
      'Skipping an inbox record that cannot be read.',
    ]);
    expect(errorCodes).toEqual(
      expect.arrayContaining(['CASCADE_SAGA_MALFORMED_RECORD', 'CASCADE_SAGA_UNKNOWN_DEFINITION']),
    );
    expect(await coordinator.status('ghost-1')).toBeUndefined();
  });
});
