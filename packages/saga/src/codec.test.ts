import { describe, expect, it } from 'vitest';
import {
  type CommandRecord,
  decodeCommand,
  decodeInboxEvent,
  decodeState,
  encodeCommand,
  encodeInboxEvent,
  encodeState,
  type InboxEvent,
} from './codec.js';
import { defineSaga } from './definition.js';
import { decide } from './engine.js';
import { MalformedSagaRecordError, SagaErrorCodes } from './errors.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function malformed(run: () => unknown): MalformedSagaRecordError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedSagaRecordError);
    expect((error as MalformedSagaRecordError).code).toBe(SagaErrorCodes.MalformedRecord);
    expect((error as MalformedSagaRecordError).retriable).toBe(false);
    return error as MalformedSagaRecordError;
  }
  throw new Error('expected a MalformedSagaRecordError');
}

describe('saga record codec', () => {
  it('round-trips every kind of inbox event', () => {
    const events: InboxEvent[] = [
      { type: 'begin', saga: 'place-order', input: { orderId: 'o-1' } },
      { type: 'begin', saga: 'place-order', version: 2, input: { orderId: 'o-2' } },
      {
        type: 'reply',
        step: 'reserve',
        phase: 'invoke',
        attempt: 2,
        outcome: 'success',
        result: { id: 'r' },
      },
      {
        type: 'reply',
        step: 'charge',
        phase: 'compensate',
        attempt: 1,
        outcome: 'error',
        error: { type: 'Busy', message: 'later', nextRetryDelayMs: 500, details: { code: 503 } },
      },
      { type: 'timer', timerId: 'retry:charge:invoke:2' },
      { type: 'dispatch-failed', step: 'charge', phase: 'invoke', attempt: 1, reason: 'circuit-open' },
      { type: 'operator', action: 'markCompensated', step: 'charge', by: 'ann', reason: 'refunded by hand' },
    ];
    for (const event of events) expect(decodeInboxEvent(encodeInboxEvent(event))).toEqual(event);
  });

  it('round-trips commands and states', () => {
    const command: CommandRecord = {
      sagaId: 's-1',
      saga: 'place-order',
      seq: 3,
      participant: 'inventory',
      command: 'reserve',
      step: 'reserve',
      phase: 'invoke',
      attempt: 1,
      commandId: 's-1/reserve/invoke/1',
      idempotencyKey: 's-1/reserve/invoke',
      payload: { sku: 'A' },
      replyTo: 'orders.saga-inbox',
    };
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
    const saga = defineSaga<{ sku: string }>('s')
      .step('a', { participant: 'p', invoke: () => ({}) })
      .build();
    const { state } = decide(
      saga,
      undefined,
      { type: 'begin', sagaId: 's-1', input: { sku: 'A' } },
      { now: 5 },
    );
    expect(decodeState(encodeState(state))).toEqual(state);
  });

  it('encodes the commands of a real transition so participants can read them, the first one included', () => {
    const saga = defineSaga<{ sku: string }>('s')
      .step('a', { participant: 'p', invoke: ({ input }) => input })
      .build();
    const begun = decide(saga, undefined, { type: 'begin', sagaId: 's-1', input: { sku: 'A' } }, { now: 5 });
    const effect = begun.effects.find((e) => e.type === 'send-command');
    if (effect?.type !== 'send-command') throw new Error('no command');
    const { type: _type, ...command } = effect;
    const decoded = decodeCommand(encodeCommand({ ...command, saga: 's', replyTo: 'inbox' }));
    expect(decoded).toMatchObject({ seq: 1, payload: { sku: 'A' } });
    expect(decoded.seq).toBe(begun.state.seq);
  });

  it('names what is wrong with a malformed record', () => {
    expect(malformed(() => decodeInboxEvent(null)).message).toBe(
      'Malformed saga event record: the value is empty.',
    );
    expect(malformed(() => decodeInboxEvent(Buffer.from('{not json'))).message).toContain(
      'the value is not JSON',
    );
    expect(malformed(() => decodeInboxEvent(json([1, 2]))).message).toContain('not a JSON object');
    expect(malformed(() => decodeInboxEvent(json({ v: 2, type: 'timer', timerId: 'x' }))).field).toBe('v');
    expect(malformed(() => decodeInboxEvent(json({ v: 1, type: 'explode' }))).field).toBe('type');
    expect(malformed(() => decodeInboxEvent(json({ v: 1, type: 'begin', saga: '' }))).field).toBe('saga');
    expect(
      malformed(() => decodeInboxEvent(json({ v: 1, type: 'begin', saga: 's', version: 0 }))).field,
    ).toBe('version');
    const reply = { v: 1, type: 'reply', step: 's', phase: 'invoke', attempt: 1, outcome: 'error' };
    expect(malformed(() => decodeInboxEvent(json({ ...reply, attempt: 0 }))).field).toBe('attempt');
    expect(malformed(() => decodeInboxEvent(json({ ...reply, phase: 'undo' }))).field).toBe('phase');
    expect(malformed(() => decodeInboxEvent(json(reply))).field).toBe('error');
    expect(malformed(() => decodeInboxEvent(json({ ...reply, error: { message: 'no type' } }))).field).toBe(
      'type',
    );
    expect(malformed(() => decodeCommand(json({ v: 1, sagaId: 's' }))).field).toBe('saga');
    expect(
      malformed(() => decodeState(json({ v: 1, state: { sagaId: 's', saga: 'x', version: 1, seq: 1 } })))
        .field,
    ).toBe('status');
  });

  it('keeps only well-formed optional error fields', () => {
    const event = decodeInboxEvent(
      json({
        v: 1,
        type: 'reply',
        step: 's',
        phase: 'invoke',
        attempt: 1,
        outcome: 'business-failure',
        error: { type: 'Declined', message: 42, nonRetryable: 'yes', nextRetryDelayMs: -1 },
      }),
    );
    expect(event).toEqual({
      type: 'reply',
      step: 's',
      phase: 'invoke',
      attempt: 1,
      outcome: 'business-failure',
      error: { type: 'Declined', message: '' },
    });
  });
});
