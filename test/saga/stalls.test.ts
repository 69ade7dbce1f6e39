// What one saga's broken delivery does to the others, on the real broker: a participant without a
// command topic is refused at start; a command that cannot be sent at run time (its topic deleted,
// the record too large for it) parks that saga, which needs attention, while sagas behind it on
// the same inbox partition go on; a participant whose own infrastructure keeps failing gives up
// on the command after its retries, so its partition goes on and the saga's step timeout decides.
import { ConfigError, createLogger, type LogMeta } from '@cascade/core';
import {
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  type IdempotencyStore,
  MissingCommandTopicsError,
  memoryIdempotencyStore,
  type Participant,
  type SagaCoordinator,
  SagaErrorCodes,
  type SagaTopics,
  sagaTopics,
} from '@cascade/saga';
import { ConfigResourceTypes } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { InboxEvent } from '../../packages/saga/src/codec.js';
import { cluster, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';

const kafka = () => ({ brokers: cluster().brokers, clientId: uniqueName('saga-stalls') });

interface Doc {
  readonly id: string;
  readonly body: string;
}

/** One step on `archive`, one on `inventory`: two sagas that share the inbox but not a participant. */
const archiveDoc = defineSaga<Doc>('archive-doc')
  .step('store', {
    participant: 'archive',
    invoke: ({ input }) => ({ id: input.id, body: input.body }),
    compensate: ({ input }) => ({ id: input.id }),
    timeoutMs: 10_000,
  })
  .build();

const reserve = defineSaga<Doc>('reserve')
  .step('reserve', {
    participant: 'inventory',
    invoke: ({ input }) => ({ id: input.id }),
    compensate: ({ input }) => ({ id: input.id }),
    timeoutMs: 1_000,
    retry: { maximumAttempts: 1 },
  })
  .build();

const running: Array<SagaCoordinator | Participant> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((component) => component.stop()));
});

async function createTopics(
  topics: SagaTopics,
  commandTopics: ReadonlyArray<{ participant: string; config?: Record<string, string> }>,
): Promise<void> {
  // One inbox partition, so every saga of a test shares it; one partition per command topic.
  await ensureSagaTopics(kafka(), topics, { partitions: 1 });
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: commandTopics.map(({ participant, config }) => ({
        topic: topics.commands(participant),
        numPartitions: 1,
        configEntries: Object.entries(config ?? {}).map(([name, value]) => ({ name, value })),
      })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

function participant(
  topics: SagaTopics,
  name: string,
  applied: string[],
  extra: { store?: IdempotencyStore; retry?: { maximumAttempts: number; initialIntervalMs: number } } = {},
): Participant {
  const command = name === 'archive' ? 'store' : 'reserve';
  const created = createSagaParticipant({
    kafka: kafka(),
    participant: name,
    topics,
    ...extra,
    commands: {
      [command]: {
        invoke: (payload) => {
          applied.push(`${command} ${(payload as { id: string }).id}`);
          return { ok: true };
        },
        compensate: (payload) => {
          applied.push(`undo ${command} ${(payload as { id: string }).id}`);
        },
      },
    },
  });
  running.push(created);
  return created;
}

function coordinatorFor(topics: SagaTopics) {
  const logs: Array<{ level: string; message: string; meta: LogMeta }> = [];
  const coordinator = createSagaCoordinator({
    kafka: kafka(),
    sagas: [archiveDoc, reserve],
    topics,
    sessionTimeoutMs: 6_000,
    logger: createLogger((level, message, meta) => logs.push({ level, message, meta }), { level: 'warn' }),
  });
  running.push(coordinator);
  return { coordinator, logs };
}

describe('saga coordinator: one saga cannot stall the others', () => {
  it('refuses to start while a registered participant has no command topic, naming each one', async () => {
    const topics = sagaTopics(uniqueName('stalls'));
    await ensureSagaTopics(kafka(), topics, { partitions: 1 });
    const { coordinator } = coordinatorFor(topics);

    const error = await coordinator.start().then(
      () => undefined,
      (failure: unknown) => failure,
    );

    expect(error).toBeInstanceOf(MissingCommandTopicsError);
    const missing = error as MissingCommandTopicsError;
    expect(missing.code).toBe(SagaErrorCodes.MissingCommandTopics);
    expect(missing.code).toBe('CASCADE_SAGA_MISSING_COMMAND_TOPICS');
    expect(missing.retriable).toBe(false);
    expect(missing.topics).toEqual([topics.commands('archive'), topics.commands('inventory')]);
    expect(missing.participants).toEqual(['archive', 'inventory']);
    expect(missing.message).toContain(topics.commands('archive'));
    expect(missing.message).toContain(topics.commands('inventory'));
  });

  it('parks a saga whose command is too large for its topic, needing attention, while a saga begun after it on the same inbox partition completes; raising the limit and a retry finish it', async () => {
    const topics = sagaTopics(uniqueName('stalls'));
    await createTopics(topics, [
      { participant: 'archive', config: { 'max.message.bytes': '4096' } },
      { participant: 'inventory' },
    ]);
    const applied: string[] = [];
    const { coordinator } = coordinatorFor(topics);
    await Promise.all([
      coordinator.start(),
      participant(topics, 'archive', applied).start(),
      participant(topics, 'inventory', applied).start(),
    ]);

    const big = await coordinator.begin(archiveDoc, { id: 'big', body: 'x'.repeat(8_000) });
    const healthy = await coordinator.begin(reserve, { id: 'healthy', body: '' });
    const small = await coordinator.begin(archiveDoc, { id: 'small', body: 'fits' });

    expect(await coordinator.result(big)).toBe('needs-attention');
    expect(await coordinator.result(healthy)).toBe('completed');
    expect(await coordinator.result(small)).toBe('completed');
    const parked = await coordinator.status(big);
    expect(parked?.steps.store).toMatchObject({ status: 'running', attempts: 1 });
    expect(parked?.steps.store?.outstanding).toBeUndefined();
    expect(parked?.steps.store?.lastError).toMatchObject({
      type: 'CommandUndeliverable',
      nonRetryable: true,
    });
    expect(parked?.steps.store?.lastError?.message).toContain(topics.commands('archive'));
    expect(parked?.attention?.steps).toEqual(['store']);
    expect(applied.sort()).toEqual(['reserve healthy', 'store small']);

    // The operator raises the topic's limit and retries: the same attempt is sent again.
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topics.commands('archive'),
            configEntries: [{ name: 'max.message.bytes', value: '1048588' }],
          },
        ],
      });
      await waitFor(
        async () => {
          const { resources } = await admin.describeConfigs({
            resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.commands('archive') }],
            includeSynonyms: false,
          });
          const entry = resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
          return entry?.configValue === '1048588';
        },
        () => 'the raised max.message.bytes visible',
      );
    } finally {
      await admin.disconnect();
    }
    const resumed = new Promise<string>((resolve) => {
      coordinator.onNotification((notification) => {
        if (notification.sagaId === big && notification.kind === 'completed') resolve(notification.kind);
      });
    });
    await coordinator.resolve(big, 'retry', { by: 'ops', reason: 'raised max.message.bytes' });
    expect(await resumed).toBe('completed');
    expect(applied.filter((entry) => entry === 'store big')).toEqual(['store big']);
    expect((await coordinator.status(big))?.steps.store).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('parks a saga whose participant command topic was deleted after start, while a saga begun after it on the same inbox partition completes', async () => {
    const topics = sagaTopics(uniqueName('stalls'));
    await createTopics(topics, [{ participant: 'archive' }, { participant: 'inventory' }]);
    const applied: string[] = [];
    const { coordinator } = coordinatorFor(topics);
    await Promise.all([coordinator.start(), participant(topics, 'inventory', applied).start()]);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topics.commands('archive')] });
      await waitFor(
        async () => !(await admin.listTopics()).includes(topics.commands('archive')),
        () => `${topics.commands('archive')} deleted`,
      );
    } finally {
      await admin.disconnect();
    }
    const startedAt = Date.now();

    const orphan = await coordinator.begin(archiveDoc, { id: 'orphan', body: 'lost' });
    const healthy = await coordinator.begin(reserve, { id: 'healthy', body: '' });

    expect(await coordinator.result(healthy)).toBe('completed');
    expect(await coordinator.result(orphan)).toBe('needs-attention');
    expect(applied).toEqual(['reserve healthy']);
    expect((await coordinator.status(orphan))?.steps.store?.lastError).toMatchObject({
      type: 'CommandUndeliverable',
      nonRetryable: true,
    });
    expect((await coordinator.status(orphan))?.steps.store?.lastError?.message).toContain('does not exist');
    // One abort of the transaction that wrote to the deleted topic (the coordinator's producers
    // wait 5 s for a topic, not the producer's default 60 s), then the orphan is parked.
    expect(Date.now() - startedAt).toBeLessThan(30_000);
  });

  it('a participant gives up on a command its idempotency store keeps failing on, so the next command on its partition is handled and the saga goes on per its step timeout', async () => {
    const topics = sagaTopics(uniqueName('stalls'));
    await createTopics(topics, [{ participant: 'archive' }, { participant: 'inventory' }]);
    const applied: string[] = [];
    const memory = memoryIdempotencyStore();
    const failedReads: string[] = [];
    const store: IdempotencyStore = {
      get: (key) => {
        if (key.startsWith('stuck/reserve/invoke')) {
          failedReads.push(key);
          throw new Error('idempotency store unreachable');
        }
        return memory.get(key);
      },
      set: (key: string, outcome: InboxEvent) => memory.set(key, outcome),
    };
    const { coordinator } = coordinatorFor(topics);
    await Promise.all([
      coordinator.start(),
      participant(topics, 'archive', applied).start(),
      participant(topics, 'inventory', applied, {
        store,
        retry: { maximumAttempts: 3, initialIntervalMs: 50 },
      }).start(),
    ]);

    const stuck = await coordinator.begin(reserve, { id: 'stuck', body: '' }, { sagaId: 'stuck' });
    await waitFor(
      () => failedReads.length > 0,
      () => 'the first read of the failing key',
    );
    const next = await coordinator.begin(reserve, { id: 'next', body: '' });

    expect(await coordinator.result(next)).toBe('completed');
    expect(await coordinator.result(stuck)).toBe('compensated');
    expect(failedReads).toEqual(Array(3).fill('stuck/reserve/invoke'));
    expect(applied).toEqual(['reserve next', 'undo reserve stuck']);
    expect((await coordinator.status(stuck))?.failure?.error.type).toBe('Timeout');
  });

  it('a participant gives up at once on a command its store fails on with a Cascade error flagged not retriable', async () => {
    const topics = sagaTopics(uniqueName('stalls'));
    await createTopics(topics, [{ participant: 'archive' }, { participant: 'inventory' }]);
    const applied: string[] = [];
    const memory = memoryIdempotencyStore();
    const failedReads: string[] = [];
    const store: IdempotencyStore = {
      get: (key) => {
        if (key.startsWith('broken/reserve/invoke')) {
          failedReads.push(key);
          throw new ConfigError('store', 'the idempotency store is misconfigured.');
        }
        return memory.get(key);
      },
      set: (key: string, outcome: InboxEvent) => memory.set(key, outcome),
    };
    const { coordinator } = coordinatorFor(topics);
    await Promise.all([
      coordinator.start(),
      participant(topics, 'archive', applied).start(),
      participant(topics, 'inventory', applied, {
        store,
        retry: { maximumAttempts: 5, initialIntervalMs: 50 },
      }).start(),
    ]);

    const broken = await coordinator.begin(reserve, { id: 'broken', body: '' }, { sagaId: 'broken' });
    const next = await coordinator.begin(reserve, { id: 'next', body: '' });

    expect(await coordinator.result(next)).toBe('completed');
    expect(await coordinator.result(broken)).toBe('compensated');
    expect(failedReads).toEqual(['broken/reserve/invoke']);
    expect(applied.sort()).toEqual(['reserve next', 'undo reserve broken']);
  });
});
