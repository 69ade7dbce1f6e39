import { describe, expect, it } from 'vitest';
import {
  type AssignMember,
  type Assignment,
  type AssignPartition,
  assignRackAware,
} from './rack-aware-assigner.js';

function partitions(topic: string, racksPerPartition: string[][]): AssignPartition[] {
  return racksPerPartition.map((replicaRacks, partition) => ({ topic, partition, replicaRacks }));
}

function counts(assignment: Assignment): number[] {
  return [...assignment.values()].map((byTopic) =>
    [...byTopic.values()].reduce((n, list) => n + list.length, 0),
  );
}

function localShare(assignment: Assignment, members: AssignMember[], parts: AssignPartition[]): number {
  let local = 0;
  for (const [id, byTopic] of assignment) {
    const rack = members.find((m) => m.id === id)?.rack;
    for (const [topic, list] of byTopic) {
      for (const partition of list) {
        const p = parts.find((x) => x.topic === topic && x.partition === partition);
        if (rack !== undefined && p?.replicaRacks.includes(rack)) local++;
      }
    }
  }
  return local;
}

describe('assignRackAware', () => {
  it('gives every member the partitions whose replica is in its rack when racks allow a balanced split', () => {
    const members: AssignMember[] = [
      { id: 'm-a', rack: 'a', topics: ['t'] },
      { id: 'm-b', rack: 'b', topics: ['t'] },
      { id: 'm-c', rack: 'c', topics: ['t'] },
    ];
    const parts = partitions('t', [['a'], ['b'], ['c'], ['a'], ['b'], ['c']]);
    const assignment = assignRackAware(members, parts);
    expect(assignment.get('m-a')?.get('t')).toEqual([0, 3]);
    expect(assignment.get('m-b')?.get('t')).toEqual([1, 4]);
    expect(assignment.get('m-c')?.get('t')).toEqual([2, 5]);
  });

  it('stays balanced when racks are uneven, placing as many partitions locally as balance allows', () => {
    const members: AssignMember[] = [
      { id: 'm1', rack: 'a', topics: ['t'] },
      { id: 'm2', rack: 'a', topics: ['t'] },
      { id: 'm3', rack: 'b', topics: ['t'] },
    ];
    // Seven partitions all replicated only in rack a, two in b.
    const parts = partitions('t', [['a'], ['a'], ['a'], ['a'], ['a'], ['a'], ['a'], ['b'], ['b']]);
    const assignment = assignRackAware(members, parts);
    expect(counts(assignment).sort()).toEqual([3, 3, 3]);
    // m3 takes both b partitions plus one a partition; m1 and m2 take a partitions only.
    expect(localShare(assignment, members, parts)).toBe(8);
    expect(assignment.get('m3')?.get('t')).toContain(7);
    expect(assignment.get('m3')?.get('t')).toContain(8);
  });

  it('falls back to plain balance when members or brokers have no rack', () => {
    const members: AssignMember[] = [
      { id: 'x', rack: undefined, topics: ['t'] },
      { id: 'y', rack: 'a', topics: ['t'] },
    ];
    const parts = partitions('t', [[], [], [], [], []]);
    const assignment = assignRackAware(members, parts);
    expect(counts(assignment).sort()).toEqual([2, 3]);
    const all = [...assignment.values()].flatMap((byTopic) => byTopic.get('t') ?? []).sort();
    expect(all).toEqual([0, 1, 2, 3, 4]);
  });

  it('leaves the extra members empty when there are more members than partitions', () => {
    const members: AssignMember[] = ['a', 'b', 'c', 'd'].map((rack) => ({
      id: `m-${rack}`,
      rack,
      topics: ['t'],
    }));
    const parts = partitions('t', [['d'], ['c']]);
    const assignment = assignRackAware(members, parts);
    expect(assignment.get('m-d')?.get('t')).toEqual([0]);
    expect(assignment.get('m-c')?.get('t')).toEqual([1]);
    expect(assignment.get('m-a')?.size).toBe(0);
    expect(assignment.get('m-b')?.size).toBe(0);
  });

  it('only assigns a topic to members subscribed to it, across several topics', () => {
    const members: AssignMember[] = [
      { id: 'm1', rack: 'a', topics: ['t1', 't2'] },
      { id: 'm2', rack: 'b', topics: ['t1'] },
    ];
    const parts = [...partitions('t1', [['b'], ['b']]), ...partitions('t2', [['b'], ['b']])];
    const assignment = assignRackAware(members, parts);
    expect(assignment.get('m1')?.get('t2')).toEqual([0, 1]);
    expect(assignment.get('m2')?.get('t2')).toBeUndefined();
    expect(counts(assignment).reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('is deterministic whatever order members and partitions arrive in', () => {
    const members: AssignMember[] = [
      { id: 'b', rack: 'r2', topics: ['t'] },
      { id: 'a', rack: 'r1', topics: ['t'] },
    ];
    const parts = partitions('t', [['r1', 'r2'], ['r2'], ['r1'], []]);
    const first = assignRackAware(members, parts);
    const second = assignRackAware([...members].reverse(), [...parts].reverse());
    expect([...second].sort()).toEqual([...first].sort());
  });
});
