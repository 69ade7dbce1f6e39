// The rack-aware assigner live: the broker of the test cluster is in a rack (test/setup/cluster.ts
// sets broker.rack), so the assignment must follow the racks the broker reports, not only balance.
// Member ids start with the client id, and the assigner breaks ties by member id: the member in the
// broker's rack sorts last, so a merely balanced assignment would give it the smaller share.
import { type Consumer, createConsumer } from '@cascade/consumer';
import { json } from '@cascade/schema';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let brokerRack: string;
beforeAll(() => {
  brokerRack = cluster().rack;
  if (brokerRack === '') {
    throw new Error(
      'The rack-aware tests need a broker with broker.rack: set KAFKA_BROKER_RACK to the rack of KAFKA_BROKERS.',
    );
  }
});

async function group(topic: string, members: ReadonlyArray<{ clientId: string; rack: string }>) {
  const groupId = uniqueName('racks');
  const consumers = members.map(({ clientId, rack }) => {
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers, clientId: `${clientId}-${uniqueName('c')}` },
      groupId,
      rackId: rack,
      assignors: ['rack-aware'],
    });
    consumer.subscribe({ topic, value: json(), handler: () => {} });
    cleanups.push(() => consumer.stop());
    return consumer;
  });
  await Promise.all(consumers.map((c) => c.start()));
  return { groupId, consumers };
}

const owned = (consumer: Consumer) =>
  consumer
    .stats()
    .assigned.map((tp) => tp.partition)
    .sort();

describe('rack-aware assignment on a broker with a rack', () => {
  it("gives a one-partition topic to the member in the broker's rack, though it sorts last", async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('rack-one');
    await createTopic(kafka, topic, 1);
    const {
      groupId,
      consumers: [remote, local],
    } = await group(topic, [
      { clientId: 'aaa-remote', rack: `${brokerRack}-elsewhere` },
      { clientId: 'zzz-local', rack: brokerRack },
    ]);
    if (remote === undefined || local === undefined) throw new Error('two members expected');
    await waitFor(
      () => owned(local).length + owned(remote).length === 1,
      () => `one partition assigned, got local ${owned(local)} and remote ${owned(remote)}`,
    );
    expect(owned(local)).toEqual([0]);
    expect(owned(remote)).toEqual([]);
    const admin = kafka.admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([groupId]);
    await admin.disconnect();
    expect(groups[0]?.protocol).toBe('CascadeRackAwareAssigner');
    expect(groups[0]?.members).toHaveLength(2);
  });

  it("stays balanced and gives the extra partition to the member in the broker's rack", async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('rack-three');
    await createTopic(kafka, topic, 3);
    const {
      consumers: [remote, local],
    } = await group(topic, [
      { clientId: 'aaa-remote', rack: `${brokerRack}-elsewhere` },
      { clientId: 'zzz-local', rack: brokerRack },
    ]);
    if (remote === undefined || local === undefined) throw new Error('two members expected');
    await waitFor(
      () => owned(local).length + owned(remote).length === 3,
      () => `three partitions assigned, got local ${owned(local)} and remote ${owned(remote)}`,
    );
    expect(owned(local)).toHaveLength(2);
    expect(owned(remote)).toHaveLength(1);
    expect([...owned(local), ...owned(remote)].sort()).toEqual([0, 1, 2]);
  });

  it('falls back to plain balance by member id when no member is in the broker rack', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('rack-none');
    await createTopic(kafka, topic, 3);
    const {
      consumers: [first, second],
    } = await group(topic, [
      { clientId: 'aaa-first', rack: `${brokerRack}-x` },
      { clientId: 'zzz-second', rack: `${brokerRack}-y` },
    ]);
    if (first === undefined || second === undefined) throw new Error('two members expected');
    await waitFor(
      () => owned(first).length + owned(second).length === 3,
      () => `three partitions assigned, got ${owned(first)} and ${owned(second)}`,
    );
    expect(owned(first)).toHaveLength(2);
    expect(owned(second)).toHaveLength(1);
  });
});
