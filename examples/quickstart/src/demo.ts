/**
 * The in-process shop (`node examples/quickstart/dist/demo.js` after `npm run build`; `npm run
 * demo` runs the larger examples/order-saga): starts a real local Kafka and schema registry (or uses KAFKA_BROKERS /
 * SCHEMA_REGISTRY_URL), runs 60 orders through a small shop built on every Cascade package (see
 * shop.ts), prints what happened and whether the books balance, and stops everything. Exits 0
 * only if every order finished and nothing was lost or applied twice.
 */
import { startCluster } from '@cascade/testkit';
import { runShop } from './shop.js';

const started = Date.now();
const say = (message: string): void => {
  console.log(`[demo +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
};

async function main(): Promise<boolean> {
  say('Starting Kafka and the schema registry (the first run downloads them from Maven Central)...');
  await using cluster = await startCluster();
  say(
    `Cluster up (${cluster.mode}) in ${cluster.startup.totalMs} ms: Kafka ${cluster.brokers.join(',')}, registry ${cluster.registryUrl}`,
  );
  say(
    'Placing 60 orders: Avro OrderPlaced events -> order service -> place-order saga (inventory, payment)...',
  );
  let last = 0;
  const report = await runShop(cluster, {
    count: 60,
    progress: (done, total) => {
      if (done === total || done - last >= 15) {
        last = done;
        say(`  ${done}/${total} sagas finished`);
      }
    },
  });
  say(
    `Completed: ${report.outcomes.completed}, compensated: ${report.outcomes.compensated}, failed: ${report.outcomes.failed}, needs attention: ${report.outcomes['needs-attention']}`,
  );
  say(`Why compensated: ${JSON.stringify(report.reasons)}`);
  say(
    `Units sold — inventory books: ${report.unitsSold.books}, completed orders: ${report.unitsSold.orders}`,
  );
  say(
    `Cents collected — payment books: ${report.centsCollected.books}, completed orders: ${report.centsCollected.orders}`,
  );
  say(
    report.balanced
      ? 'The books balance: nothing lost, nothing applied twice. Stopping the cluster.'
      : 'The books DO NOT balance.',
  );
  return report.balanced;
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    console.error('Demo failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
