import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { topicReplication } from './topics.js';

describe('topicReplication', () => {
  it('fits the cluster: min(3, brokers), min ISR one less (at least 1)', () => {
    expect([1, 2, 3, 5, 12].map((brokers) => topicReplication(brokers))).toEqual([
      { replicationFactor: 1, minInsyncReplicas: 1 },
      { replicationFactor: 2, minInsyncReplicas: 1 },
      { replicationFactor: 3, minInsyncReplicas: 2 },
      { replicationFactor: 3, minInsyncReplicas: 2 },
      { replicationFactor: 3, minInsyncReplicas: 2 },
    ]);
  });

  it('takes overrides, deriving min ISR from a given replication factor', () => {
    expect(topicReplication(5, { replicationFactor: 5 })).toEqual({
      replicationFactor: 5,
      minInsyncReplicas: 4,
    });
    expect(topicReplication(3, { minInsyncReplicas: 1 })).toEqual({
      replicationFactor: 3,
      minInsyncReplicas: 1,
    });
    expect(topicReplication(3, { replicationFactor: 2, minInsyncReplicas: 2 })).toEqual({
      replicationFactor: 2,
      minInsyncReplicas: 2,
    });
  });

  it('refuses what no cluster of that size can hold, naming the option', () => {
    const cases: Array<[number, Parameters<typeof topicReplication>[1], string]> = [
      [3, { replicationFactor: 4 }, 'replicationFactor'],
      [3, { replicationFactor: 0 }, 'replicationFactor'],
      [3, { replicationFactor: 1.5 }, 'replicationFactor'],
      [3, { minInsyncReplicas: 4 }, 'minInsyncReplicas'],
      [3, { replicationFactor: 2, minInsyncReplicas: 3 }, 'minInsyncReplicas'],
      [3, { minInsyncReplicas: 0 }, 'minInsyncReplicas'],
      [0, {}, 'brokers'],
    ];
    for (const [brokers, options, field] of cases) {
      const error = (() => {
        try {
          topicReplication(brokers, options);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, JSON.stringify(options)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(field);
    }
  });
});
