/**
 * `npm run demo`: starts a local Kafka and schema registry (or uses KAFKA_BROKERS /
 * SCHEMA_REGISTRY_URL), runs the order-saga example — three services as processes — with a few
 * hundred orders and a payment-service crash in the middle, prints the audit, and exits 0 only if
 * every invariant holds. Ctrl-C stops everything it started.
 */
import { startCluster } from '@cascade/testkit';
import {
  checkPostgres,
  PostgresUnavailableError,
  type Progress,
  type RunReport,
  runOrderSaga,
} from './runner.js';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const interactive = process.stdout.isTTY === true;
let progressShown = false;
const clearProgress = () => {
  if (interactive && progressShown) process.stdout.write('\r\x1b[2K');
  progressShown = false;
};
const say = (message: string): void => {
  clearProgress();
  console.log(`[demo +${elapsed()}] ${message}`);
};
let lastPrinted = 0;
const showProgress = (p: Progress): void => {
  const bar = '#'.repeat(Math.round((p.finished / p.total) * 30)).padEnd(30, '.');
  const line = `[${bar}] ${p.finished}/${p.total} orders finished (${p.completed} completed, ${p.cancelled} cancelled), ${p.placed} placed`;
  if (interactive) {
    process.stdout.write(`\r\x1b[2K[demo +${elapsed()}] ${line}`);
    progressShown = true;
  } else if (Date.now() - lastPrinted > 3_000 || p.finished === p.total) {
    lastPrinted = Date.now();
    say(line);
  }
};

function summary(report: RunReport): void {
  const { books } = report;
  say('');
  say(`Summary of run ${report.runId} (${report.orders} orders):`);
  say(
    `  completed ${books.orders.completed}, compensated (cancelled) ${books.orders.cancelled}: ${Object.entries(
      books.cancelledBecause,
    )
      .map(([why, n]) => `${why} ${n}`)
      .join(', ')}`,
  );
  say('  stock, per product (initial - shipped = on hand, reserved):');
  for (const s of books.stock)
    say(
      `    ${s.sku.padEnd(5)} ${s.initial} - ${s.shipped} = ${s.onHand}, reserved ${s.reserved} (completed orders asked for ${s.ordered})`,
    );
  const b = books.balances;
  say(
    `  balances (cents): initial ${b.initial} - captured ${b.captured} = ${b.final}, held ${b.held} (completed orders' amounts ${b.completedAmount})`,
  );
  say(
    `  completed orders ${books.counts.completed} = captured payments ${books.counts.captured} = shipped reservations ${books.counts.shipped}; notifications sent ${books.counts.notified}`,
  );
  for (const dead of [report.deadLetters.notifications, report.deadLetters.ledger]) {
    say(`  DLT ${dead.topic}: ${dead.records} records`);
    for (const [why, n] of Object.entries(dead.reasons)) say(`    ${n} x ${why}`);
  }
  say('  disruptions:');
  for (const d of report.disruptions) say(`    ${d}`);
  const delayed = Object.entries(report.stepsDelayed);
  say(
    `  what they cost: ${delayed.length === 0 ? 'nothing visible' : delayed.map(([what, n]) => `${n} x ${what}`).join(', ')} (retried with the same idempotency key; parked = the circuit breaker held them)`,
  );
  say('Invariants:');
  for (const check of report.checks) say(`  ${check.ok ? 'OK  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  say(
    `Orders took ${(report.timings.ordersMs / 1000).toFixed(1)} s, settling ${(report.timings.settleMs / 1000).toFixed(1)} s, the run ${(report.timings.totalMs / 1000).toFixed(1)} s. Service logs: ${report.logDir}`,
  );
}

async function main(): Promise<boolean> {
  const abort = new AbortController();
  const onSignal = () => {
    say('Interrupted: stopping the services and the cluster...');
    abort.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await checkPostgres();
  say('Starting Kafka and the schema registry (the first run downloads them from Maven Central)...');
  await using cluster = await startCluster();
  say(
    `Cluster up (${cluster.mode}) in ${cluster.startup.totalMs} ms: Kafka ${cluster.brokers.join(',')}, registry ${cluster.registryUrl}`,
  );
  say(
    'Starting the order (with the saga coordinator), inventory and payment services as processes; placing 300 orders...',
  );
  const report = await runOrderSaga({
    cluster,
    orders: 300,
    disruptions: [{ at: 0.35, action: 'restart-payment' }],
    onProgress: showProgress,
    onEvent: say,
    signal: abort.signal,
  });
  summary(report);
  say(
    report.ok
      ? 'Every invariant holds: nothing lost, nothing applied twice. Stopping the cluster.'
      : 'SOME INVARIANTS DO NOT HOLD.',
  );
  return report.ok;
}

main().then(
  (ok) => {
    clearProgress();
    say(`Done in ${elapsed()}.`);
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    clearProgress();
    console.error(
      error instanceof PostgresUnavailableError
        ? `The demo needs PostgreSQL: ${error.message}`
        : `Demo failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exitCode = 1;
  },
);
