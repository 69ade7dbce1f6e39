// A decorated TCC participant over Kafka on the real broker: try, confirm and cancel command
// records go to its command topic, and its replies are read from the reply topic — expiry times,
// duplicates, empty rollbacks, hanging tries, lapsed reservations and confirm-after-cancel.
import { randomUUID } from 'node:crypto';
import * as tcc from '@cascade/saga';
import {
  BusinessFailure,
  createSagaParticipant,
  ensureSagaTopics,
  type Participant,
  sagaTopics,
} from '@cascade/saga';
import type { Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CommandRecord,
  decodeInboxEvent,
  encodeCommand,
  type InboxEvent,
} from '../../packages/saga/src/codec.js';
import { loadDecoratorFixture } from '../support/decorators.js';
import { cluster, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import type { definePayments } from './fixtures/payments-participant.js';

type Reply = Extract<InboxEvent, { type: 'reply' }>;
type Phase = CommandRecord['phase'];

const topics = sagaTopics(uniqueName('tcc-kafka'));
const kafka = { brokers: cluster().brokers, clientId: uniqueName('tcc-kafka') };
const clock = { now: 1_700_000_000_000 };
const log: string[] = [];
const replies: Reply[] = [];
let participant: Participant;
let producer: Producer;
let consumer: Consumer;

beforeAll(async () => {
  await ensureSagaTopics(kafka, topics, { partitions: 1, participants: ['payments'] });
  const { definePayments: define } = await loadDecoratorFixture<{ definePayments: typeof definePayments }>(
    new URL('./fixtures/payments-participant.ts', import.meta.url),
    false,
  );
  const Payments = define({ ...tcc, BusinessFailure }, log);
  const { participant: name, resources } = tcc.tccParticipantFrom(new Payments());
  const guard = tcc.createTccGuard({ store: tcc.memoryGuardStore(), clock: () => clock.now });
  participant = createSagaParticipant({
    kafka,
    topics,
    participant: name,
    commands: tcc.tccCommandMap(resources, { guard, defaultTtlMs: 45_000 }),
  });
  const client = kafkaClient();
  producer = client.producer();
  consumer = client.consumer({ groupId: uniqueName('tcc-replies') });
  await Promise.all([participant.start(), producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: topics.inbox, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = decodeInboxEvent(message.value);
      if (event.type !== 'reply') return;
      bySaga.set(event, message.key?.toString() ?? '');
      replies.push(event);
    },
  });
});

afterAll(async () => {
  await Promise.all([participant?.stop(), producer?.disconnect(), consumer?.disconnect()]);
});

let seq = 0;
/** Sends one command and waits for its reply (matched by saga id, phase and attempt). */
async function command(
  sagaId: string,
  phase: Phase,
  options: { attempt?: number; payload?: unknown; reservationTtlMs?: number; idempotencyKey?: string } = {},
): Promise<Reply> {
  const attempt = options.attempt ?? 1;
  const record: CommandRecord = {
    sagaId,
    saga: 'book-trip',
    seq: ++seq,
    participant: 'payments',
    command: 'authorize',
    step: 'authorize',
    phase,
    attempt,
    commandId: randomUUID(),
    idempotencyKey: options.idempotencyKey ?? `${sagaId}/authorize/${phase}`,
    payload: options.payload ?? { amount: 120 },
    replyTo: topics.inbox,
    ...(options.reservationTtlMs === undefined ? {} : { reservationTtlMs: options.reservationTtlMs }),
  };
  await producer.send({
    topic: topics.commands('payments'),
    messages: [{ key: sagaId, value: encodeCommand(record) }],
  });
  let found: Reply | undefined;
  await waitFor(
    () => {
      found = repliesFor(sagaId).find(
        (reply) => reply.phase === phase && reply.attempt === attempt && !seen.has(reply),
      );
      return found !== undefined;
    },
    () => `a ${phase} reply (attempt ${attempt}) for ${sagaId}`,
  );
  seen.add(found as Reply);
  return found as Reply;
}

// Replies carry no saga id of their own: the record key has it. Each test sends one command at a
// time per saga and never repeats a phase's attempt number, so (saga, phase, attempt) is a reply.
const bySaga = new Map<Reply, string>();
const seen = new Set<Reply>();
function repliesFor(sagaId: string): Reply[] {
  return replies.filter((reply) => bySaga.get(reply) === sagaId);
}

describe('a TCC participant over Kafka', () => {
  it('tries with the expiry in the reply, answers duplicates with it, and confirms once', async () => {
    const sagaId = uniqueName('happy');
    const tried = await command(sagaId, 'invoke', { reservationTtlMs: 30_000 });
    expect(tried).toMatchObject({ outcome: 'success', result: { holdId: `h-${sagaId}` } });
    expect(tried.outcome === 'success' && tried.expiresAt).toBe(clock.now + 30_000);

    // A redelivered try (the idempotency store) and a try under another key (the guard).
    const again = await command(sagaId, 'invoke', { attempt: 2, reservationTtlMs: 30_000 });
    const otherKey = await command(sagaId, 'invoke', { attempt: 3, idempotencyKey: `${sagaId}/other` });
    for (const reply of [again, otherKey]) {
      expect(reply).toMatchObject({
        outcome: 'success',
        result: { holdId: `h-${sagaId}` },
        expiresAt: clock.now + 30_000,
      });
    }
    expect(await command(sagaId, 'confirm')).toMatchObject({ outcome: 'success' });
    expect(
      await command(sagaId, 'confirm', { attempt: 2, idempotencyKey: `${sagaId}/confirm-again` }),
    ).toMatchObject({ outcome: 'success' });
    expect(log.filter((entry) => entry.includes(sagaId))).toEqual([
      `try ${sagaId} 120 ttl=30000`,
      `confirm ${sagaId} {"holdId":"h-${sagaId}"}`,
    ]);
  });

  it('holds a reservation for the default TTL when the command names none', async () => {
    const sagaId = uniqueName('default-ttl');
    expect(await command(sagaId, 'invoke')).toMatchObject({
      outcome: 'success',
      expiresAt: clock.now + 45_000,
    });
  });

  it('answers an empty rollback with success and refuses the hanging try after it', async () => {
    const sagaId = uniqueName('hanging');
    expect(await command(sagaId, 'compensate')).toMatchObject({ outcome: 'success' });
    expect(await command(sagaId, 'invoke')).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'TryAfterCancel' },
    });
    expect(log.filter((entry) => entry.includes(sagaId))).toEqual([]);
  });

  it('maps a business refusal of the try, a confirm without a try, and a cancel after the confirm', async () => {
    const declined = uniqueName('declined');
    expect(await command(declined, 'invoke', { payload: { amount: 5_000 } })).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'CardDeclined' },
    });
    const untried = uniqueName('untried');
    expect(await command(untried, 'confirm')).toMatchObject({
      outcome: 'error',
      error: { type: 'NotTried' },
    });
    const confirmed = uniqueName('confirmed');
    await command(confirmed, 'invoke');
    await command(confirmed, 'confirm');
    expect(await command(confirmed, 'compensate')).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'AlreadyConfirmed' },
    });
  });

  it('refuses a command whose saga id or payload no guard store can hold, before the guard runs', async () => {
    const nulInId = `${uniqueName('nul')}\u0000x`;
    const loneSurrogate = uniqueName('surrogate');
    for (const [sagaId, payload, where] of [
      [nulInId, { amount: 120 }, 'The saga id holds U+0000 (NUL)'],
      [loneSurrogate, { amount: 120, note: 'a\ud800b' }, 'The payload holds an unpaired surrogate at $.note'],
    ] as const) {
      for (const [phase, attempt] of [
        ['invoke', 1],
        ['confirm', 1],
        ['compensate', 1],
      ] as const) {
        const reply = await command(sagaId, phase, { payload, attempt });
        expect(reply).toMatchObject({ outcome: 'business-failure', error: { type: 'MalformedCommand' } });
        expect(reply.outcome === 'business-failure' && reply.error.message).toContain(where);
      }
    }
    // The handlers never ran: nothing reached the guard or the resource.
    expect(log.filter((entry) => entry.includes('nul-') || entry.includes(loneSurrogate))).toEqual([]);
  });

  it('cancels a lapsed reservation on its late confirm and reports it cancelled', async () => {
    const sagaId = uniqueName('lapsed');
    await command(sagaId, 'invoke', { reservationTtlMs: 1_000 });
    clock.now += 1_000;
    expect(await command(sagaId, 'confirm')).toMatchObject({
      outcome: 'business-failure',
      error: { type: 'ReservationCancelled', details: { expired: true } },
    });
    expect(await command(sagaId, 'compensate')).toMatchObject({ outcome: 'success' });
    expect(log.filter((entry) => entry.includes(sagaId))).toEqual([
      `try ${sagaId} 120 ttl=1000`,
      `cancel ${sagaId} expiry`,
    ]);
  });
});
