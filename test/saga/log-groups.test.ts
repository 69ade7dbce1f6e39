// Coordinators started and stopped again and again leave no consumer group behind but the
// coordinator group itself: the saga log is read by partition in no consumer group (before #17 a
// coordinator's log view joined a group of its own on every start, and left it behind).
import { createAdmin } from '@cascade/producer';
import { createSagaCoordinator, defineSaga, ensureSagaTopics, sagaTopics } from '@cascade/saga';
import { describe, expect, it } from 'vitest';
import { cluster, uniqueName, waitFor } from '../support/kafka.js';

const saga = defineSaga<{ id: string }>('groups')
  .step('reserve', { participant: 'inventory', invoke: ({ input }) => input })
  .build();

describe('saga log readers', () => {
  it('join no consumer group: 20 coordinator starts and stops leave only the coordinator group', {
    timeout: 300_000,
  }, async () => {
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
      // While it runs, with its partitions restored from the log: the coordinator group only.
      await waitFor(
        () => coordinator.partitions().length === 2,
        () => `round ${round}: both partitions restored, has ${JSON.stringify(coordinator.partitions())}`,
      );
      expect(await ours(), `round ${round}`).toEqual([groupId]);
      await coordinator.close();
      expect(await ours(), `round ${round}`).toEqual([groupId]);
    }
  });
});
