/**
 * tcc: TCC sagas through the Kafka coordinator, each trying 4 participants in parallel — 2 over
 * HTTP (node:http on loopback, `tccHttpHandler`) and 2 over Kafka (`tccCommands`) — then
 * confirming all 4; every participant guards its calls in PostgreSQL and writes its hold in the
 * same database transaction. Measured at 1, 10 and 100 concurrent begins: completed TCC
 * transactions/s and p50/p99 (begin to completed). The baseline, as for the saga benchmark, is a
 * naive coordinator paying one Kafka transaction per transition (raw kafkajs, sequential).
 *
 * Then the guard's own cost with the PostgreSQL store: try + confirm of one branch through the
 * guard (its row in the same transaction as the hold) against the same two holds written without
 * a guard, at 8 concurrent callers, in interleaved rounds.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createSagaCoordinator,
  createSagaParticipant,
  createTccGuard,
  defineSaga,
  ensureSagaTopics,
  httpTccParticipant,
  memoryGuardStore,
  postgresGuardStore,
  sagaTopics,
  type TccHandlers,
  tccCommands,
  tccHttpHandler,
} from '@cascade/saga';
import pg from 'pg';
import { type Benchmark, type BenchResult, result, roundsResult } from '../harness.js';
import { naiveTransactionsPerSecond, percentile, runConcurrently, warmUp } from '../load.js';

const httpParticipants = ['payments', 'loyalty'] as const;
const kafkaParticipants = ['seats', 'hotel'] as const;

const trip = defineSaga<{ tripId: string; amount: number }>('bench-trip')
  .parallel((group) => {
    let built = group;
    for (const participant of [...httpParticipants, ...kafkaParticipants]) {
      built = built.tcc(participant, {
        participant,
        try: ({ input }) => ({ tripId: input.tripId, amount: input.amount }),
        timeoutMs: 10_000,
      });
    }
    return built;
  })
  .build();

/** A participant's holds: inserted on try, marked on confirm, deleted on cancel. */
function holds(schema: string, table: string): TccHandlers<pg.PoolClient> {
  const name = `${schema}.${table}`;
  return {
    async try(payload, context) {
      const { amount } = payload as { amount: number };
      await context.db.query(`INSERT INTO ${name} (id, amount, status) VALUES ($1, $2, 'held')`, [
        `${context.transaction}/${context.branch}`,
        amount,
      ]);
      return { held: amount };
    },
    async confirm(_payload, context) {
      await context.db.query(`UPDATE ${name} SET status = 'confirmed' WHERE id = $1`, [
        `${context.transaction}/${context.branch}`,
      ]);
    },
    async cancel(_payload, context) {
      await context.db.query(`DELETE FROM ${name} WHERE id = $1`, [
        `${context.transaction}/${context.branch}`,
      ]);
    },
  };
}

/** Runs `work` in one transaction on a pooled client. */
async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const outcome = await work(client);
    await client.query('COMMIT');
    return outcome;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** Runs each handler in a pooled PostgreSQL transaction of its own (for the memory guard store). */
function pooled(pool: pg.Pool, handlers: TccHandlers<pg.PoolClient>): TccHandlers<undefined> {
  const wrap =
    (phase: keyof TccHandlers<pg.PoolClient>) =>
    (payload: unknown, context: Parameters<TccHandlers<undefined>['try']>[1]) =>
      inTransaction(pool, async (client) => handlers[phase](payload, { ...context, db: client }));
  return { try: wrap('try'), confirm: wrap('confirm'), cancel: wrap('cancel') };
}

/** try + confirm of one branch per call, guarded or not, `calls` in all from `concurrency` callers. */
async function guardRound(
  pool: pg.Pool,
  schema: string,
  guard: ReturnType<typeof createTccGuard<pg.PoolClient>>,
  guarded: boolean,
  calls: number,
  concurrency: number,
): Promise<number> {
  const table = `${schema}.guard_bench_holds`;
  const { seconds } = await runConcurrently(concurrency, calls, async () => {
    const id = randomUUID();
    const hold = (db: pg.PoolClient) =>
      db.query(`INSERT INTO ${table} (id, amount, status) VALUES ($1, 1, 'held')`, [id]);
    const confirm = (db: pg.PoolClient) =>
      db.query(`UPDATE ${table} SET status = 'confirmed' WHERE id = $1`, [id]);
    if (!guarded) {
      await inTransaction(pool, hold);
      await inTransaction(pool, confirm);
      return 0;
    }
    const key = { transaction: id, branch: 'b' };
    const tried = await guard.try(key, hold, {
      resource: 'bench',
      payload: null,
      expiresAt: Date.now() + 60_000,
      cancel: async () => undefined,
    });
    if (tried.outcome !== 'tried') throw new Error(`try ${id} was ${tried.outcome}`);
    const confirmed = await guard.confirm(key, confirm, async () => undefined);
    if (confirmed.outcome !== 'confirmed') throw new Error(`confirm ${id} was ${confirmed.outcome}`);
    return 0;
  });
  return calls / seconds;
}

const benchmark: Benchmark = {
  name: 'tcc',
  description:
    'TCC sagas (4 branches tried in parallel, then confirmed: 2 HTTP + 2 Kafka participants, each guarded in PostgreSQL with its hold in the same transaction) through the Kafka coordinator at 1 / 10 / 100 concurrent begins, and at 100 with the guards in memory; baseline = one Kafka transaction per transition (raw kafkajs, sequential). Guard cost: try + confirm of one branch with the PostgreSQL guard vs the same writes unguarded, 8 callers, 6 interleaved rounds.',
  async run({ brokers, log }) {
    const pool = new pg.Pool({
      host: process.env.PGHOST ?? '127.0.0.1',
      port: Number(process.env.PGPORT ?? 5432),
      user: process.env.PGUSER ?? 'postgres',
      database: process.env.PGDATABASE ?? 'test',
      max: 16,
    });
    const schema = `bench_tcc_${randomUUID().slice(0, 8)}`;
    await pool.query(`CREATE SCHEMA ${schema}`);
    const servers: Server[] = [];
    const stops: Array<() => Promise<void>> = [];
    try {
      const kafka = { brokers, clientId: 'bench-tcc' };
      /** Four participants (2 HTTP, 2 Kafka) guarded in PostgreSQL or in memory, and a coordinator. */
      const deploy = async (store: 'postgres' | 'memory') => {
        const topics = sagaTopics(`bench-tcc-${store}-${Date.now()}`);
        await ensureSagaTopics(kafka, topics, { partitions: 6, participants: [...kafkaParticipants] });
        const guardFor = async (participant: string) => {
          const table = `${participant}_${store}`;
          await pool.query(
            `CREATE TABLE ${schema}.${table}_holds (id text PRIMARY KEY, amount int NOT NULL, status text NOT NULL)`,
          );
          if (store === 'memory') return createTccGuard({ store: memoryGuardStore() });
          const guardStore = postgresGuardStore<pg.PoolClient>({ pool, schema, table: `${table}_guard` });
          await guardStore.ensureSchema();
          return createTccGuard({ store: guardStore });
        };
        // The memory guard's handlers still write their holds to PostgreSQL, through the pool.
        const handlersFor = (participant: string) => {
          const table = `${participant}_${store}_holds`;
          return store === 'postgres' ? holds(schema, table) : pooled(pool, holds(schema, table));
        };
        const urls: Record<string, ReturnType<typeof httpTccParticipant>> = {};
        for (const participant of httpParticipants) {
          const handler = tccHttpHandler(handlersFor(participant) as TccHandlers<unknown>, {
            guard: (await guardFor(participant)) as ReturnType<typeof createTccGuard<unknown>>,
            basePath: `/${participant}`,
          });
          const server = createServer(handler);
          server.keepAliveTimeout = 60_000;
          server.listen(0, '127.0.0.1');
          await once(server, 'listening');
          servers.push(server);
          stops.push(() => handler.close());
          const port = (server.address() as AddressInfo).port;
          urls[participant] = httpTccParticipant({ url: `http://127.0.0.1:${port}/${participant}` });
        }
        for (const participant of kafkaParticipants) {
          const guard = (await guardFor(participant)) as ReturnType<typeof createTccGuard<unknown>>;
          const service = createSagaParticipant({
            kafka,
            participant,
            topics,
            commands: {
              [participant]: tccCommands(handlersFor(participant) as TccHandlers<unknown>, {
                guard,
                resource: participant,
              }),
            },
          });
          await service.start();
          stops.push(() => service.stop());
        }
        const coordinator = createSagaCoordinator({ kafka, sagas: [trip], topics, httpParticipants: urls });
        await coordinator.start();
        stops.push(() => coordinator.stop());
        return { coordinator, topics };
      };
      const { coordinator, topics } = await deploy('postgres');

      const runOn = async (on: typeof coordinator): Promise<number> => {
        const started = performance.now();
        const id = await on.begin(trip, { tripId: randomUUID(), amount: 10 });
        const outcome = await on.result(id);
        if (outcome !== 'completed') throw new Error(`TCC saga ${id} ended ${outcome}`);
        return performance.now() - started;
      };
      const runOne = () => runOn(coordinator);
      await warmUp(runOne, 30_000, 50);

      const probe = await coordinator.begin(trip, { tripId: 'probe', amount: 1 });
      await coordinator.result(probe);
      const transitions = (await coordinator.status(probe))?.seq ?? Number.NaN;
      const naiveTps = await naiveTransactionsPerSecond(
        brokers,
        topics.inbox.replace('inbox', 'naive'),
        300,
        1_200,
      );
      const naivePerSecond = naiveTps / transitions;
      log(`naive: ${Math.round(naiveTps)} transactions/s, ${transitions} transitions per TCC saga`);

      const results: BenchResult[] = [];
      for (const [concurrency, total] of [
        [1, 100],
        [10, 600],
        [100, 2_000],
      ] as const) {
        const { seconds, latencies } = await runConcurrently(concurrency, total, runOne);
        log(
          `${concurrency} concurrent: ${Math.round(total / seconds)} TCC transactions/s, p99 ${Math.round(percentile(latencies, 99))} ms`,
        );
        const naiveLatency = (transitions / naiveTps) * 1_000;
        results.push(result(`${concurrency} concurrent`, 'TCC tx/s', total / seconds, naivePerSecond));
        results.push(result(`${concurrency} concurrent p50`, 'ms', percentile(latencies, 50), naiveLatency));
        results.push(result(`${concurrency} concurrent p99`, 'ms', percentile(latencies, 99), naiveLatency));
      }

      // Where the time goes: the same load with the guards in memory (holds still in PostgreSQL).
      const memory = await deploy('memory');
      await warmUp(() => runOn(memory.coordinator), 0, 1, 50);
      const inMemory = await runConcurrently(100, 2_000, () => runOn(memory.coordinator));
      log(`100 concurrent, memory guards: ${Math.round(2_000 / inMemory.seconds)} TCC transactions/s`);
      results.push(
        result('100 concurrent, guards in memory', 'TCC tx/s', 2_000 / inMemory.seconds, naivePerSecond),
      );

      // The guard's cost per call, PostgreSQL store.
      await pool.query(
        `CREATE TABLE ${schema}.guard_bench_holds (id text PRIMARY KEY, amount int NOT NULL, status text NOT NULL)`,
      );
      const benchStore = postgresGuardStore<pg.PoolClient>({ pool, schema, table: 'bench_guard' });
      await benchStore.ensureSchema();
      const benchGuard = createTccGuard({ store: benchStore });
      await guardRound(pool, schema, benchGuard, true, 300, 8);
      await guardRound(pool, schema, benchGuard, false, 300, 8);
      const guarded: number[] = [];
      const plain: number[] = [];
      for (let round = 0; round < 6; round++) {
        // A/B, then B/A: neither side always runs first.
        if (round % 2 === 0) {
          guarded.push(await guardRound(pool, schema, benchGuard, true, 1_000, 8));
          plain.push(await guardRound(pool, schema, benchGuard, false, 1_000, 8));
        } else {
          plain.push(await guardRound(pool, schema, benchGuard, false, 1_000, 8));
          guarded.push(await guardRound(pool, schema, benchGuard, true, 1_000, 8));
        }
      }
      const guardResult = roundsResult('guard try+confirm vs unguarded writes', 'branches/s', guarded, plain);
      results.push(guardResult);
      const perCallUs = (1 / guardResult.value - 1 / guardResult.baseline) * 1e6;
      log(`guard: ${Math.round(perCallUs)} µs more per branch (try + confirm), at 8 callers`);
      results.push(
        result(
          'guard cost per branch (try + confirm)',
          'ms',
          perCallUs / 1_000,
          (1 / guardResult.baseline) * 1_000,
        ),
      );
      return results;
    } finally {
      for (const stop of stops.reverse()) await stop();
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    }
  },
};

export default benchmark;
