/**
 * What the saga-scale benchmark's processes share: the saga, its participants and the messages
 * the coordinator processes send the driver.
 */
import { defineSaga, replyType } from '@cascade/saga';

/** Three remote steps; each participant answers after the step's wait (an I/O-bound service). */
export const scaleSaga = defineSaga<{ orderId: string }>('scale-order')
  .step('reserve', {
    participant: 'inventory',
    invoke: ({ input }) => ({ orderId: input.orderId }),
    reply: replyType<{ ok: true }>(),
    compensate: () => ({}),
    timeoutMs: 120_000,
  })
  .step('charge', {
    participant: 'payment',
    invoke: ({ input }) => ({ orderId: input.orderId }),
    compensate: () => ({}),
    timeoutMs: 120_000,
  })
  .step('ship', {
    participant: 'shipping',
    invoke: ({ input }) => ({ orderId: input.orderId }),
    timeoutMs: 120_000,
  })
  .build();

export const scaleParticipants = ['inventory', 'payment', 'shipping'] as const;
export const scaleCommands = { inventory: 'reserve', payment: 'charge', shipping: 'ship' } as const;

/** Latency histogram buckets: 100 ms wide up to 10 minutes. */
export const bucketMs = 100;
export const buckets = 6_000;

/** What a coordinator process reports, once a second and at the end. */
export type CoordinatorReport =
  | { readonly type: 'ready' }
  | {
      readonly type: 'stats';
      readonly at: number;
      readonly begun: number;
      readonly completed: number;
      readonly failed: number;
      readonly inFlight: number;
      readonly rss: number;
      readonly heapUsed: number;
      readonly live: number;
      readonly finished: number;
      readonly partitions: number;
    }
  | {
      readonly type: 'restore';
      readonly at: number;
      readonly message: string;
      readonly meta: Record<string, unknown>;
    }
  | { readonly type: 'done'; readonly histogram: number[] };

/** What the driver tells a coordinator process. */
export type CoordinatorCommand =
  | {
      readonly type: 'go';
      readonly ratePerSecond: number;
      readonly total: number;
      readonly maxInFlight: number;
    }
  | { readonly type: 'stop' };
