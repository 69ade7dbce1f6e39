// A coordinator killed with sagas in flight: another one takes its partitions over, rebuilds the
// sagas from the log and finishes every one, and no participant applies any effect twice.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  ensureSagaTopics,
  type SagaOutcome,
  sagaTopics,
} from '@cascade/saga';
import { describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';
import { declined, order, placeOrder } from './fixtures/place-order.js';

const fixture = fileURLToPath(new URL('./fixtures/coordinator-process.ts', import.meta.url));
const sagas = 60;

describe('saga coordinator crash recovery', () => {
  it('finishes every saga after the coordinator is killed mid-flight, applying no effect twice', async () => {
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

    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@cascade/source',
        fixture,
        kafka.brokers.join(','),
        prefix,
        String(sagas),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`coordinator process exited with ${code}`)));
    });
    // Kill it while sagas are in flight: some steps applied, most sagas not finished.
    await waitFor(
      () => applied.length >= 10,
      () => `participants to apply some effects, have ${applied.length}`,
    );
    child.kill('SIGKILL');
    const appliedAtKill = applied.length;

    await using successor = createSagaCoordinator({
      kafka,
      sagas: [placeOrder],
      topics,
      sessionTimeoutMs: 6_000,
    });
    await successor.start();
    const outcomes: SagaOutcome[] = await Promise.all(
      Array.from({ length: sagas }, (_, i) => successor.result(`crash-${i}`)),
    );

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
  });
});
