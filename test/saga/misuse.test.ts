// Misusing the saga coordinator on the real broker: operator actions and begins it must refuse
// before writing anything, a local step that refuses like a participant, and result() waits that
// are aborted.
import { getEventListeners } from 'node:events';
import { AbortedError, ClosedError, ConfigError, CoreErrorCodes } from '@cascade/core';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  type OperatorAction,
  type SagaConflictError,
  SagaErrorCodes,
  type SagaNotFoundError,
  type SagaTopics,
  sagaTopics,
  type UnknownSagaError,
} from '@cascade/saga';
import { describe, expect, it } from 'vitest';
import { readAll } from '../producer/support.js';
import { cluster, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';

const kafka = () => ({ brokers: cluster().brokers, clientId: uniqueName('saga-misuse') });

/** A saga whose only step waits on a participant that is not running: it stays `running`. */
const waiting = (version = 1) =>
  defineSaga<{ id: string }>('waiting', { version })
    .step('reserve', { participant: 'inventory', invoke: ({ input }) => input })
    .build();

/** Every record of the inbox, up to its high watermarks. */
async function inboxRecords(
  topics: SagaTopics,
): Promise<Array<{ key: string | null; value: string | null }>> {
  const records = await readAll(kafkaClient(), topics.inbox, 0);
  return records.map(({ key, value }) => ({ key, value }));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

describe('saga coordinator misuse', () => {
  it('refuses operator actions on an unknown saga, with an unknown action or without who and why, and writes nothing to the inbox', async () => {
    const topics = sagaTopics(uniqueName('resolve'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    const saga = waiting();
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();
    const id = await coordinator.begin(saga, { id: 'r-1' }, { sagaId: 'r-1' });
    let steps: unknown;
    await waitFor(
      async () => {
        const state = await coordinator.status(id);
        steps = state?.steps;
        return state?.steps.reserve?.status === 'running';
      },
      () => `saga ${id} waiting at reserve, is ${JSON.stringify(steps)}`,
    );
    const before = await inboxRecords(topics);
    expect(before.map((record) => record.key)).toEqual(['r-1']);

    const notFound = await rejection(
      coordinator.resolve('no-such-saga', 'abort', { by: 'alice', reason: 'cleanup' }),
    );
    expect((notFound as SagaNotFoundError).code).toBe(SagaErrorCodes.SagaNotFound);
    expect((notFound as SagaNotFoundError).sagaId).toBe('no-such-saga');

    const badAction = await rejection(
      coordinator.resolve(id, 'restart' as OperatorAction, { by: 'alice', reason: 'try again' }),
    );
    expect(badAction).toBeInstanceOf(ConfigError);
    expect((badAction as ConfigError).code).toBe(CoreErrorCodes.Config);
    expect((badAction as ConfigError).field).toBe('action');
    expect((badAction as Error).message).toContain(
      "'retry', 'markCompensated', 'skipStep', 'forceComplete', 'abort'",
    );

    const fields: Array<[string, { by: string; reason: string }]> = [
      ['details.by', { by: '', reason: 'try again' }],
      ['details.by', { reason: 'try again' } as { by: string; reason: string }],
      ['details.reason', { by: 'alice', reason: '  ' }],
      ['details.reason', { by: 'alice' } as { by: string; reason: string }],
    ];
    for (const [field, details] of fields) {
      const error = await rejection(coordinator.resolve(id, 'abort', details));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
    const noStep = await rejection(coordinator.resolve(id, 'skipStep', { by: 'alice', reason: 'manual' }));
    expect((noStep as ConfigError).field).toBe('details.step');
    const unknownStep = await rejection(
      coordinator.resolve(id, 'skipStep', { by: 'alice', reason: 'manual', step: 'ship' }),
    );
    expect((unknownStep as ConfigError).field).toBe('details.step');
    expect((unknownStep as Error).message).toContain('reserve');

    expect(await inboxRecords(topics)).toEqual(before);
    expect(await coordinator.status(id)).toMatchObject({ status: 'running', audit: [] });
  });

  it('refuses to begin a definition version that is not registered, naming those that are, an empty saga id or an aborted signal, and writes nothing', async () => {
    const topics = sagaTopics(uniqueName('versions'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    await using coordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [waiting(1), waiting(2)],
      topics,
    });
    await coordinator.start();

    const error = await rejection(coordinator.begin(waiting(3), { id: 'v-3' }, { sagaId: 'v-3' }));

    expect((error as UnknownSagaError).code).toBe(SagaErrorCodes.UnknownSaga);
    expect((error as UnknownSagaError).version).toBe(3);
    expect((error as UnknownSagaError).registeredVersions).toEqual([1, 2]);
    expect((error as Error).message).toContain('registered versions: 1, 2');
    const noId = await rejection(coordinator.begin(waiting(2), { id: 'v-2' }, { sagaId: '' }));
    expect(noId).toBeInstanceOf(ConfigError);
    expect((noId as ConfigError).field).toBe('options.sagaId');
    const aborted = await rejection(
      coordinator.begin(waiting(2), { id: 'v-2' }, { sagaId: 'v-2', signal: AbortSignal.abort() }),
    );
    expect((aborted as AbortedError).code).toBe(CoreErrorCodes.Aborted);
    expect(await inboxRecords(topics)).toEqual([]);
  });

  it('begins a saga on exactly the registered version it is given, not the newest', async () => {
    const topics = sagaTopics(uniqueName('exact'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    await using coordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [waiting(1), waiting(2)],
      topics,
    });
    await coordinator.start();

    const old = await coordinator.begin(waiting(1), { id: 'v-1' }, { sagaId: 'v-1' });
    const fresh = await coordinator.begin(waiting(2), { id: 'v-2' }, { sagaId: 'v-2' });

    await waitFor(
      async () =>
        (await coordinator.status(old)) !== undefined && (await coordinator.status(fresh)) !== undefined,
      () => 'both sagas begun',
    );
    expect((await coordinator.status(old))?.version).toBe(1);
    expect((await coordinator.status(fresh))?.version).toBe(2);
  });

  it('answers a second begin of one saga id with the same input with its id, and one with another input with SagaConflictError', async () => {
    const topics = sagaTopics(uniqueName('twice'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    const saga = waiting();
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();
    const id = await coordinator.begin(saga, { id: 'first' }, { sagaId: 'twice-1' });
    await waitFor(
      async () => (await coordinator.status(id)) !== undefined,
      () => `saga ${id} begun`,
    );

    expect(await coordinator.begin(saga, { id: 'first' }, { sagaId: 'twice-1' })).toBe('twice-1');
    const conflict = await rejection(coordinator.begin(saga, { id: 'second' }, { sagaId: 'twice-1' }));

    expect((conflict as SagaConflictError).code).toBe(SagaErrorCodes.SagaConflict);
    expect((conflict as SagaConflictError).sagaId).toBe('twice-1');
    expect((await coordinator.status(id))?.input).toEqual({ id: 'first' });
    expect((await coordinator.list()).sagas).toHaveLength(1);
  });

  it('of two concurrent begins of one saga id with different inputs, runs one and rejects the other with SagaConflictError', async () => {
    const topics = sagaTopics(uniqueName('race'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    const saga = waiting();
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();

    const [a, b] = await Promise.allSettled([
      coordinator.begin(saga, { id: 'a' }, { sagaId: 'race-1' }),
      coordinator.begin(saga, { id: 'b' }, { sagaId: 'race-1' }),
    ]);

    const outcomes = [a, b].map((outcome) => outcome.status);
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
    const won = a.status === 'fulfilled' ? { id: 'a' } : { id: 'b' };
    const lost = [a, b].find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as SagaConflictError).code).toBe(SagaErrorCodes.SagaConflict);
    expect((await coordinator.status('race-1'))?.input).toEqual(won);
  });

  it('compensates the steps before a local step that throws BusinessFailure, without retrying it or undoing it, and keeps its type', async () => {
    const topics = sagaTopics(uniqueName('local'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2 });
    const ran: string[] = [];
    const saga = defineSaga<{ id: string }>('local-checkout')
      .step('reserve', {
        run: () => void ran.push('reserve'),
        undo: () => void ran.push('release'),
      })
      .step('charge', {
        run: () => {
          ran.push('charge');
          throw new BusinessFailure('CardDeclined', 'the card was declined', { last4: '4242' });
        },
        undo: () => void ran.push('refund'),
        retry: { initialIntervalMs: 10, maximumAttempts: 6 },
      })
      .build();
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();

    const id = await coordinator.begin(saga, { id: 'l-1' });

    expect(await coordinator.result(id)).toBe('compensated');
    expect(ran).toEqual(['reserve', 'charge', 'release']);
    const state = await coordinator.status(id);
    expect(state?.steps.charge).toMatchObject({ status: 'failed', attempts: 1, compensationAttempts: 0 });
    expect(state?.steps.reserve).toMatchObject({ status: 'compensated' });
    expect(state?.failure).toEqual({
      step: 'charge',
      error: {
        type: 'CardDeclined',
        message: 'the card was declined',
        details: { last4: '4242' },
      },
    });
  });

  it('rejects result() at once with AbortedError when its signal is already aborted', async () => {
    const topics = sagaTopics(uniqueName('aborted'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    const saga = waiting();
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();
    const id = await coordinator.begin(saga, { id: 'a-1' });
    const reason = new Error('the caller gave up');

    const error = await rejection(coordinator.result(id, { signal: AbortSignal.abort(reason) }));

    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).code).toBe(CoreErrorCodes.Aborted);
    expect((error as Error).cause).toBe(reason);
  });

  it('removes its abort listener when result() settles, so one signal serves many waits', async () => {
    const topics = sagaTopics(uniqueName('listeners'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    const saga = waiting();
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => coordinator.begin(saga, { id: `w-${i}` })),
    );
    const controller = new AbortController();

    // The participant is down: every wait is pending, each with its listener.
    const results = ids.map((id) => coordinator.result(id, { signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(20);
    await using inventory = createSagaParticipant({
      kafka: kafka(),
      participant: 'inventory',
      topics,
      commands: { reserve: { invoke: () => ({ reserved: true }) } },
    });
    await inventory.start();

    expect(await Promise.all(results)).toEqual(Array(20).fill('completed'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects a result() still waiting with ClosedError when the coordinator stops, and removes its listener', async () => {
    const topics = sagaTopics(uniqueName('stopping'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['inventory'] });
    const saga = waiting();
    const coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [saga], topics });
    await coordinator.start();
    const id = await coordinator.begin(saga, { id: 's-1' });
    const controller = new AbortController();
    const pending = rejection(coordinator.result(id, { signal: controller.signal }));

    await coordinator.stop();

    const error = await pending;
    expect(error).toBeInstanceOf(ClosedError);
    expect((error as ClosedError).code).toBe(CoreErrorCodes.Closed);
    expect((error as Error).message).toContain(`wait for the result of saga ${id}`);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
