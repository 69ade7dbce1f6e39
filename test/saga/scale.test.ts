// Sagas at scale, on the broker (#17): a coordinator holds the live sagas of the inbox partitions
// it owns and nothing else, restores only partitions that moved, tombstones finished sagas after
// their retention, and answers status() and list() for sagas it does not hold by reading the log.
import { ConfigError, type Logger, type LogMeta } from '@cascade/core';
import { murmur2Partition } from '@cascade/producer';
import { transportClientOf } from '@cascade/producer/internal';
import {
  createSagaCoordinator,
  defineSaga,
  ensureSagaTopics,
  type SagaCoordinator,
  type SagaState,
  sagaTopics,
} from '@cascade/saga';
import type { PartitionFetch } from '@cascade/transport';
import { describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';

const kafka = () => ({ brokers: cluster().brokers, clientId: uniqueName('saga-scale') });

/** A saga whose only step waits on a participant that is not running: it stays `running`. */
const waiting = defineSaga<{ id: string }>('scale-waiting')
  .step('reserve', { participant: 'inventory', invoke: ({ input }) => input })
  .build();

/** A saga of one local step: it completes at once. `runs` counts the step's runs by saga id. */
function quick(runs: Map<string, number>) {
  return defineSaga<{ id: string }>('scale-quick')
    .step('note', {
      run: ({ sagaId }) => {
        runs.set(sagaId, (runs.get(sagaId) ?? 0) + 1);
        return 'noted';
      },
    })
    .build();
}

/** A logger that keeps what it is told (info and above). */
function capturingLogger(): Logger & { readonly lines: { message: string; meta: LogMeta }[] } {
  const lines: { message: string; meta: LogMeta }[] = [];
  const make = (base: LogMeta): Logger => ({
    debug: () => undefined,
    info: (message, meta) => void lines.push({ message, meta: { ...base, ...meta } }),
    warn: (message, meta) => void lines.push({ message, meta: { ...base, ...meta } }),
    error: (message, meta) => void lines.push({ message, meta: { ...base, ...meta } }),
    child: (meta) => make({ ...base, ...meta }),
  });
  return Object.assign(make({}), { lines });
}

const restoredFrom = (logger: ReturnType<typeof capturingLogger>, since: number, message: string) =>
  logger.lines
    .slice(since)
    .filter((line) => line.message === message)
    .map((line) => line.meta.partition as number)
    .sort((a, b) => a - b);

const live = (coordinator: SagaCoordinator) => coordinator.partitions().reduce((sum, p) => sum + p.live, 0);

/** The latest committed record of `key` in its saga log partition (null for a tombstone). */
async function latestLogValue(
  topic: string,
  key: string,
  partitions: number,
): Promise<string | null | undefined> {
  const client = transportClientOf(kafka());
  const admin = client.admin();
  const reader = client.reader();
  await Promise.all([admin.connect(), reader.connect()]);
  try {
    const partition = murmur2Partition(Buffer.from(key), partitions);
    const high = BigInt(
      (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.high ?? 0,
    );
    let latest: string | null | undefined;
    for (let next = 0n; next < high; ) {
      const [fetched] = (await reader.fetch({
        topic,
        partitions: [{ partition, offset: next.toString() }],
        maxWaitMs: 100,
        maxBytes: 1 << 20,
        readCommitted: true,
      })) as [PartitionFetch];
      for (const record of fetched.records) {
        if (record.key?.toString() === key) latest = record.value === null ? null : record.value.toString();
      }
      next = BigInt(fetched.nextOffset);
    }
    return latest;
  } finally {
    await Promise.all([admin.disconnect(), reader.disconnect()]);
  }
}

describe('sagas at scale', () => {
  it('holds only the sagas of its own partitions; a rebalance reads only the partitions that moved', {
    timeout: 120_000,
  }, async () => {
    const topics = sagaTopics(uniqueName('owned'));
    const partitions = 4;
    await ensureSagaTopics(kafka(), topics, { partitions, participants: ['inventory'] });
    const ids = Array.from({ length: 40 }, (_, i) => `owned-${i}`);
    const partitionOf = (id: string) => murmur2Partition(Buffer.from(id), partitions);
    const expected = new Map<number, number>();
    for (const id of ids) expected.set(partitionOf(id), (expected.get(partitionOf(id)) ?? 0) + 1);

    const logA = capturingLogger();
    await using a = createSagaCoordinator({
      kafka: kafka(),
      sagas: [waiting],
      topics,
      logger: logA,
      sessionTimeoutMs: 6_000,
    });
    await a.start();
    await Promise.all(ids.map((id) => a.begin(waiting, { id }, { sagaId: id })));
    await waitFor(
      () => live(a) === ids.length,
      () => `the first coordinator holds all ${ids.length} sagas, holds ${JSON.stringify(a.partitions())}`,
    );

    const beforeB = logA.lines.length;
    const logB = capturingLogger();
    const b = createSagaCoordinator({
      kafka: kafka(),
      sagas: [waiting],
      topics,
      logger: logB,
      sessionTimeoutMs: 6_000,
    });
    await b.start();
    const split = () => {
      const ofA = a.partitions().map((p) => p.partition);
      const ofB = b.partitions().map((p) => p.partition);
      return { ofA, ofB, all: [...ofA, ...ofB].sort() };
    };
    // Shared, and for two seconds on end (joining can take more than one rebalance).
    let sharedSince: number | undefined;
    await waitFor(
      () => {
        const { ofA, ofB, all } = split();
        const shared = ofA.length > 0 && ofB.length > 0 && JSON.stringify(all) === '[0,1,2,3]';
        if (!shared) sharedSince = undefined;
        else sharedSince ??= Date.now();
        return sharedSince !== undefined && Date.now() - sharedSince >= 2_000;
      },
      () => `the partitions shared, and no longer moving: ${JSON.stringify(split())}`,
    );
    // Each holds exactly the sagas of its own partitions.
    for (const coordinator of [a, b]) {
      for (const { partition, live: count } of coordinator.partitions()) {
        expect(count, `partition ${partition}`).toBe(expected.get(partition) ?? 0);
      }
    }
    expect(live(a) + live(b)).toBe(ids.length);
    // The first read only what moved: a partition it got back was brought up to date from its
    // revocation on (nothing had been written there since), and it read from the start only
    // partitions the second had had. (Joining can take more than one rebalance.)
    const { ofB } = split();
    const distinct = (list: number[]) => [...new Set(list)].sort((x, y) => x - y);
    const restoredByB = distinct(restoredFrom(logB, 0, 'Sagas restored from the log.'));
    expect(restoredByB).toEqual(expect.arrayContaining(ofB));
    // Read from the start again only a partition the second had had meanwhile, or one the first
    // could not keep (it saw the rebalance late, or held what had not committed): both logged.
    const restoredByA = distinct(restoredFrom(logA, beforeB, 'Sagas restored from the log.'));
    const notKept = [
      ...restoredFrom(
        logA,
        beforeB,
        'A partition stayed assigned through a rebalance not seen in time; reading it whole.',
      ),
      ...restoredFrom(
        logA,
        beforeB,
        'A revoked partition is not kept (it holds what did not commit); read whole if it comes back.',
      ),
    ];
    expect([...restoredByB, ...notKept]).toEqual(expect.arrayContaining(restoredByA));
    const keptLines = logA.lines.slice(beforeB).filter((l) => l.message.startsWith('Sagas kept through'));
    expect(keptLines.length).toBeGreaterThan(0);
    expect(keptLines.every((l) => l.meta.records === 0)).toBe(true);

    // A saga the first does not hold: answered from the log.
    const elsewhere = ids.find((id) => ofB.includes(partitionOf(id))) as string;
    expect(await a.status(elsewhere)).toMatchObject({ sagaId: elsewhere, status: 'running' });

    // The second leaves: the first takes its partitions back, reading those from the start.
    const beforeLeave = logA.lines.length;
    await b.close();
    await waitFor(
      () => a.partitions().length === partitions && live(a) === ids.length,
      () => `the first holds everything again, holds ${JSON.stringify(a.partitions())}`,
    );
    expect(distinct(restoredFrom(logA, beforeLeave, 'Sagas restored from the log.'))).toEqual(ofB);
  });

  it('tombstones a finished saga in its finishing transition with finishedRetentionMs 0; its id then begins anew', async () => {
    const topics = sagaTopics(uniqueName('retain0'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2 });
    const runs = new Map<string, number>();
    const saga = quick(runs);
    await using coordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [saga],
      topics,
      finishedRetentionMs: 0,
    });
    await coordinator.start();

    const id = await coordinator.begin(saga, { id: 'r0' }, { sagaId: 'r0' });
    expect(await coordinator.result(id)).toBe('completed');
    expect(await latestLogValue(topics.log, id, 2)).toBeNull();
    expect(await coordinator.status(id)).toBeUndefined();
    expect(coordinator.partitions().reduce((sum, p) => sum + p.finished, 0)).toBe(0);

    await coordinator.begin(saga, { id: 'r0' }, { sagaId: id });
    await waitFor(
      () => runs.get(id) === 2,
      () => `the step ran again for the new saga, ran ${runs.get(id)} times`,
    );
  });

  it('answers for a finished saga while it is retained, a second begin as a duplicate, and forgets it after', {
    timeout: 60_000,
  }, async () => {
    const topics = sagaTopics(uniqueName('retain'));
    await ensureSagaTopics(kafka(), topics, { partitions: 2 });
    const runs = new Map<string, number>();
    const saga = quick(runs);
    const retention = 3_000;
    await using coordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [saga],
      topics,
      finishedRetentionMs: retention,
    });
    await coordinator.start();
    const id = await coordinator.begin(saga, { id: 'kept' }, { sagaId: 'kept-1' });
    expect(await coordinator.result(id)).toBe('completed');
    const finishedAt = ((await coordinator.status(id)) as SagaState).updatedAt;

    // Retained: status from memory and, in a coordinator that holds nothing, from the log.
    await using reader = createSagaCoordinator({
      kafka: kafka(),
      sagas: [saga],
      topics,
      groupId: uniqueName('readers'),
    });
    expect(await coordinator.status(id)).toMatchObject({ status: 'completed' });
    await reader.start();
    expect(await reader.status(id)).toMatchObject({ status: 'completed', updatedAt: finishedAt });
    await reader.close();
    // A second begin with the same input is the same saga: nothing runs again.
    expect(await coordinator.begin(saga, { id: 'kept' }, { sagaId: id })).toBe(id);
    expect(runs.get(id)).toBe(1);
    expect(coordinator.partitions().reduce((sum, p) => sum + p.finished, 0)).toBe(1);

    // Past the retention: tombstoned and forgotten.
    await waitFor(
      async () => (await coordinator.status(id)) === undefined,
      () => 'the saga forgotten after its retention',
      retention + 20_000,
      200,
    );
    expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(retention);
    // Forgotten as the expiry is decided; its tombstone commits with that transaction.
    await waitFor(
      async () => (await latestLogValue(topics.log, id, 2)) === null,
      () => 'the tombstone committed to the log',
    );
    expect(coordinator.partitions().reduce((sum, p) => sum + p.finished, 0)).toBe(0);
    await coordinator.begin(saga, { id: 'kept' }, { sagaId: id });
    await waitFor(
      () => runs.get(id) === 2,
      () => `the id began a new saga, the step ran ${runs.get(id)} times`,
    );
  });

  it('lists sagas a page at a time, by status, definition, age and partition', {
    timeout: 60_000,
  }, async () => {
    const topics = sagaTopics(uniqueName('list'));
    const partitions = 3;
    await ensureSagaTopics(kafka(), topics, { partitions, participants: ['inventory'] });
    const runs = new Map<string, number>();
    const done = quick(runs);
    await using coordinator = createSagaCoordinator({ kafka: kafka(), sagas: [waiting, done], topics });
    await coordinator.start();
    const running = Array.from({ length: 7 }, (_, i) => `list-w-${i}`);
    const completed = Array.from({ length: 9 }, (_, i) => `list-q-${i}`);
    await Promise.all(running.map((id) => coordinator.begin(waiting, { id }, { sagaId: id })));
    await Promise.all(completed.map((id) => coordinator.begin(done, { id }, { sagaId: id })));
    await Promise.all(completed.map((id) => coordinator.result(id)));

    const all = async (
      query: Parameters<SagaCoordinator['list']>[0],
    ): Promise<{ ids: string[]; pages: number }> => {
      const ids: string[] = [];
      let pages = 0;
      let cursor: string | undefined;
      do {
        const page = await coordinator.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
        pages++;
        expect(page.sagas.length).toBeLessThanOrEqual(query?.limit ?? 100);
        ids.push(...page.sagas.map((s) => s.sagaId));
        cursor = page.cursor;
      } while (cursor !== undefined);
      return { ids: ids.sort(), pages };
    };
    const byStatus = await all({ status: 'completed', limit: 2 });
    expect(byStatus.ids).toEqual([...completed].sort());
    expect(byStatus.pages).toBeGreaterThanOrEqual(5);
    expect((await all({ saga: 'scale-waiting' })).ids).toEqual([...running].sort());
    expect((await all({ status: ['running', 'completed'] })).ids).toEqual([...running, ...completed].sort());
    // Stuck: not finished, and no transition for that long.
    expect((await all({ stuck: { olderThanMs: 0 } })).ids).toEqual([...running].sort());
    expect((await all({ stuck: { olderThanMs: 3_600_000 } })).ids).toEqual([]);
    const p0 = [...running, ...completed].filter((id) => murmur2Partition(Buffer.from(id), partitions) === 0);
    expect((await all({ partitions: [0] })).ids).toEqual(p0.sort());

    await expect(coordinator.list({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ConfigError);
    await expect(coordinator.list({ limit: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(coordinator.list({ limit: 1_001 })).rejects.toBeInstanceOf(ConfigError);
    await expect(coordinator.list({ partitions: [9] })).rejects.toBeInstanceOf(ConfigError);
    await expect(coordinator.list({ status: 'nope' as never })).rejects.toBeInstanceOf(ConfigError);
  });
});
