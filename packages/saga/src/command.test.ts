import { ConfigError } from '@cascade/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type CommandContract, defineCommand, handle } from './command.js';
import { defineSaga } from './definition.js';
import { decide } from './engine.js';
import { BusinessFailure, type CommandContext, createSagaParticipant } from './participant.js';

interface Reserve {
  readonly sku: string;
  readonly quantity: number;
}
interface Reserved {
  readonly reservationId: string;
}
interface Release {
  readonly reservationId: string;
}

const reserveStock = defineCommand<Reserve, Reserved, Release>('inventory', 'reserve-stock', {
  validate: (payload) => {
    const p = payload as Partial<Reserve>;
    if (typeof p?.sku !== 'string' || !Number.isInteger(p.quantity) || (p.quantity ?? 0) < 1) {
      throw new Error('expected { sku: string, quantity: integer >= 1 }');
    }
    return p as Reserve;
  },
});

const context: CommandContext = {
  sagaId: 's-1',
  saga: 'order',
  step: 'reserve',
  phase: 'invoke',
  attempt: 1,
  idempotencyKey: 's-1/reserve/invoke',
  command: 'reserve-stock',
};

describe('typed command contracts', () => {
  it('carry the participant and name to the step that sends them, and the reply type to later steps', () => {
    const saga = defineSaga<{ sku: string }>('order')
      .step('reserve', {
        command: reserveStock,
        invoke: ({ input }) => ({ sku: input.sku, quantity: 1 }),
        compensate: ({ reply }) => ({ reservationId: reply?.reservationId ?? '' }),
      })
      .step('confirm', {
        run: ({ results }) => {
          expectTypeOf(results.reserve).toEqualTypeOf<Reserved>();
          return results.reserve.reservationId;
        },
      })
      .build();
    const step = saga.steps.get('reserve');
    expect(step).toMatchObject({
      kind: 'remote',
      participant: 'inventory',
      command: 'reserve-stock',
      compensable: true,
    });
    const { effects } = decide(
      saga,
      undefined,
      { type: 'begin', sagaId: 's-1', input: { sku: 'A' } },
      { now: 1 },
    );
    expect(effects).toContainEqual(
      expect.objectContaining({
        type: 'send-command',
        participant: 'inventory',
        command: 'reserve-stock',
        payload: { sku: 'A', quantity: 1 },
      }),
    );
  });

  it('refuse at compile time a payload or a compensation that does not match the contract', () => {
    // (With the step's overloads, TypeScript reports a mismatch on the call.)
    // @ts-expect-error quantity must be a number
    defineSaga<{ sku: string }>('typed').step('reserve', {
      command: reserveStock,
      invoke: ({ input }) => ({ sku: input.sku, quantity: '1' }),
    });
    // @ts-expect-error the compensation takes a reservationId
    defineSaga<{ sku: string }>('typed').step('reserve', {
      command: reserveStock,
      invoke: ({ input }) => ({ sku: input.sku, quantity: 1 }),
      compensate: () => ({ id: 'r-1' }),
    });
    handle(reserveStock, {
      // @ts-expect-error the reply must be Reserved
      invoke: async () => ({ reservation: 'r-1' }),
    });
    expect(true).toBe(true);
  });

  it('type the handler by the contract and validate payloads before the handler runs', async () => {
    const seen: Reserve[] = [];
    const commands = handle(reserveStock, {
      invoke: async (payload) => {
        expectTypeOf(payload).toEqualTypeOf<Reserve>();
        seen.push(payload);
        return { reservationId: `r-${payload.sku}` };
      },
      compensate: (payload) => {
        expectTypeOf(payload).toEqualTypeOf<Release>();
        return undefined;
      },
    });
    const handlers = commands['reserve-stock'];
    expect(Object.keys(commands)).toEqual(['reserve-stock']);
    await expect(handlers?.invoke({ sku: 'A', quantity: 2 }, context)).resolves.toEqual({
      reservationId: 'r-A',
    });
    for (const bad of [null, {}, { sku: 'A' }, { sku: 'A', quantity: 0 }, { sku: 1, quantity: 1 }, 'A']) {
      let error: unknown;
      try {
        await handlers?.invoke(bad, context);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(BusinessFailure);
      expect(error).toMatchObject({ type: 'InvalidCommand', retriable: false });
      expect((error as Error).message).toContain('payload of reserve-stock failed validation');
    }
    expect(seen).toEqual([{ sku: 'A', quantity: 2 }]);
    await expect(Promise.resolve(handlers?.compensate?.({ reservationId: 'r-A' }, context))).resolves.toBe(
      undefined,
    );
  });

  it("refuse a contract's handlers on another participant, naming both", () => {
    const pay = defineCommand<{ cents: number }, { chargeId: string }>('payment', 'charge');
    const error = (() => {
      try {
        createSagaParticipant({
          kafka: { brokers: ['127.0.0.1:9'] },
          participant: 'inventory',
          commands: { ...handle(pay, { invoke: () => ({ chargeId: 'c' }) }) },
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field: 'commands.charge' });
    expect((error as Error).message).toContain('belongs to participant payment, not inventory');
  });

  it.each([
    ['', 'x', 'participant'],
    ['inventory', 'has space', 'name'],
    ['inventory', '', 'name'],
  ])('refuse a malformed participant or name (%j, %j)', (participant, name, field) => {
    expect(() => defineCommand(participant, name)).toThrow(ConfigError);
    try {
      defineCommand(participant, name);
    } catch (error) {
      expect((error as ConfigError).field).toBe(field);
    }
  });

  it('keep the types only at compile time', () => {
    const contract: CommandContract<Reserve, Reserved, Release> = reserveStock;
    expect(Object.keys(contract).sort()).toEqual(['name', 'participant', 'validatePayload', 'validateUndo']);
    expect(Object.isFrozen(contract)).toBe(true);
  });
});
