// Coordinators started and stopped again and again leave no consumer group behind but the
// coordinator group itself: each log view's group is deleted when the view stops.
import { createAdmin } from '@cascade/producer';
import { createSagaCoordinator, defineSaga, ensureSagaTopics, sagaTopics } from '@cascade/saga';
import { describe, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';

const saga = defineSaga<{ id: string }>('groups')
  .step('reserve', { participant: 'inventory', invoke: ({ input }) => input })
  .build();

describe('saga log view groups', () => {
  it('are gone after each of 20 coordinator starts and stops', { timeout: 300_000 }, async () => {
    const kafka = { brokers: cluster().brokers, clientId: uniqueName('log-groups') };
    const topics = sagaTopics(uniqueName('log-groups'));
    await ensureSagaTopics(kafka, topics, { partitions: 2, participants: ['inventory'] });
    const groupId = `${topics.inbox}.coordinator`;
    await using admin = createAdmin({ kafka });
    const ours = async (): Promise<string[]> =>
      (await admin.listGroups()).map((g) => g.groupId).filter((id) => id.startsWith(groupId));
    for (let round = 1; round <= 20; round++) {
      const coordinator = createSagaCoordinator({ kafka, sagas: [saga], topics });
      await coordinator.start();
      // While it runs: the coordinator group and one log view group.
      const running = await ours();
      expect(
        running.filter((id) => id.startsWith(`${groupId}.log-view.`)),
        `round ${round}`,
      ).toHaveLength(1);
      await coordinator.close();
      expect(await ours(), `round ${round}`).toEqual([groupId]);
    }
  });
});
