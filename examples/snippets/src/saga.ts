// docs/saga.md quotes this file: a saga driven through the state machine by hand, the way the
// coordinator drives it from Kafka records.
import { decide, defineSaga, replyType, type SagaEffect, type SagaState } from '@cascade/saga';

interface PlaceOrder {
  readonly orderId: string;
  readonly sku: string;
  readonly amountCents: number;
}

export const placeOrder = defineSaga<PlaceOrder>('place-order', { version: 1, timeoutMs: 60_000 })
  .step('reserve-stock', {
    participant: 'inventory',
    invoke: ({ input }) => ({ sku: input.sku, quantity: 1 }),
    reply: replyType<{ reservationId: string }>(),
    compensate: ({ reply }) => ({ reservationId: reply?.reservationId }),
    timeoutMs: 5_000,
    retry: { maximumAttempts: 3 },
  })
  .step('charge-card', {
    participant: 'payment',
    invoke: ({ input, results }) => ({
      amountCents: input.amountCents,
      reservationId: results['reserve-stock'].reservationId,
    }),
    reply: replyType<{ chargeId: string }>(),
    compensate: ({ reply }) => ({ chargeId: reply?.chargeId }),
  })
  .build();

/** Runs one saga in which the card is declined: the stock reservation is released. */
export function run(): { status: string; commands: string[] } {
  const commands: string[] = [];
  const record = (effects: readonly SagaEffect[]) => {
    for (const effect of effects) {
      if (effect.type === 'send-command')
        commands.push(`${effect.phase} ${effect.participant} ${JSON.stringify(effect.payload)}`);
    }
  };
  const env = { now: Date.now() };
  let state: SagaState | undefined;
  const apply = (event: Parameters<typeof decide>[2]) => {
    const decision = decide(placeOrder, state, event, env);
    state = decision.state;
    record(decision.effects);
  };

  apply({
    type: 'begin',
    sagaId: 'order-1',
    input: { orderId: 'order-1', sku: 'SKU-42', amountCents: 1_999 },
  });
  apply({
    type: 'reply',
    step: 'reserve-stock',
    phase: 'invoke',
    attempt: 1,
    outcome: 'success',
    result: { reservationId: 'r-7' },
  });
  apply({
    type: 'reply',
    step: 'charge-card',
    phase: 'invoke',
    attempt: 1,
    outcome: 'business-failure',
    error: { type: 'CardDeclined', message: 'insufficient funds' },
  });
  apply({ type: 'reply', step: 'reserve-stock', phase: 'compensate', attempt: 1, outcome: 'success' });
  return { status: state?.status ?? 'none', commands };
}
