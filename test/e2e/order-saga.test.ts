// The demo's invariants as a test: the order-saga example's three services as processes on the
// run's cluster, 150 orders, the payment service killed and restarted while sagas try payments.
import { runOrderSaga } from '@cascade/example-order-saga/runner';
import { expect, it } from 'vitest';
import { cluster } from '../support/kafka.js';
import { expectBalanced } from './expect-balanced.js';

it('places 150 orders across three service processes through a payment-service crash: every invariant holds', async () => {
  const report = await runOrderSaga({
    cluster: cluster(),
    orders: 150,
    disruptions: [{ at: 0.3, action: 'restart-payment' }],
    timeoutMs: 150_000,
  });
  console.log([...report.disruptions, `timings: ${JSON.stringify(report.timings)}`].join('\n'));
  expectBalanced(report);
  // Each kind of outcome happened: completed, and both reasons to compensate.
  expect(report.books.orders.completed).toBeGreaterThan(0);
  expect(Object.keys(report.books.cancelledBecause).sort()).toEqual(['CardDeclined', 'OutOfStock']);
  expect(report.disruptions[0]).toMatch(/killed the payment service/);
  // The DLTs: the poison record in both, and the bounced notices with the handler's error.
  expect(report.deadLetters.ledger.records).toBe(1);
  expect(
    Object.keys(report.deadLetters.notifications.reasons).some((why) =>
      why.startsWith('MailboxUnavailable:'),
    ),
  ).toBe(true);
  expect(
    Object.keys(report.deadLetters.notifications.reasons).some((why) =>
      why.startsWith('DeserializationError:'),
    ),
  ).toBe(true);
}, 240_000);
