import { describe, expect, it } from 'vitest';
import {
  isCoordinatorLost,
  isUnreachable,
  patchKafkajsCoordinatorRediscovery,
  patchKafkajsFetchFailover,
  readReplicaForPartitions,
} from './group-patch.js';

/** A consumer group as `readReplicaForPartitions` sees it: nodes 1-3, partitions 0-2 led by 1. */
function group(options: { nodes?: number[]; offline?: number[]; preferred?: Record<number, number> }) {
  let refreshes = 0;
  const future = Date.now() + 60_000;
  return {
    refreshes: () => refreshes,
    self: {
      cluster: {
        getNodeIds: () => (options.nodes ?? [1, 2, 3]).map(String),
        findTopicPartitionMetadata: () =>
          [0, 1, 2].map((partitionId) => ({
            partitionId,
            leader: 1,
            offlineReplicas: options.offline ?? [],
          })),
        refreshMetadata: async () => {
          refreshes++;
        },
        findGroupCoordinator: async () => ({ isConnected: () => true }),
      },
      preferredReadReplicasPerTopicPartition: {
        t: Object.fromEntries(
          Object.entries(options.preferred ?? {}).map(([p, nodeId]) => [p, { nodeId, expireAt: future }]),
        ),
      },
    } as never,
  };
}

describe('readReplicaForPartitions', () => {
  it('fetches from the preferred read replica while it is a known, online node', () => {
    const { self } = group({ preferred: { 0: 2, 1: 3 } });
    expect(readReplicaForPartitions.call(self, 't', [0, 1, 2])).toEqual({ 1: [2], 2: [0], 3: [1] });
  });

  it('fetches from the leader while the preferred replica is offline (kafkajs checked the leader)', () => {
    const { self } = group({ preferred: { 0: 2 }, offline: [2] });
    expect(readReplicaForPartitions.call(self, 't', [0, 1])).toEqual({ 1: [0, 1] });
  });

  it('fetches from the leader and refreshes metadata while the preferred replica is not in the metadata', () => {
    const g = group({ preferred: { 0: 3 }, nodes: [1, 2] });
    expect(readReplicaForPartitions.call(g.self, 't', ['0', '1'])).toEqual({ 1: [0, 1] });
    expect(g.refreshes()).toBe(1);
  });
});

describe('kafkajs error classification', () => {
  it('counts connection failures and unknown nodes as unreachable, protocol errors not', () => {
    expect(isUnreachable({ name: 'KafkaJSConnectionError' })).toBe(true);
    expect(isUnreachable({ name: 'KafkaJSBrokerNotFound' })).toBe(true);
    expect(isUnreachable({ name: 'KafkaJSProtocolError', type: 'NOT_COORDINATOR_FOR_GROUP' })).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
  });

  it('counts a moved or unavailable coordinator as lost, a rebalance not', () => {
    expect(isCoordinatorLost({ name: 'KafkaJSProtocolError', type: 'NOT_COORDINATOR_FOR_GROUP' })).toBe(true);
    expect(isCoordinatorLost({ name: 'KafkaJSProtocolError', type: 'GROUP_COORDINATOR_NOT_AVAILABLE' })).toBe(
      true,
    );
    expect(isCoordinatorLost({ name: 'KafkaJSConnectionClosedError' })).toBe(true);
    expect(isCoordinatorLost({ name: 'KafkaJSProtocolError', type: 'REBALANCE_IN_PROGRESS' })).toBe(false);
  });
});

describe('the kafkajs 2.2.4 layout', () => {
  it('takes both patches, idempotently', () => {
    expect(patchKafkajsCoordinatorRediscovery()).toBe(true);
    expect(patchKafkajsCoordinatorRediscovery()).toBe(true);
    expect(patchKafkajsFetchFailover()).toBe(true);
    expect(patchKafkajsFetchFailover()).toBe(true);
  });
});
