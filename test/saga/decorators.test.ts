// Decorated saga participants on the real broker, compiled under both TypeScript decorator modes:
// standard ECMAScript decorators and experimentalDecorators. The fixture is compiled with the
// TypeScript API because Vite's transform does not lower decorators.
import { ConfigError } from '@cascade/core';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  participantFrom,
  sagaTopics,
} from '@cascade/saga';
import { describe, expect, it } from 'vitest';
import { loadDecoratorFixture } from '../support/decorators.js';
import { cluster, uniqueName } from '../support/kafka.js';
import type { defineInventory } from './fixtures/inventory-participant.js';

async function load(experimentalDecorators: boolean): Promise<typeof defineInventory> {
  const fixture = new URL('./fixtures/inventory-participant.ts', import.meta.url);
  return (
    await loadDecoratorFixture<{ defineInventory: typeof defineInventory }>(fixture, experimentalDecorators)
  ).defineInventory;
}

const saga = defineSaga<{ id: string }>('decorated')
  .step('reserve-stock', {
    participant: 'inventory',
    invoke: ({ input }) => input,
    compensate: ({ input }) => input,
  })
  .step('charge', { participant: 'payment', invoke: ({ input }) => input })
  .build();

describe.each([
  ['standard ECMAScript decorators', false],
  ['experimentalDecorators', true],
])('decorated saga participants (%s)', (_mode, experimental) => {
  it('routes commands and compensations to the decorated methods', async () => {
    const entries: string[] = [];
    const Inventory = (await load(experimental))(entries, 5);
    const inventory = new Inventory();
    const kafka = { brokers: cluster().brokers, clientId: uniqueName('decorated') };
    const topics = sagaTopics(uniqueName('decorated'));
    await ensureSagaTopics(kafka, topics, { partitions: 2, participants: ['inventory', 'payment'] });
    await using participant = createSagaParticipant({ kafka, topics, ...participantFrom(inventory) });
    await using payment = createSagaParticipant({
      kafka,
      participant: 'payment',
      topics,
      commands: {
        charge: {
          invoke: (payload) => {
            if ((payload as { id: string }).id === 'declined')
              throw new BusinessFailure('CardDeclined', 'no');
            return { charged: true };
          },
        },
      },
    });
    await using coordinator = createSagaCoordinator({ kafka, sagas: [saga], topics });
    await Promise.all([participant.start(), payment.start(), coordinator.start()]);

    const ok = await coordinator.begin(saga, { id: 'fine' }, { sagaId: 's-ok' });
    const declined = await coordinator.begin(saga, { id: 'declined' }, { sagaId: 's-declined' });

    expect(await coordinator.result(ok)).toBe('completed');
    expect(await coordinator.result(declined)).toBe('compensated');
    expect(entries.filter((e) => e.endsWith('s-ok'))).toEqual(['reserve s-ok']);
    expect(entries.filter((e) => e.endsWith('s-declined'))).toEqual([
      'reserve s-declined',
      'release s-declined',
    ]);
    expect(inventory.stock).toBe(4);
  });
});

it('refuses an object whose class is not a @SagaParticipant', () => {
  expect(() => participantFrom(new (class Plain {})())).toThrowError(ConfigError);
});
