// The demo's shop, on the test cluster: every order finishes and the books balance.
import { runShop } from '@cascade/example-quickstart/shop';
import { expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';

it('runs the demo shop: every saga finishes, the books balance, and both kinds of compensation happen', async () => {
  const report = await runShop(cluster(), { count: 30, prefix: uniqueName('demo') });
  expect(report.outcomes.completed + report.outcomes.compensated).toBe(30);
  expect(report.outcomes.failed + report.outcomes['needs-attention']).toBe(0);
  expect(Object.keys(report.reasons).sort()).toEqual(['CardDeclined', 'OutOfStock']);
  expect(report.unitsSold.books).toBe(report.unitsSold.orders);
  expect(report.centsCollected.books).toBe(report.centsCollected.orders);
  expect(report.balanced).toBe(true);
});
