/**
 * A rack-aware partition assigner in the spirit of Kafka's KIP-881: each member says which rack
 * it runs in, and the assignment prefers giving a member partitions that have a replica in its
 * rack (so it fetches from a local follower and cross-rack traffic drops), while staying exactly
 * as balanced as a plain assignment (partition counts of any two members differ by at most one).
 * Where racks don't match, or are unknown, it falls back to plain balance.
 * @module
 */

import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** A group member as the assignment sees it. */
export interface AssignMember {
  readonly id: string;
  /** The member's rack; `undefined` when it did not say. */
  readonly rack: string | undefined;
  /** The topics it subscribes to. */
  readonly topics: readonly string[];
}

/** A partition with the racks its replicas live in. */
export interface AssignPartition {
  readonly topic: string;
  readonly partition: number;
  /** Racks of the partition's replicas (empty when brokers have no rack). */
  readonly replicaRacks: readonly string[];
}

/** Member id -> topic -> partitions (sorted). */
export type Assignment = Map<string, Map<string, number[]>>;

/**
 * Assigns `partitions` to `members`, balanced, preferring rack-local replicas. Deterministic:
 * the same input gives the same output (members and partitions are sorted first).
 */
export function assignRackAware(
  members: readonly AssignMember[],
  partitions: readonly AssignPartition[],
): Assignment {
  const sortedMembers = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result: Assignment = new Map(sortedMembers.map((m) => [m.id, new Map<string, number[]>()]));
  const counts = new Map(sortedMembers.map((m) => [m.id, 0]));
  const eligibleFor = (p: AssignPartition): AssignMember[] =>
    sortedMembers.filter((m) => m.topics.includes(p.topic));
  const assignable = [...partitions]
    .filter((p) => eligibleFor(p).length > 0)
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const total = assignable.length;
  const memberCount = Math.max(1, sortedMembers.length);
  const base = Math.floor(total / memberCount);
  let extras = total % memberCount;

  // A member may take a partition while it is below `base`, or at `base` while extras remain.
  const canTake = (id: string): boolean => {
    const count = counts.get(id) ?? 0;
    return count < base || (count === base && extras > 0);
  };
  const give = (member: AssignMember, p: AssignPartition): void => {
    const count = counts.get(member.id) ?? 0;
    if (count === base) extras--;
    counts.set(member.id, count + 1);
    const byTopic = result.get(member.id) as Map<string, number[]>;
    byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  };
  const leastLoaded = (candidates: readonly AssignMember[]): AssignMember | undefined => {
    let best: AssignMember | undefined;
    for (const m of candidates) {
      if (!canTake(m.id)) continue;
      if (best === undefined || (counts.get(m.id) ?? 0) < (counts.get(best.id) ?? 0)) best = m;
    }
    return best;
  };

  // Pass 1: rack-local placements, scarcest partitions (fewest local candidates) first.
  const local = (p: AssignPartition): AssignMember[] =>
    eligibleFor(p).filter((m) => m.rack !== undefined && p.replicaRacks.includes(m.rack));
  const byScarcity = assignable
    .map((p) => ({ p, candidates: local(p) }))
    .filter((entry) => entry.candidates.length > 0)
    .sort((a, b) => a.candidates.length - b.candidates.length);
  const placed = new Set<AssignPartition>();
  for (const { p, candidates } of byScarcity) {
    const member = leastLoaded(candidates);
    if (member === undefined) continue;
    give(member, p);
    placed.add(p);
  }
  // Pass 2: everything else, to the least-loaded eligible member.
  for (const p of assignable) {
    if (placed.has(p)) continue;
    const member = leastLoaded(eligibleFor(p)) ?? eligibleFor(p)[0];
    if (member !== undefined) give(member, p);
  }
  for (const byTopic of result.values()) for (const list of byTopic.values()) list.sort((a, b) => a - b);
  return result;
}

/** Options of {@link rackAwareAssigner}. */
export interface RackAwareAssignerOptions {
  /** This member's rack (usually the availability zone). Also pass it as the consumer's `rackId`. */
  readonly rack: string | undefined;
}

interface ClusterLike {
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; replicas?: number[] }>;
  brokerPool?: { metadata?: { brokers?: Array<{ nodeId: number; rack?: string | null }> } };
}

/**
 * A kafkajs `PartitionAssigner` that runs {@link assignRackAware}. Each member sends its rack in
 * the group protocol's user data, and the leader reads replica racks from the cluster metadata.
 *
 * @example
 * ```ts
 * createConsumer({ ..., rackId: 'eu-west-1a', partitionAssigners: [rackAwareAssigner({ rack: 'eu-west-1a' })] });
 * ```
 */
export function rackAwareAssigner(options: RackAwareAssignerOptions): PartitionAssigner {
  return ({ cluster }) => {
    const meta = cluster as unknown as ClusterLike;
    return {
      name: 'CascadeRackAwareAssigner',
      version: 0,
      async assign({ members, topics }) {
        const brokerRacks = new Map<number, string>();
        for (const broker of meta.brokerPool?.metadata?.brokers ?? []) {
          if (typeof broker.rack === 'string' && broker.rack !== '')
            brokerRacks.set(broker.nodeId, broker.rack);
        }
        const assignMembers: AssignMember[] = members.map(({ memberId, memberMetadata }) => {
          const decoded = AssignerProtocol.MemberMetadata.decode(memberMetadata);
          const rack = decoded?.userData?.length ? decoded.userData.toString('utf8') : undefined;
          return { id: memberId, rack, topics: decoded?.topics ?? topics };
        });
        const partitions: AssignPartition[] = topics.flatMap((topic) =>
          meta.findTopicPartitionMetadata(topic).map((p) => ({
            topic,
            partition: p.partitionId,
            replicaRacks: (p.replicas ?? []).flatMap((id) => {
              const rack = brokerRacks.get(id);
              return rack === undefined ? [] : [rack];
            }),
          })),
        );
        const assignment = assignRackAware(assignMembers, partitions);
        return [...assignment].map(([memberId, byTopic]) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 0,
            assignment: Object.fromEntries(byTopic),
            userData: Buffer.alloc(0),
          }),
        }));
      },
      protocol({ topics }) {
        return {
          name: 'CascadeRackAwareAssigner',
          metadata: AssignerProtocol.MemberMetadata.encode({
            version: 0,
            topics,
            userData: Buffer.from(options.rack ?? '', 'utf8'),
          }),
        };
      },
    };
  };
}
