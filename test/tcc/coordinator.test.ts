// TCC end to end: the saga coordinator on the real broker, a payment participant over real HTTP
// (node:http on loopback) guarded in PostgreSQL, and a seat participant over Kafka. Each test
// checks the participants' own books, not just the saga's status.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@cascade/core';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  createTccGuard,
  ensureSagaTopics,
  httpTccParticipant,
  memoryGuardStore,
  type Participant,
  postgresGuardStore,
  type SagaCoordinator,
  type SagaCoordinatorOptions,
  type SagaDefinition,
  type SagaNotification,
  type SagaState,
  type SagaTopics,
  sagaTopics,
  type TccContext,
  type TccHandlers,
  type TccHttpHandler,
  tccCommands,
  tccHttpHandler,
} from '@cascade/saga';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';
import { testPool } from '../support/postgres.js';
import { type Booking, bookTrip } from './fixtures/booking.js';

const schema = `tcc_coord_${randomUUID().slice(0, 8)}`;
const pool = testPool(8);
const kafka = () => ({ brokers: cluster().brokers, clientId: uniqueName('tcc-test') });

beforeAll(async () => {
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(
    `CREATE TABLE ${schema}.accounts (id text PRIMARY KEY, balance bigint NOT NULL, held bigint NOT NULL DEFAULT 0)`,
  );
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
});

/** The try's payload, which the guard hands to a confirm. */
function triedPayload<T>(context: TccContext<unknown>): T {
  if (context.tried === undefined) throw new Error(`no stored try for ${context.transaction}`);
  return context.tried.payload as T;
}

/**
 * The payment service: holds on try, captures on confirm, releases on cancel. (Plain handler
 * objects here: Vite does not lower decorators; test/tcc covers the decorated form separately.)
 */
class Payments {
  readonly calls: string[] = [];

  async hold(payload: unknown, context: TccContext<pg.PoolClient>) {
    const { account, amountCents } = payload as { account: string; amountCents: number };
    const held = await context.db.query(
      `UPDATE ${schema}.accounts SET held = held + $2 WHERE id = $1 AND balance - held >= $2`,
      [account, amountCents],
    );
    if (held.rowCount === 0)
      throw new BusinessFailure('InsufficientFunds', `${account} cannot pay ${amountCents}`);
    this.calls.push(`try ${context.transaction}`);
    return { holdId: `h-${context.transaction}` };
  }

  async capture(_payload: unknown, context: TccContext<pg.PoolClient>) {
    const { account, amountCents } = triedPayload<{ account: string; amountCents: number }>(context);
    await context.db.query(
      `UPDATE ${schema}.accounts SET balance = balance - $2, held = held - $2 WHERE id = $1`,
      [account, amountCents],
    );
    this.calls.push(`confirm ${context.transaction}`);
  }

  async release(_payload: unknown, context: TccContext<pg.PoolClient>) {
    this.calls.push(`cancel ${context.transaction} (${context.cause}${context.tried ? '' : ', empty'})`);
    if (context.tried === undefined) return;
    const { account, amountCents } = context.tried.payload as { account: string; amountCents: number };
    await context.db.query(`UPDATE ${schema}.accounts SET held = held - $2 WHERE id = $1`, [
      account,
      amountCents,
    ]);
  }

  count(prefix: string): number {
    return this.calls.filter((call) => call.startsWith(prefix)).length;
  }

  handlers(): TccHandlers<pg.PoolClient> {
    return {
      try: (payload, context) => this.hold(payload, context),
      confirm: (payload, context) => this.capture(payload, context),
      cancel: (payload, context) => this.release(payload, context),
    };
  }
}

/** The seat service, over Kafka: free → held → sold, or back to free. */
class Seats {
  readonly seats = new Map<string, 'held' | 'sold'>();

  hold(payload: unknown) {
    const { seat } = payload as { seat: string };
    if (this.seats.has(seat)) throw new BusinessFailure('SeatTaken', `${seat} is taken`);
    this.seats.set(seat, 'held');
    return { seat };
  }

  sell(_payload: unknown, context: TccContext) {
    this.seats.set(triedPayload<{ seat: string }>(context).seat, 'sold');
  }

  free(_payload: unknown, context: TccContext) {
    const seat = (context.tried?.payload as { seat: string } | undefined)?.seat;
    if (seat !== undefined && this.seats.get(seat) === 'held') this.seats.delete(seat);
  }

  handlers(): TccHandlers {
    return {
      try: (payload) => this.hold(payload),
      confirm: (payload, context) => this.sell(payload, context),
      cancel: (payload, context) => this.free(payload, context),
    };
  }
}

/**
 * The payment service's HTTP server. `intercept` may answer a request itself (an outage, a
 * misbehaving participant) or hold it back (`'hold'`: a slow network) until `release()`.
 */
class PaymentServer {
  intercept: (request: IncomingMessage, response: ServerResponse) => 'pass' | 'handled' | 'hold' = () =>
    'pass';
  readonly held: Array<() => void> = [];
  /** Every answer the server gave, in order. */
  readonly answers: Array<{ method: string; status: number }> = [];
  readonly server: Server;
  url = '';

  constructor(readonly handler: TccHttpHandler) {
    this.server = createServer((request, response) => {
      response.once('finish', () =>
        this.answers.push({ method: request.method ?? '', status: response.statusCode }),
      );
      const verdict = this.intercept(request, response);
      if (verdict === 'handled') return;
      if (verdict === 'hold') this.held.push(() => handler(request, response));
      else handler(request, response);
    });
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/payments/authorize`;
  }

  release(): void {
    for (const pass of this.held.splice(0)) pass();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    this.server.close();
    await this.handler.close();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Deployment {
  readonly prefix: string;
  readonly topics: SagaTopics;
  readonly payments: Payments;
  readonly seats: Seats;
  readonly server: PaymentServer;
  readonly notifications: SagaNotification[];
  readonly attention: SagaState[];
  readonly logs: string[];
  coordinator: SagaCoordinator;
  startCoordinator(saga: SagaDefinition<Booking>): Promise<SagaCoordinator>;
  account(id: string, balance: number): Promise<void>;
  balance(id: string): Promise<{ balance: number; held: number }>;
}

async function deploy(
  options: {
    coordinator?: Partial<SagaCoordinatorOptions>;
    startCoordinator?: boolean;
    saga?: SagaDefinition<Booking>;
  } = {},
): Promise<Deployment> {
  const prefix = uniqueName('tcc');
  const topics = sagaTopics(prefix);
  await ensureSagaTopics(kafka(), topics, { partitions: 2, participants: ['seats'] });

  const store = postgresGuardStore<pg.PoolClient>({
    pool,
    schema,
    table: `guard_${randomUUID().slice(0, 8)}`,
  });
  await store.ensureSchema();
  const paymentGuard = createTccGuard({ store });
  const payments = new Payments();
  const handler = tccHttpHandler(payments.handlers(), {
    guard: paymentGuard,
    basePath: '/payments/authorize',
    defaultTtlMs: 60_000,
  });
  const server = new PaymentServer(handler);
  await server.listen();
  cleanups.push(() => server.close());

  const seats = new Seats();
  const seatParticipant: Participant = createSagaParticipant({
    kafka: kafka(),
    participant: 'seats',
    topics,
    commands: {
      seat: tccCommands(seats.handlers(), {
        guard: createTccGuard({ store: memoryGuardStore() }),
        resource: 'seat',
      }),
    },
  });
  await seatParticipant.start();
  cleanups.push(() => seatParticipant.stop());

  const notifications: SagaNotification[] = [];
  const attention: SagaState[] = [];
  const logs: string[] = [];
  const deployment: Deployment = {
    prefix,
    topics,
    payments,
    seats,
    server,
    notifications,
    attention,
    logs,
    coordinator: undefined as unknown as SagaCoordinator,
    async startCoordinator(saga) {
      const coordinator = createSagaCoordinator({
        kafka: kafka(),
        sagas: [saga],
        topics,
        sessionTimeoutMs: 6_000,
        httpParticipants: { payments: httpTccParticipant({ url: server.url, timeoutMs: 2_000 }) },
        onNeedsAttention: (state) => attention.push(state),
        logger: createLogger(
          (level, message, meta) => logs.push(`${level} ${message} ${JSON.stringify(meta)}`),
          {
            level: 'info',
          },
        ),
        ...options.coordinator,
      });
      coordinator.onNotification((notification) => notifications.push(notification));
      await coordinator.start();
      cleanups.push(() => coordinator.stop());
      deployment.coordinator = coordinator;
      return coordinator;
    },
    async account(id, balance) {
      await pool.query(`INSERT INTO ${schema}.accounts (id, balance) VALUES ($1, $2)`, [id, balance]);
    },
    async balance(id) {
      const { rows } = await pool.query(`SELECT balance, held FROM ${schema}.accounts WHERE id = $1`, [id]);
      return { balance: Number(rows[0]?.balance), held: Number(rows[0]?.held) };
    },
  };
  if (options.startCoordinator !== false) await deployment.startCoordinator(options.saga ?? bookTrip());
  return deployment;
}

function booking(account: string, seat: string, amountCents = 1_000): Booking {
  return { bookingId: uniqueName('b'), account, amountCents, seat };
}

describe('TCC sagas over HTTP and Kafka', () => {
  it('tries both participants, then confirms both: money captured once, seats sold', async () => {
    const d = await deploy();
    const account = uniqueName('acct');
    await d.account(account, 10_000);
    const saga = bookTrip();
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) => d.coordinator.begin(saga, booking(account, `${account}-A${i}`))),
    );
    expect(await Promise.all(ids.map((id) => d.coordinator.result(id)))).toEqual(Array(6).fill('completed'));
    expect(await d.balance(account)).toEqual({ balance: 4_000, held: 0 });
    expect(d.payments.count('try')).toBe(6);
    expect(d.payments.count('confirm')).toBe(6);
    expect(d.payments.count('cancel')).toBe(0);
    expect([...d.seats.seats.values()]).toEqual(Array(6).fill('sold'));
    const state = await d.coordinator.status(ids[0] as string);
    expect(state?.steps.authorize).toMatchObject({ status: 'confirmed' });
    expect(state?.steps.authorize?.reservationUri).toMatch(/\/payments\/authorize\/.+\/authorize$/);
  });

  it('cancels the seat and pays nothing when the payment try is refused', async () => {
    const d = await deploy();
    const account = uniqueName('acct');
    await d.account(account, 500);
    const id = await d.coordinator.begin(bookTrip(), booking(account, `${account}-B1`, 900));
    expect(await d.coordinator.result(id)).toBe('compensated');
    expect((await d.coordinator.status(id))?.failure).toMatchObject({
      step: 'authorize',
      error: { type: 'InsufficientFunds' },
    });
    expect(await d.balance(account)).toEqual({ balance: 500, held: 0 });
    expect(d.seats.seats.size).toBe(0);
    expect(d.payments.count('cancel')).toBe(0);
  });

  it('keeps retrying a confirm while the participant is down, parks it behind an open circuit, and confirms once back', async () => {
    const d = await deploy({
      coordinator: {
        circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 400 },
      },
    });
    const account = uniqueName('acct');
    await d.account(account, 5_000);
    let refusedConfirms = 0;
    d.server.intercept = (request, response) => {
      if (request.method !== 'PUT') return 'pass';
      refusedConfirms += 1;
      response.writeHead(503).end();
      return 'handled';
    };
    const id = await d.coordinator.begin(bookTrip(), booking(account, `${account}-C1`));
    await waitFor(
      () => d.logs.some((line) => line.includes('Participant circuit opened')),
      () => `the payments circuit to open (confirms refused: ${refusedConfirms})`,
    );
    await waitFor(
      () => d.notifications.some((n) => n.sagaId === id && n.kind === 'step-parked'),
      () => 'a parked confirm',
    );
    expect((await d.coordinator.status(id))?.status).toBe('confirming');
    d.server.intercept = () => 'pass';
    expect(await d.coordinator.result(id)).toBe('completed');
    await waitFor(
      () => d.logs.some((line) => line.includes('Participant circuit closed')),
      () => 'the payments circuit to close',
    );
    expect(refusedConfirms).toBeGreaterThanOrEqual(2);
    expect(await d.balance(account)).toEqual({ balance: 4_000, held: 0 });
    expect(d.payments.count('confirm')).toBe(1);
  });

  it('cancels instead of confirming when the reservation would expire before the saga could confirm', async () => {
    let release: () => void = () => undefined;
    const ticketWaits = new Promise<void>((resolve) => {
      release = resolve;
    });
    const saga = bookTrip({ paymentTtlMs: 1_500, ticket: () => ticketWaits.then(() => ({ late: true })) });
    const d = await deploy({ saga });
    const account = uniqueName('acct');
    await d.account(account, 5_000);
    const id = await d.coordinator.begin(saga, booking(account, `${account}-D1`));
    await waitFor(
      () => d.notifications.some((n) => n.sagaId === id && n.kind === 'compensating'),
      () => 'the saga to give up on its expiring reservation',
    );
    release();
    expect(await d.coordinator.result(id)).toBe('compensated');
    expect((await d.coordinator.status(id))?.failure).toMatchObject({
      step: 'authorize',
      error: { type: 'ReservationExpired' },
    });
    expect(await d.balance(account)).toEqual({ balance: 5_000, held: 0 });
    expect(d.payments.count('confirm')).toBe(0);
    expect(d.payments.count('cancel')).toBe(1);
    expect(d.seats.seats.size).toBe(0);
  });

  it('ends heuristic-mixed, and calls for attention, when one participant confirmed and the other had cancelled', async () => {
    const d = await deploy();
    const account = uniqueName('acct');
    await d.account(account, 5_000);
    // The payment participant cancels the reservation on its own just before the confirm comes
    // (its expiry job, with a clock ahead of the coordinator's): the confirm is answered 410.
    d.server.intercept = (request) => {
      if (request.method !== 'PUT') return 'pass';
      void fetch(`${new URL(d.server.url).origin}${request.url}`, { method: 'DELETE' }).then(() =>
        d.server.release(),
      );
      return 'hold';
    };
    const id = await d.coordinator.begin(bookTrip(), booking(account, `${account}-E1`));
    expect(await d.coordinator.result(id)).toBe('heuristic-mixed');
    const state = await d.coordinator.status(id);
    expect(state?.heuristic).toEqual({ confirmed: ['seat'], cancelled: ['authorize'] });
    expect(state?.steps.authorize).toMatchObject({
      status: 'expired',
      lastError: { type: 'ReservationCancelled' },
    });
    // The hook and the notification run once the owner's transaction has committed; result()
    // settles on the committed state read back from the log, which can come first.
    await waitFor(
      () =>
        d.attention.length > 0 &&
        d.notifications.some((n) => n.sagaId === id && n.kind === 'heuristic-mixed'),
      () => `onNeedsAttention and the heuristic-mixed notification for ${id}`,
    );
    expect(d.attention.map((s) => s.sagaId)).toEqual([id]);
    // Nothing hidden, nothing half-done: the money was released, the seat is sold.
    expect(await d.balance(account)).toEqual({ balance: 5_000, held: 0 });
    expect(d.seats.seats.get(`${account}-E1`)).toBe('sold');
  });

  it('records an empty rollback for a try slower than its timeout, and refuses that try when it finally arrives', async () => {
    const saga = bookTrip({ tryTimeoutMs: 400 });
    const d = await deploy({ saga });
    const account = uniqueName('acct');
    await d.account(account, 5_000);
    d.server.intercept = (request) => (request.method === 'POST' ? 'hold' : 'pass');
    const id = await d.coordinator.begin(saga, booking(account, `${account}-F1`));
    expect(await d.coordinator.result(id)).toBe('compensated');
    expect((await d.coordinator.status(id))?.failure).toMatchObject({
      step: 'authorize',
      error: { type: 'Timeout' },
    });
    // The cancel came first, to the conventional URI: an empty rollback, answered 204.
    expect(d.server.answers).toContainEqual({ method: 'DELETE', status: 204 });
    // The hanging try is let through now: refused, and it holds nothing.
    d.server.release();
    await waitFor(
      () => d.server.answers.some((a) => a.method === 'POST'),
      () => 'the late try to be answered',
    );
    expect(d.server.answers.find((a) => a.method === 'POST')).toEqual({ method: 'POST', status: 409 });
    expect(d.payments.count('try')).toBe(0);
    expect(await d.balance(account)).toEqual({ balance: 5_000, held: 0 });
    expect(d.seats.seats.size).toBe(0);
  });

  it('cancels everything when the participant answers a try with a malformed body', async () => {
    const d = await deploy();
    const account = uniqueName('acct');
    await d.account(account, 5_000);
    d.server.intercept = (request, response) => {
      if (request.method !== 'POST') return 'pass';
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"participantLink": ');
      return 'handled';
    };
    const id = await d.coordinator.begin(bookTrip(), booking(account, `${account}-G1`));
    expect(await d.coordinator.result(id)).toBe('compensated');
    expect((await d.coordinator.status(id))?.failure).toMatchObject({
      step: 'authorize',
      error: { type: 'MalformedResponse', nonRetryable: true },
    });
    expect(d.server.answers).toContainEqual({ method: 'DELETE', status: 204 });
    expect(d.seats.seats.size).toBe(0);
  });

  it('answers duplicate confirms and cancels once, and a confirm after a cancel as cancelled', async () => {
    const d = await deploy({ startCoordinator: false });
    const account = uniqueName('acct');
    await d.account(account, 5_000);
    const adapter = httpTccParticipant({ url: d.server.url });
    const call = (sagaId: string, phase: 'invoke' | 'confirm' | 'compensate', reservationUri?: string) =>
      adapter.call({
        sagaId,
        step: 'authorize',
        phase,
        attempt: 1,
        idempotencyKey: `${sagaId}/authorize/${phase}`,
        payload: { account, amountCents: 100 },
        ...(reservationUri === undefined ? {} : { reservationUri }),
      });
    const tried = await call('dup-1', 'invoke');
    const again = await call('dup-1', 'invoke');
    expect(again).toEqual(tried);
    const uri = tried.outcome === 'success' ? tried.reservationUri : undefined;
    expect((await call('dup-1', 'confirm', uri)).outcome).toBe('success');
    expect((await call('dup-1', 'confirm', uri)).outcome).toBe('success');
    expect(d.payments.count('confirm')).toBe(1);

    await call('dup-2', 'invoke');
    expect((await call('dup-2', 'compensate')).outcome).toBe('success');
    expect((await call('dup-2', 'compensate')).outcome).toBe('success');
    expect(d.payments.count('cancel dup-2')).toBe(1);
    expect(await call('dup-2', 'confirm')).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'ReservationCancelled' },
    });
    expect(await d.balance(account)).toEqual({ balance: 4_900, held: 0 });
  });

  it('confirms after the coordinator is killed between the tries and the confirm', async () => {
    const d = await deploy({ startCoordinator: false });
    await d.account('acct-crash', 5_000);
    const sagaId = uniqueName('crash');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@cascade/source',
        fileURLToPath(new URL('./fixtures/tcc-coordinator.ts', import.meta.url)),
        cluster().brokers.join(','),
        d.prefix,
        d.server.url,
        sagaId,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === 'tried') resolve();
      });
      child.once('exit', (code) => reject(new Error(`the coordinator exited (${code}) before both tries`)));
    });
    expect(await d.balance('acct-crash')).toEqual({ balance: 5_000, held: 700 });
    child.kill('SIGKILL');
    await exited;

    const coordinator = await d.startCoordinator(bookTrip());
    expect(await coordinator.result(sagaId)).toBe('completed');
    expect(await d.balance('acct-crash')).toEqual({ balance: 4_300, held: 0 });
    expect(d.payments.count('try')).toBe(1);
    expect(d.payments.count('confirm')).toBe(1);
    expect(d.seats.seats.get('C1')).toBe('sold');
  });
});
