import { describe, expect, it } from 'vitest';
import { kraftClusterId, nodeConfig, singleNodeConfig } from './kafka-node.js';

describe('kraftClusterId', () => {
  it('never starts with "-", which StorageTool would read as an option', () => {
    // 0xf8 encodes to '-' as the first base64url character; the next draw is taken instead.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = kraftClusterId(() => draws.shift() ?? Buffer.alloc(16));
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
  });

  it('gives 22 base64url characters', () => {
    for (let i = 0; i < 200; i++) expect(kraftClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});

describe('node configuration', () => {
  it('keeps the single node at replication factor 1 with node id 1, no rack and no replica selector', () => {
    const config = singleNodeConfig('/data/kafka', 9092, 9093);
    expect(config).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': '1@127.0.0.1:9093',
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
      'log.dirs': '/data/kafka/logs',
      'default.replication.factor': '1',
      'min.insync.replicas': '1',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
      'broker.session.timeout.ms': '3000',
    });
    expect(config['replica.selector.class']).toBeUndefined();
    expect(config['broker.rack']).toBeUndefined();
  });

  it('gives a node of three replication factor 3, min ISR 2, its rack and the rack-aware selector', () => {
    const voters = '1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103';
    const config = nodeConfig('/data/kafka-1', {
      nodeId: 2,
      port: 9092,
      controllerPort: 9102,
      voters,
      nodes: 3,
      rack: 'r2',
    });
    expect(config).toMatchObject({
      'node.id': '2',
      'controller.quorum.voters': voters,
      'broker.rack': 'r2',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
      'share.coordinator.state.topic.replication.factor': '3',
      'share.coordinator.state.topic.min.isr': '2',
      'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
      'group.initial.rebalance.delay.ms': '0',
    });
  });

  it('caps replication at 3 and keeps min ISR one below it, never under 1', () => {
    const shape = { nodeId: 1, port: 1, controllerPort: 2, voters: '', rack: undefined };
    const factors = (nodes: number): string[] => {
      const config = nodeConfig('/d', { ...shape, nodes });
      return [config['default.replication.factor'] ?? '', config['min.insync.replicas'] ?? ''];
    };
    expect([1, 2, 3, 5, 9].map(factors)).toEqual([
      ['1', '1'],
      ['2', '1'],
      ['3', '2'],
      ['3', '2'],
      ['3', '2'],
    ]);
  });
});
