// A coordinator killed with sagas in flight: another one takes its partitions over, rebuilds the
// sagas from the log and finishes every one, and no participant applies any effect twice.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createProducer, murmur2Partition } from '@cascade/producer';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  decide,
  ensureSagaTopics,
  type SagaOutcome,
  sagaTopics,
} from '@cascade/saga';
import { bytes, string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { encodeState } from '../../packages/saga/src/codec.js';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';
import { declined, order, placeOrder } from './fixtures/place-order.js';

const fixture = fileURLToPath(new URL('./fixtures/coordinator-process.ts', import.meta.url));
/**
 * Runs `sagas` sagas while coordinator processes are killed (`kill -9`) at random moments: the
 * first process begins the sagas, each later one just takes over; after the last kill, `survivor`
 * (in this process, already in the group or started then) must finish every saga.
 */
async function killMidFlight(options: {
  survivorRunning: boolean;
  sagas: number;
  kills: number;
}): Promise<void> {
  const { sagas } = options;
  const kafka = { brokers: cluster().brokers, clientId: uniqueName('recovery') };
  const prefix = uniqueName('crash');
  const topics = sagaTopics(prefix);
  await ensureSagaTopics(kafka, topics, { partitions: 3, participants: ['inventory', 'payment'] });
  const applied: string[] = [];
  const slowly = () => new Promise((resolve) => setImmediate(resolve));
  await using inventory = createSagaParticipant({
    kafka,
    participant: 'inventory',
    topics,
    commands: {
      'reserve-stock': {
        invoke: async (payload) => {
          await slowly();
          applied.push(`reserve ${(payload as { orderId: string }).orderId}`);
          return { reservationId: 'r' };
        },
        compensate: (payload) => void applied.push(`release ${(payload as { orderId: string }).orderId}`),
      },
    },
  });
  await using payment = createSagaParticipant({
    kafka,
    participant: 'payment',
    topics,
    commands: {
      'charge-card': {
        invoke: async (payload) => {
          await slowly();
          const { orderId, amountCents } = payload as { orderId: string; amountCents: number };
          if (declined(amountCents)) throw new BusinessFailure('CardDeclined', 'declined');
          applied.push(`charge ${orderId}`);
          return { chargeId: `c-${orderId}` };
        },
        compensate: (payload) => void applied.push(`refund ${(payload as { orderId: string }).orderId}`),
      },
    },
  });
  await Promise.all([inventory.start(), payment.start()]);

  await using survivor = createSagaCoordinator({
    kafka,
    sagas: [placeOrder],
    topics,
    sessionTimeoutMs: 6_000,
  });
  if (options.survivorRunning) await survivor.start();
  const startProcess = async (begin: number) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@cascade/source',
        fixture,
        kafka.brokers.join(','),
        prefix,
        String(begin),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`coordinator process exited with ${code}`)));
    });
    return child;
  };
  // Kill points: numbers of applied effects, random, rising, while most sagas are unfinished.
  const killPoints = Array.from(
    { length: options.kills },
    () => 5 + Math.floor(Math.random() * sagas * 0.8),
  ).sort((a, b) => a - b);
  // biome-ignore lint/suspicious/noConsole: the kill points of a randomized run, to reproduce a failure
  console.log(`Killing coordinator processes when ${killPoints.join(', ')} effects have been applied`);
  for (const [index, point] of killPoints.entries()) {
    const child = await startProcess(index === 0 ? sagas : 0);
    await waitFor(
      () => applied.length >= point,
      () => `participants to apply ${point} effects, have ${applied.length}`,
      60_000,
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const appliedAtKill = applied.length;

  if (!options.survivorRunning) await survivor.start();
  const outcomes: SagaOutcome[] = await Promise.all(
    Array.from({ length: sagas }, (_, i) =>
      survivor.result(`crash-${i}`, { signal: AbortSignal.timeout(60_000) }),
    ),
  ).catch(async (error: unknown) => {
    const states = await Promise.all(Array.from({ length: sagas }, (_, i) => survivor.status(`crash-${i}`)));
    const unfinished = states.filter(
      (state) => state === undefined || !['completed', 'compensated'].includes(state.status),
    );
    // biome-ignore lint/suspicious/noConsole: what was left unfinished when the run failed
    console.error(`Unfinished sagas: ${unfinished.length}`, JSON.stringify(unfinished.slice(0, 3)));
    throw error;
  });

  expect(appliedAtKill).toBeLessThan(sagas * 2);
  for (let i = 0; i < sagas; i++) {
    const { orderId, amountCents } = order(i);
    const effects = applied.filter((entry) => entry.endsWith(` ${orderId}`));
    if (declined(amountCents)) {
      expect(outcomes[i]).toBe('compensated');
      expect(effects).toEqual([`reserve ${orderId}`, `release ${orderId}`]);
    } else {
      expect(outcomes[i]).toBe('completed');
      expect(effects).toEqual([`reserve ${orderId}`, `charge ${orderId}`]);
    }
  }
}

describe('saga coordinator crash recovery', () => {
  it('resumes a saga whose local step was never reported, though its inbox stays quiet', async () => {
    const kafka = { brokers: cluster().brokers, clientId: uniqueName('resume') };
    const topics = sagaTopics(uniqueName('resume'));
    // No participant runs here, but start() checks that the command topics the saga names exist.
    await ensureSagaTopics(kafka, topics, { partitions: 3, participants: ['inventory', 'payment'] });
    // The log as a coordinator leaves it when it dies right after committing the transition that
    // starts the local step confirm-order, before the step's outcome reached the inbox.
    const sagaId = 'resume-1';
    let state = decide(
      placeOrder,
      undefined,
      { type: 'begin', sagaId, input: order(1) },
      { now: Date.now() },
    ).state;
    for (const [step, result] of [
      ['reserve-stock', { reservationId: 'r' }],
      ['charge-card', { chargeId: 'c-o-1' }],
    ] as const) {
      const event = { type: 'reply', step, phase: 'invoke', attempt: 1, outcome: 'success', result } as const;
      state = decide(placeOrder, state, event, { now: Date.now() }).state;
    }
    expect(state.steps['confirm-order']?.outstanding?.phase).toBe('invoke');
    const log = createProducer({ ...kafka, key: string(), value: bytes() });
    await log.connect();
    await log.send({
      topic: topics.log,
      key: sagaId,
      value: encodeState(state),
      partition: murmur2Partition(Buffer.from(sagaId), 3),
    });
    await log.close();

    await using coordinator = createSagaCoordinator({
      kafka,
      sagas: [placeOrder],
      topics,
      sessionTimeoutMs: 6_000,
    });
    await coordinator.start();

    expect(await coordinator.result(sagaId, { signal: AbortSignal.timeout(60_000) })).toBe('completed');
    expect((await coordinator.status(sagaId))?.steps['confirm-order']).toMatchObject({
      status: 'succeeded',
      result: { confirmed: 'c-o-1' },
    });
  });

  it('finishes all of 200 sagas after coordinator processes are killed three times at random, applying no effect twice', async () => {
    await killMidFlight({ survivorRunning: false, sagas: 200, kills: 3 });
  });

  it('moves the sagas of a killed coordinator to the other one in its group', async () => {
    await killMidFlight({ survivorRunning: true, sagas: 60, kills: 1 });
  });
});
