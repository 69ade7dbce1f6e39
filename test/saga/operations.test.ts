// Operating sagas on the real broker: deploying a changed definition while sagas are in flight,
// and an operator resolving a saga whose compensation could not finish.
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  type Participant,
  type SagaState,
  sagaTopics,
} from '@cascade/saga';
import { describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';

const kafka = () => ({ brokers: cluster().brokers, clientId: uniqueName('saga-ops') });

describe('operating sagas', () => {
  it('finishes sagas in flight on the version they began with after a new version is deployed', async () => {
    const topics = sagaTopics(uniqueName('versions'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory', 'audit'] });
    const v1 = defineSaga<{ id: string }>('order', { version: 1 })
      .step('reserve', { participant: 'inventory', invoke: ({ input }) => input })
      .build();
    const v2 = defineSaga<{ id: string }>('order', { version: 2 })
      .step('reserve', { participant: 'inventory', invoke: ({ input }) => input })
      .step('audit', { participant: 'audit', invoke: ({ input }) => input })
      .build();
    const seen: string[] = [];
    const record = (what: string) => (payload: unknown) =>
      void seen.push(`${what} ${(payload as { id: string }).id}`);
    await using audit = createSagaParticipant({
      kafka: kafka(),
      participant: 'audit',
      topics,
      commands: { audit: { invoke: record('audit') } },
    });
    await audit.start();

    // Version 1 runs while the inventory service is away: its saga waits at "reserve".
    const before = createSagaCoordinator({ kafka: kafka(), sagas: [v1], topics, sessionTimeoutMs: 6_000 });
    await before.start();
    const old = await before.begin(v1, { id: 'old' });
    await waitFor(
      async () => (await before.status(old))?.steps.reserve?.status === 'running',
      () => 'the v1 saga waiting at reserve',
    );
    await before.stop();

    // The deploy: both versions registered; new sagas start on v2.
    await using after = createSagaCoordinator({
      kafka: kafka(),
      sagas: [v1, v2],
      topics,
      sessionTimeoutMs: 6_000,
    });
    await after.start();
    const fresh = await after.begin(v2, { id: 'new' });
    await using inventory = createSagaParticipant({
      kafka: kafka(),
      participant: 'inventory',
      topics,
      commands: { reserve: { invoke: record('reserve') } },
    });
    await inventory.start();

    expect(await after.result(old)).toBe('completed');
    expect(await after.result(fresh)).toBe('completed');
    expect(await after.status(old)).toMatchObject({
      version: 1,
      steps: { reserve: { status: 'succeeded' } },
    });
    expect(await after.status(fresh)).toMatchObject({
      version: 2,
      steps: { audit: { status: 'succeeded' } },
    });
    expect(seen.sort()).toEqual(['audit new', 'reserve new', 'reserve old']);
  });

  it('raises needs-attention when a compensation keeps failing, and finishes when an operator retries it', async () => {
    const topics = sagaTopics(uniqueName('attention'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['wallet', 'shop'] });
    const saga = defineSaga<{ id: string }>('purchase')
      .step('debit', {
        participant: 'wallet',
        invoke: ({ input }) => input,
        compensate: ({ input }) => input,
        compensationRetry: { maximumAttempts: 2, initialIntervalMs: 50, maximumIntervalMs: 50 },
      })
      .step('deliver', { participant: 'shop', invoke: ({ input }) => input })
      .build();
    let walletUp = false;
    const credited: string[] = [];
    const participants: Participant[] = [
      createSagaParticipant({
        kafka: kafka(),
        participant: 'wallet',
        topics,
        commands: {
          debit: {
            invoke: () => ({ debited: true }),
            compensate: (payload) => {
              if (!walletUp) throw new Error('wallet ledger is read-only');
              credited.push((payload as { id: string }).id);
            },
          },
        },
      }),
      createSagaParticipant({
        kafka: kafka(),
        participant: 'shop',
        topics,
        commands: {
          deliver: {
            invoke: () => {
              throw new BusinessFailure('SoldOut', 'nothing left to deliver');
            },
          },
        },
      }),
    ];
    const alerts: SagaState[] = [];
    await using coordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [saga],
      topics,
      onNeedsAttention: (state) => alerts.push(state),
    });
    await Promise.all([coordinator.start(), ...participants.map((participant) => participant.start())]);

    const id = await coordinator.begin(saga, { id: 'p-1' });
    expect(await coordinator.result(id)).toBe('needs-attention');
    // The hook runs once the owner's transaction committed; result() settles on the committed
    // state read back from the log, which can come first.
    await waitFor(
      () => alerts.length > 0,
      () => 'onNeedsAttention called',
    );
    expect(alerts.map((state) => state.attention)).toEqual([
      {
        reason: 'Compensation of step debit failed after 2 attempt(s): Error: wallet ledger is read-only',
        steps: ['debit'],
      },
    ]);
    expect(
      (await coordinator.list({ status: 'needs-attention' })).sagas.map((state) => state.sagaId),
    ).toEqual([id]);

    walletUp = true;
    await coordinator.resolve(id, 'retry', { by: 'ops@example.com', reason: 'ledger writable again' });
    let status: string | undefined;
    await waitFor(
      async () => {
        status = (await coordinator.status(id))?.status;
        return status === 'compensated';
      },
      () => `the saga compensated, is ${status}`,
    );
    expect(credited).toEqual(['p-1']);
    expect((await coordinator.status(id))?.audit).toEqual([
      expect.objectContaining({ action: 'retry', by: 'ops@example.com', reason: 'ledger writable again' }),
    ]);
    await Promise.all(participants.map((participant) => participant.stop()));
  });

  it('parks the steps of a participant whose circuit opened, and completes them when it is back: no compensation storm', async () => {
    const topics = sagaTopics(uniqueName('outage'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory', 'payment'] });
    const saga = defineSaga<{ id: string }>('outage')
      .step('reserve', {
        participant: 'inventory',
        invoke: ({ input }) => input,
        compensate: ({ input }) => input,
      })
      .step('charge', {
        participant: 'payment',
        invoke: ({ input }) => input,
        timeoutMs: 400,
        retry: { maximumAttempts: 2, initialIntervalMs: 100, maximumIntervalMs: 300 },
      })
      .build();
    const released: string[] = [];
    await using inventory = createSagaParticipant({
      kafka: kafka(),
      participant: 'inventory',
      topics,
      commands: {
        reserve: {
          invoke: () => ({}),
          compensate: (payload) => void released.push((payload as { id: string }).id),
        },
      },
    });
    const payment = createSagaParticipant({
      kafka: kafka(),
      participant: 'payment',
      topics,
      commands: { charge: { invoke: () => ({}) } },
    });
    await using coordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [saga],
      topics,
      circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 1_000 },
    });
    await Promise.all([inventory.start(), coordinator.start()]);

    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) => coordinator.begin(saga, { id: `o-${i}` })),
    );
    // The payment service is down: timeouts open its circuit, and its steps park.
    await waitFor(
      () => (coordinator.metrics().transitions['step-parked'] ?? 0) >= 6,
      () => `steps parked, have ${JSON.stringify(coordinator.metrics().transitions)}`,
    );
    await payment.start();

    const outcomes = await Promise.all(ids.map((id) => coordinator.result(id)));
    await payment.stop();
    expect(outcomes).toEqual(Array(6).fill('completed'));
    expect(released).toEqual([]);
    expect(coordinator.metrics().transitions.compensating).toBeUndefined();
  });
});
