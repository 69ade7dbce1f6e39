/**
 * The run's books and orders, generated from a seed so every run with the same seed places the
 * same orders: plentiful and scarce products, customers with ample, thin and empty balances, and
 * one customer whose mailbox bounces (their notifications end in the DLT).
 * @module
 */

import type { CustomerSeed, StockSeed } from './config.js';
import type { PlaceOrder } from './events.js';

/** What a run starts with and places. */
export interface Workload {
  readonly stock: readonly StockSeed[];
  readonly customers: readonly CustomerSeed[];
  readonly orders: readonly PlaceOrder[];
}

/** A small, fast, seeded PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` orders. About 1 in 8 asks for the scarce lamp (it runs out), about 1 in 12 comes from
 * a customer with no money (declined) and the thin balances run dry part-way (declined too).
 */
export function workload(count: number, runId: string, seed = 42): Workload {
  const next = random(seed);
  const stock: StockSeed[] = [
    { sku: 'BOOK', units: Math.ceil(count * 1.2) },
    { sku: 'MUG', units: Math.ceil(count * 1.2) },
    { sku: 'LAMP', units: Math.max(3, Math.floor(count / 25)) },
  ];
  const customers: CustomerSeed[] = [
    ...Array.from({ length: 8 }, (_, i) => ({ customerId: `ann-${i}`, balanceCents: 10_000_000 })),
    ...Array.from({ length: 4 }, (_, i) => ({
      customerId: `bob-${i}`,
      balanceCents: Math.max(10_000, Math.floor(count / 20) * 4_000),
    })),
    { customerId: 'eve-broke', balanceCents: 0 },
    { customerId: 'mal-bounces', balanceCents: 10_000_000, bounces: true },
  ];
  const orders = Array.from({ length: count }, (_, i): PlaceOrder => {
    const roll = next();
    const customer =
      roll < 1 / 12
        ? 'eve-broke'
        : roll < 1 / 12 + 1 / 20
          ? 'mal-bounces'
          : (customers[Math.floor(next() * 12)]?.customerId ?? 'ann-0');
    const sku = next() < 1 / 8 ? 'LAMP' : next() < 0.5 ? 'BOOK' : 'MUG';
    return {
      orderId: `${runId}-${String(i + 1).padStart(4, '0')}`,
      customerId: customer,
      sku,
      quantity: 1 + Math.floor(next() * 3),
      amountCents: 500 + Math.floor(next() * 95) * 100,
    };
  });
  return { stock, customers, orders };
}
