/**
 * A rack-aware partition assigner in the spirit of Kafka's KIP-881: each member says which rack
 * it runs in, and the assignment prefers giving a member partitions that have a replica in its
 * rack (so it fetches from a local follower and cross-rack traffic drops), while staying exactly
 * as balanced as a plain assignment (partition counts of any two members differ by at most one).
 * Where racks don't match, or are unknown, it falls back to plain balance.
 *
 * Members say their rack as Kafka's Java consumers do since KIP-881: in the `rack_id` of a
 * version-3 `ConsumerProtocolSubscription` ({@link encodeSubscription}, {@link decodeSubscription}).
 * @module
 */

import { ConfigError } from '@cascade/core';
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

/** The `ConsumerProtocolSubscription` version {@link rackAwareAssigner} writes: 3, the first with a rack id (KIP-881). */
export const subscriptionVersion = 3;

/** Partitions of one topic a member owns (subscription version 1 and later). */
export interface OwnedPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/**
 * A member's subscription in Kafka's consumer protocol (`ConsumerProtocolSubscription`, the
 * protocol metadata of a JoinGroup), all versions' fields. Fields a version lacks hold their
 * schema defaults: no owned partitions, generation `-1`, rack `null`.
 * @see https://github.com/apache/kafka/blob/trunk/clients/src/main/resources/common/message/ConsumerProtocolSubscription.json
 */
export interface ConsumerSubscription {
  /** The version it was written in; a decoded version above 3 was read as 3. */
  readonly version: number;
  readonly topics: readonly string[];
  /** The assignor's own bytes; `null` when absent. Cascade puts the rack's UTF-8 text here too. */
  readonly userData: Buffer | null;
  /** Version 1+. */
  readonly ownedPartitions: readonly OwnedPartitions[];
  /** Version 2+; `-1` when unknown. */
  readonly generationId: number;
  /** Version 3+ (KIP-881); `null` when the member has no rack. */
  readonly rackId: string | null;
}

const maxInt16 = 0x7fff;

/**
 * Encodes a subscription as `ConsumerProtocolSubscription` `version` (0 to 3), in the
 * non-flexible encoding the schema prescribes: version int16; topics int32 count and int16-length
 * strings; user data int32 length or -1; then, by version, owned partitions (1+), generation id
 * (2+) and rack id as an int16-length string or -1 (3+). Fields the version lacks are left out.
 * @throws {RangeError} for a version outside 0-3, a string longer than 32767 UTF-8 bytes, or a
 * partition or generation that is not a 32-bit integer.
 */
export function encodeSubscription(
  subscription: Omit<ConsumerSubscription, 'version'>,
  version: number = subscriptionVersion,
): Buffer {
  if (!Number.isInteger(version) || version < 0 || version > subscriptionVersion) {
    throw new RangeError(`Cannot encode a consumer subscription of version ${version}: expected 0 to 3.`);
  }
  const parts: Buffer[] = [];
  const int16 = (value: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    parts.push(b);
  };
  const int32 = (value: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    parts.push(b);
  };
  const string = (value: string | null) => {
    if (value === null) return int16(-1);
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > maxInt16) throw new RangeError(`String of ${bytes.length} bytes exceeds 32767 bytes.`);
    int16(bytes.length);
    parts.push(bytes);
  };
  int16(version);
  int32(subscription.topics.length);
  for (const topic of subscription.topics) string(topic);
  if (subscription.userData === null) int32(-1);
  else {
    int32(subscription.userData.length);
    parts.push(subscription.userData);
  }
  if (version >= 1) {
    int32(subscription.ownedPartitions.length);
    for (const owned of subscription.ownedPartitions) {
      string(owned.topic);
      int32(owned.partitions.length);
      for (const partition of owned.partitions) int32(partition);
    }
  }
  if (version >= 2) int32(subscription.generationId);
  if (version >= 3) string(subscription.rackId);
  return Buffer.concat(parts);
}

class Malformed extends Error {}

/** Bounds-checked reads; every overrun or impossible length throws {@link Malformed}. */
class Reader {
  readonly #buffer: Buffer;
  #offset = 0;
  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }
  #take(size: number): number {
    if (size < 0 || this.#buffer.length - this.#offset < size) throw new Malformed();
    const at = this.#offset;
    this.#offset += size;
    return at;
  }
  int16(): number {
    return this.#buffer.readInt16BE(this.#take(2));
  }
  int32(): number {
    return this.#buffer.readInt32BE(this.#take(4));
  }
  /** An int32 count of items at least `minItemBytes` long each, checked against what is left. */
  count(minItemBytes: number): number {
    const n = this.int32();
    if (n < 0 || n * minItemBytes > this.#buffer.length - this.#offset) throw new Malformed();
    return n;
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    const at = this.#take(length);
    return this.#buffer.toString('utf8', at, at + length);
  }
  string(): string {
    const value = this.nullableString();
    if (value === null) throw new Malformed();
    return value;
  }
  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    const at = this.#take(length);
    return Buffer.from(this.#buffer.subarray(at, at + length));
  }
}

/**
 * Decodes a `ConsumerProtocolSubscription` of any version: 0 to 3 as written, a higher version
 * by its version-3 fields with the rest ignored (as Kafka's own `ConsumerProtocol` does), and
 * trailing bytes ignored. Never throws.
 * @returns the subscription, or `undefined` when the bytes are malformed (truncated, a negative
 * version, a length past the end, a null topic name).
 */
export function decodeSubscription(buffer: Buffer): ConsumerSubscription | undefined {
  if (!Buffer.isBuffer(buffer)) return undefined;
  try {
    const reader = new Reader(buffer);
    const version = reader.int16();
    if (version < 0) return undefined;
    const topics = Array.from({ length: reader.count(2) }, () => reader.string());
    const userData = reader.nullableBytes();
    const ownedPartitions =
      version >= 1
        ? Array.from({ length: reader.count(6) }, () => ({
            topic: reader.string(),
            partitions: Array.from({ length: reader.count(4) }, () => reader.int32()),
          }))
        : [];
    const generationId = version >= 2 ? reader.int32() : -1;
    const rackId = version >= 3 ? reader.nullableString() : null;
    return { version, topics, userData, ownedPartitions, generationId, rackId };
  } catch (error) {
    if (error instanceof Malformed) return undefined;
    throw error;
  }
}

/**
 * The rack a subscription names: its `rack_id` (version 3+) when set, else the UTF-8 text of its
 * user data (where Cascade members before KIP-881 sent it); `undefined` when neither says.
 */
export function rackOf(subscription: ConsumerSubscription): string | undefined {
  if (subscription.version >= 3 && subscription.rackId !== null && subscription.rackId !== '')
    return subscription.rackId;
  const text = subscription.userData?.length ? subscription.userData.toString('utf8') : '';
  return text === '' ? undefined : text;
}

/**
 * A group member as {@link assignRackAware} sees it, from its JoinGroup metadata. Metadata that
 * does not decode leaves the member's rack unknown and subscribes it to `groupTopics`, so one
 * member's bad bytes never fail the group's assignment.
 */
export function assignMemberOf(
  memberId: string,
  metadata: Buffer,
  groupTopics: readonly string[],
): AssignMember {
  const subscription = decodeSubscription(metadata);
  if (subscription === undefined) return { id: memberId, rack: undefined, topics: groupTopics };
  return { id: memberId, rack: rackOf(subscription), topics: subscription.topics };
}

/** Options of {@link rackAwareAssigner}. */
export interface RackAwareAssignerOptions {
  /**
   * This member's rack (usually the availability zone), `undefined` for none. Also pass it as
   * the consumer's `rackId`, which fetches name so a broker can point them at a follower in
   * this rack. At most 32767 UTF-8 bytes.
   */
  readonly rack: string | undefined;
}

interface ClusterLike {
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; replicas?: number[] }>;
  brokerPool?: { metadata?: { brokers?: Array<{ nodeId: number; rack?: string | null }> } };
}

/** The protocol name members of a group must share; Java members need an assignor of this name. */
export const rackAwareProtocolName = 'CascadeRackAwareAssigner';

function requireRack(rack: unknown): string | undefined {
  if (rack === undefined) return undefined;
  if (typeof rack !== 'string' || rack === '' || Buffer.byteLength(rack, 'utf8') > maxInt16) {
    throw new ConfigError(
      'rack',
      'expected a non-empty string of at most 32767 UTF-8 bytes, or undefined for a member without a rack.',
    );
  }
  return rack;
}

/**
 * A kafkajs `PartitionAssigner` that runs {@link assignRackAware}. Each member joins with a
 * `ConsumerProtocolSubscription` of version 3 whose `rack_id` is its rack (KIP-881), and the same
 * rack as UTF-8 text in its user data, which Cascade members before version 3 read. The leader
 * reads replica racks from the cluster metadata; a member whose metadata does not decode counts
 * as rackless.
 *
 * The kafkajs transport's consumer uses it for the `rack-aware` assignor, with the member's
 * `rackId` as its rack:
 *
 * @example
 * ```ts
 * createConsumer({ kafka, groupId: 'billing', rackId: 'eu-west-1a', assignors: ['rack-aware'] });
 * ```
 * @throws {ConfigError} naming `rack` when it is not a non-empty string (or undefined).
 */
export function rackAwareAssigner(options: RackAwareAssignerOptions): PartitionAssigner {
  const rack = requireRack(options?.rack);
  const userData = Buffer.from(rack ?? '', 'utf8');
  return ({ cluster }) => {
    const meta = cluster as unknown as ClusterLike;
    return {
      name: rackAwareProtocolName,
      version: subscriptionVersion,
      async assign({ members, topics }) {
        const brokerRacks = new Map<number, string>();
        for (const broker of meta.brokerPool?.metadata?.brokers ?? []) {
          if (typeof broker.rack === 'string' && broker.rack !== '')
            brokerRacks.set(broker.nodeId, broker.rack);
        }
        const assignMembers = members.map(({ memberId, memberMetadata }) =>
          assignMemberOf(memberId, memberMetadata, topics),
        );
        const partitions: AssignPartition[] = topics.flatMap((topic) =>
          meta.findTopicPartitionMetadata(topic).map((p) => ({
            topic,
            partition: p.partitionId,
            replicaRacks: (p.replicas ?? []).flatMap((id) => {
              const replicaRack = brokerRacks.get(id);
              return replicaRack === undefined ? [] : [replicaRack];
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
          name: rackAwareProtocolName,
          metadata: encodeSubscription({
            topics,
            userData,
            ownedPartitions: [],
            generationId: -1,
            rackId: rack ?? null,
          }),
        };
      },
    };
  };
}
