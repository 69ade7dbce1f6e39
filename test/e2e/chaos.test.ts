// The chaos run: 500 orders through the order-saga example on a cluster of its own (a broker
// restart must not disturb the other test files, which share the run's cluster). During the run
// the inventory service is killed (kill -9), the broker restarted, and the order service — the
// saga coordinator — killed (kill -9); each comes back. Every invariant still holds at the end.
import { runOrderSaga } from '@cascade/example-order-saga/runner';
import { startCluster } from '@cascade/testkit';
import { expect, it } from 'vitest';
import { expectBalanced } from './expect-balanced.js';

it('keeps every invariant through a kill -9 of the inventory, a broker restart and a kill -9 of the saga coordinator during 500 orders', async () => {
  await using own = await startCluster({ mode: 'jvm', registry: true });
  const report = await runOrderSaga({
    cluster: own,
    orders: 500,
    restartBroker: async () => {
      await own.stopBroker();
      await own.startBroker();
    },
    disruptions: [
      { at: 0.15, action: 'kill-inventory' },
      { at: 0.35, action: 'restart-broker' },
      { at: 0.6, action: 'kill-order' },
    ],
    timeoutMs: 240_000,
    logLevel: 'info',
  });
  console.log([...report.disruptions, `timings: ${JSON.stringify(report.timings)}`].join('\n'));
  expectBalanced(report);
  expect(report.disruptions.filter((d) => !d.startsWith(' '))).toEqual([
    expect.stringMatching(/killed the inventory service/),
    expect.stringMatching(/restarting the Kafka broker/),
    expect.stringMatching(/killed the order service and its saga coordinator/),
  ]);
}, 420_000);
