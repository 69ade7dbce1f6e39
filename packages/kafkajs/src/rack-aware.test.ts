import { ConfigError } from '@cascade/core';
import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  type AssignMember,
  type Assignment,
  type AssignPartition,
  assignMemberOf,
  assignRackAware,
  type ConsumerSubscription,
  decodeSubscription,
  encodeSubscription,
  rackAwareAssigner,
  rackAwareProtocolName,
  rackOf,
} from './rack-aware.js';

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

/** A hand-built buffer: int16 and int32 numbers given as `['i16', n]` / `['i32', n]`, strings as UTF-8. */
function bytes(...fields: Array<['i16' | 'i32', number] | string>): Buffer {
  return Buffer.concat(
    fields.map((field) => {
      if (typeof field === 'string') return Buffer.from(field, 'utf8');
      const [kind, value] = field;
      const b = Buffer.alloc(kind === 'i16' ? 2 : 4);
      if (kind === 'i16') b.writeInt16BE(value);
      else b.writeInt32BE(value);
      return b;
    }),
  );
}

const sample: Omit<ConsumerSubscription, 'version'> = {
  topics: ['orders', 'payments'],
  userData: Buffer.from('r2'),
  ownedPartitions: [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [] },
  ],
  generationId: 7,
  rackId: 'r2',
};

/** What decoding `sample` written at `version` gives: the fields the version lacks at their defaults. */
function atVersion(version: number): ConsumerSubscription {
  return {
    version,
    topics: sample.topics,
    userData: sample.userData,
    ownedPartitions: version >= 1 ? sample.ownedPartitions : [],
    generationId: version >= 2 ? sample.generationId : -1,
    rackId: version >= 3 ? sample.rackId : null,
  };
}

/** A small seeded PRNG (mulberry32): the fuzz tests are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fake kafkajs cluster: `partitionsPerTopic` partitions per topic, partition p's only replica on broker p % 3 + 1 (rack r<id>). */
function fakeCluster(partitionsPerTopic: number): Cluster {
  const fake = {
    findTopicPartitionMetadata: () =>
      Array.from({ length: partitionsPerTopic }, (_, partitionId) => ({
        partitionId,
        replicas: [(partitionId % 3) + 1],
      })),
    brokerPool: { metadata: { brokers: [1, 2, 3].map((nodeId) => ({ nodeId, rack: `r${nodeId}` })) } },
  };
  return fake as unknown as Cluster;
}

const quietLogger = {} as Logger;

function decodedAssignment(buffer: Buffer): Record<string, number[]> {
  return (AssignerProtocol.MemberAssignment.decode(buffer)?.assignment ?? {}) as Record<string, number[]>;
}

describe('the v3 consumer subscription (KIP-881)', () => {
  it('encodes exactly the bytes the Java schema prescribes for version 3', () => {
    const expected = bytes(
      ['i16', 3], // version
      ['i32', 2], // topics: count
      ['i16', 6],
      'orders',
      ['i16', 8],
      'payments',
      ['i32', 2], // user_data: length
      'r2',
      ['i32', 2], // owned_partitions: count
      ['i16', 6],
      'orders',
      ['i32', 2],
      ['i32', 0],
      ['i32', 2],
      ['i16', 8],
      'payments',
      ['i32', 0],
      ['i32', 7], // generation_id
      ['i16', 2], // rack_id
      'r2',
    );
    expect(encodeSubscription(sample, 3).equals(expected)).toBe(true);
  });

  it('writes null user data and a null rack as -1, and what the assigner joins with is version 3', () => {
    const encoded = encodeSubscription({
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
    const expected = bytes(
      ['i16', 3],
      ['i32', 1],
      ['i16', 1],
      't',
      ['i32', -1],
      ['i32', 0],
      ['i32', -1],
      ['i16', -1],
    );
    expect(encoded.equals(expected)).toBe(true);

    const assigner = rackAwareAssigner({ rack: 'r1' })({
      cluster: fakeCluster(1),
      groupId: 'g',
      logger: quietLogger,
    });
    const joined = assigner.protocol({ topics: ['orders'] });
    expect(joined.name).toBe(rackAwareProtocolName);
    const withRack = bytes(
      ['i16', 3],
      ['i32', 1],
      ['i16', 6],
      'orders',
      ['i32', 2],
      'r1',
      ['i32', 0],
      ['i32', -1],
      ['i16', 2],
      'r1',
    );
    expect(Buffer.from(joined.metadata).equals(withRack)).toBe(true);
    const rackless = rackAwareAssigner({ rack: undefined })({
      cluster: fakeCluster(1),
      groupId: 'g',
      logger: quietLogger,
    });
    const none = decodeSubscription(Buffer.from(rackless.protocol({ topics: ['orders'] }).metadata));
    expect(none).toMatchObject({ version: 3, rackId: null, userData: Buffer.alloc(0) });
  });

  it("still decodes with kafkajs' MemberMetadata.decode, which reads version, topics and user data and ignores the rest", () => {
    const decoded = AssignerProtocol.MemberMetadata.decode(encodeSubscription(sample, 3));
    expect(decoded?.version).toBe(3);
    expect(decoded?.topics).toEqual(['orders', 'payments']);
    expect(decoded?.userData.toString('utf8')).toBe('r2');
  });

  it('reads the v0 subscriptions of Cascade members before KIP-881 (rack in the user data)', () => {
    const old = AssignerProtocol.MemberMetadata.encode({
      version: 0,
      topics: ['orders'],
      userData: Buffer.from('r3'),
    });
    const decoded = decodeSubscription(old);
    expect(decoded).toEqual({
      version: 0,
      topics: ['orders'],
      userData: Buffer.from('r3'),
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
    expect(decoded && rackOf(decoded)).toBe('r3');
    expect(assignMemberOf('m', old, ['x'])).toEqual({ id: 'm', rack: 'r3', topics: ['orders'] });
  });

  it.each([0, 1, 2, 3])('round-trips version %i, the fields it lacks at their defaults', (version) => {
    expect(decodeSubscription(encodeSubscription(sample, version))).toEqual(atVersion(version));
  });

  it('reads a version above 3 by its version-3 fields, ignoring what follows', () => {
    for (const version of [4, 9, 0x7fff]) {
      const encoded = encodeSubscription(sample, 3);
      encoded.writeInt16BE(version, 0);
      const withMore = Buffer.concat([encoded, bytes(['i32', 42], ['i16', 5], 'extra')]);
      expect(decodeSubscription(withMore)).toEqual({ ...atVersion(3), version });
    }
  });

  it("takes the rack from rack_id (version 3+), else from the user data's text", () => {
    const base = { topics: ['t'], ownedPartitions: [], generationId: -1 };
    const rack = (s: Omit<ConsumerSubscription, 'version'>, version: number) => {
      const decoded = decodeSubscription(encodeSubscription(s, version));
      return decoded === undefined ? 'malformed' : rackOf(decoded);
    };
    expect(rack({ ...base, userData: Buffer.from('old'), rackId: 'new' }, 3)).toBe('new');
    expect(rack({ ...base, userData: Buffer.from('old'), rackId: null }, 3)).toBe('old');
    expect(rack({ ...base, userData: Buffer.from('old'), rackId: 'new' }, 2)).toBe('old');
    expect(rack({ ...base, userData: null, rackId: null }, 3)).toBeUndefined();
    expect(rack({ ...base, userData: Buffer.alloc(0), rackId: '' }, 3)).toBeUndefined();
    expect(rack({ ...base, userData: null, rackId: 'eu-west-1a' }, 3)).toBe('eu-west-1a');
  });

  it('returns undefined for every truncation of a subscription and for impossible lengths', () => {
    const full = encodeSubscription(sample, 3);
    for (let length = 0; length < full.length; length++) {
      expect(decodeSubscription(full.subarray(0, length)), `first ${length} bytes`).toBeUndefined();
    }
    expect(decodeSubscription(bytes(['i16', -1], ['i32', 0], ['i32', -1]))).toBeUndefined(); // negative version
    expect(decodeSubscription(bytes(['i16', 0], ['i32', 0x7fffffff]))).toBeUndefined(); // topic count past the end
    expect(decodeSubscription(bytes(['i16', 0], ['i32', -1], ['i32', -1]))).toBeUndefined(); // null topics array
    expect(decodeSubscription(bytes(['i16', 0], ['i32', 1], ['i16', -1], ['i32', -1]))).toBeUndefined(); // null topic
    expect(decodeSubscription(bytes(['i16', 0], ['i32', 0], ['i32', -2]))).toBeUndefined(); // user data length -2
    expect(
      decodeSubscription(bytes(['i16', 3], ['i32', 0], ['i32', -1], ['i32', 0], ['i32', 1], ['i16', -2])),
    ).toBe(undefined); // rack length -2
  });

  it('rejects a rack that is empty, not a string, or longer than 32767 bytes', () => {
    for (const rack of ['', 42, 'x'.repeat(0x8000)]) {
      expect(() => rackAwareAssigner({ rack } as unknown as { rack: string })).toThrow(ConfigError);
    }
    expect(() => encodeSubscription(sample, 4)).toThrow(RangeError);
  });
});

describe('rackAwareAssigner with malformed member metadata', () => {
  it('treats a member whose metadata does not decode as rackless and subscribed to the group topics', () => {
    expect(assignMemberOf('m', Buffer.from([0, 3, 0xff]), ['orders'])).toEqual({
      id: 'm',
      rack: undefined,
      topics: ['orders'],
    });
  });

  it('never throws out of assign() on random or mutated metadata, and still assigns every partition once (fuzz)', async () => {
    const next = random(881);
    const valid = [0, 1, 2, 3].map((v) => encodeSubscription(sample, v));
    const garbage = (): Buffer => {
      const kind = next();
      if (kind < 0.4) {
        // Random bytes of a random length.
        return Buffer.from(Array.from({ length: Math.floor(next() * 48) }, () => Math.floor(next() * 256)));
      }
      const base = Buffer.from(valid[Math.floor(next() * valid.length)] as Buffer);
      if (kind < 0.7) {
        // A valid subscription with a few bytes overwritten.
        for (let i = 0; i < 1 + Math.floor(next() * 4); i++)
          base[Math.floor(next() * base.length)] = Math.floor(next() * 256);
        return base;
      }
      // A valid subscription cut short.
      return base.subarray(0, Math.floor(next() * base.length));
    };
    let undecodable = 0;
    for (let round = 0; round < 300; round++) {
      const members = Array.from({ length: 1 + Math.floor(next() * 4) }, (_, i) => ({
        memberId: `m${i}`,
        memberMetadata: i === 0 ? encodeSubscription({ ...sample, topics: ['orders'] }) : garbage(),
      }));
      for (const { memberId, memberMetadata } of members) {
        const decoded = decodeSubscription(memberMetadata);
        if (decoded === undefined) {
          undecodable++;
          expect(assignMemberOf(memberId, memberMetadata, ['orders'])).toEqual({
            id: memberId,
            rack: undefined,
            topics: ['orders'],
          });
        }
      }
      const assigner = rackAwareAssigner({ rack: 'r1' })({
        cluster: fakeCluster(6),
        groupId: 'g',
        logger: quietLogger,
      });
      const result = await assigner.assign({ members, topics: ['orders'] });
      expect(result.map((r) => r.memberId).sort()).toEqual(members.map((m) => m.memberId).sort());
      const assigned = result.flatMap((r) => decodedAssignment(r.memberAssignment).orders ?? []).sort();
      expect(assigned, `round ${round}`).toEqual([0, 1, 2, 3, 4, 5]);
    }
    // The fuzzing reached the malformed paths, not only lucky valid ones.
    expect(undecodable).toBeGreaterThan(200);
  });

  it('assigns each member the partitions of its rack when the metadata is good', async () => {
    const members = ['r1', 'r2', 'r3'].map((rack, i) => {
      const assigner = rackAwareAssigner({ rack })({
        cluster: fakeCluster(6),
        groupId: 'g',
        logger: quietLogger,
      });
      return {
        memberId: `m${i}`,
        memberMetadata: Buffer.from(assigner.protocol({ topics: ['orders'] }).metadata),
      };
    });
    const leader = rackAwareAssigner({ rack: 'r1' })({
      cluster: fakeCluster(6),
      groupId: 'g',
      logger: quietLogger,
    });
    const result = await leader.assign({ members, topics: ['orders'] });
    const byMember = Object.fromEntries(
      result.map((r) => [r.memberId, decodedAssignment(r.memberAssignment).orders]),
    );
    expect(byMember).toEqual({ m0: [0, 3], m1: [1, 4], m2: [2, 5] });
  });
});
