/**
 * A saga-scale coordinator process: a coordinator of the group that, told `go`, begins sagas at a
 * steady rate (at most `maxInFlight` waiting for their result at once) and reports once a second.
 * argv: brokers prefix retentionMs
 */
import { randomUUID } from 'node:crypto';
import type { Logger, LogMeta } from '@cascade/core';
import { createSagaCoordinator, sagaTopics } from '@cascade/saga';
import { bucketMs, buckets, type CoordinatorCommand, type CoordinatorReport, scaleSaga } from './shared.js';

const [brokers = '', prefix = '', retentionText = '0'] = process.argv.slice(2);
const report = (message: CoordinatorReport): void => void process.send?.(message);

/** Forwards restore lines to the driver; warnings and errors to stderr. */
function reportingLogger(base: LogMeta = {}): Logger {
  const line = (level: string) => (message: string, meta?: LogMeta) => {
    if (message.startsWith('Sagas restored') || message.startsWith('Sagas kept')) {
      report({
        type: 'restore',
        at: Date.now(),
        message,
        meta: { ...base, ...meta } as Record<string, unknown>,
      });
    }
    if (level === 'warn' || level === 'error')
      process.stderr.write(
        `[coordinator ${process.pid}] ${level} ${message} ${JSON.stringify(meta ?? {}).slice(0, 300)}\n`,
      );
  };
  return {
    debug: () => undefined,
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (meta) => reportingLogger({ ...base, ...meta }),
  };
}

const coordinator = createSagaCoordinator({
  kafka: { brokers: brokers.split(','), clientId: `scale-coordinator-${process.pid}` },
  sagas: [scaleSaga],
  topics: sagaTopics(prefix),
  finishedRetentionMs: Number(retentionText),
  sessionTimeoutMs: 6_000,
  partitionsConcurrently: 6,
  logger: reportingLogger(),
});
await coordinator.start();

const histogram = new Array<number>(buckets).fill(0);
let begun = 0;
let completed = 0;
let failed = 0;
let inFlight = 0;
const stats = setInterval(() => {
  const held = coordinator.partitions();
  const memory = process.memoryUsage();
  report({
    type: 'stats',
    at: Date.now(),
    begun,
    completed,
    failed,
    inFlight,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    live: held.reduce((sum, p) => sum + p.live, 0),
    finished: held.reduce((sum, p) => sum + p.finished, 0),
    partitions: held.length,
  });
}, 1_000);

const one = async (): Promise<void> => {
  const started = performance.now();
  try {
    const id = await coordinator.begin(scaleSaga, { orderId: randomUUID() });
    const outcome = await coordinator.result(id);
    if (outcome === 'completed') completed++;
    else failed++;
    const bucket = Math.min(buckets - 1, Math.floor((performance.now() - started) / bucketMs));
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  } catch (error) {
    failed++;
    process.stderr.write(`[coordinator ${process.pid}] a saga failed: ${String(error)}\n`);
  } finally {
    inFlight--;
  }
};

process.on('message', (message: CoordinatorCommand) => {
  if (message.type === 'stop') {
    clearInterval(stats);
    report({ type: 'done', histogram });
    void coordinator.close().finally(() => process.exit(0));
    return;
  }
  const { ratePerSecond, total, maxInFlight } = message;
  const startedAt = Date.now();
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((Date.now() - startedAt) / 1_000) * ratePerSecond));
    while (begun < due && inFlight < maxInFlight) {
      begun++;
      inFlight++;
      void one();
    }
    if (begun >= total) clearInterval(tick);
  }, 10);
});
report({ type: 'ready' });
