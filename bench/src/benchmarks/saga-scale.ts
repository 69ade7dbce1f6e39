/**
 * saga-scale: sagas at scale (#17). Two coordinator processes share 12 inbox partitions and begin
 * sagas at a steady rate; the participants, in a third process, answer each of a saga's three
 * steps after `SAGA_SCALE_STEP_MS` (so about rate × 3 × step sagas are live at any time). Three
 * quarters of the way through the begins, one coordinator is killed (`kill -9`) and started again.
 * Reported: sustained sagas/s, coordinator RSS over the run, live sagas held, the saga log's size on disk before and after
 * compaction, the restore time of a partition after the kill, and saga latency.
 *
 * `npm run bench -- saga-scale` runs 30,000 sagas; the full run is
 * `SAGA_SCALE_TOTAL=1000000 npm run bench -- saga-scale` (about an hour at 300 sagas/s).
 */
import { fork } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSagaInspector, ensureSagaTopics, sagaTopics } from '@cascade/saga';
import { Kafka, logLevel } from 'kafkajs';

/** kafkajs' ConfigResourceTypes.TOPIC (its ESM named exports lack the enum). */
const topicResource = 2;

import { type Benchmark, type BenchResult, result } from '../harness.js';
import {
  bucketMs,
  type CoordinatorCommand,
  type CoordinatorReport,
  scaleParticipants,
} from '../scale/shared.js';

const setting = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};

const total = setting('SAGA_SCALE_TOTAL', 30_000);
const rate = setting('SAGA_SCALE_RATE', 300);
const stepMs = setting('SAGA_SCALE_STEP_MS', 10_000);
const retentionMs = setting('SAGA_SCALE_RETENTION_MS', 10_000);
const partitions = 12;
const mb = 2 ** 20;

const script = (name: string) => fileURLToPath(new URL(`../scale/${name}.js`, import.meta.url));

type Stats = Extract<CoordinatorReport, { type: 'stats' }>;

interface Worker {
  readonly name: string;
  readonly child: ReturnType<typeof fork>;
  last: Stats | undefined;
  readonly samples: Stats[];
  readonly restores: Extract<CoordinatorReport, { type: 'restore' }>[];
  histogram: number[] | undefined;
  exited: boolean;
  /** How many sagas it was told to begin. */
  target: number;
}

function startCoordinator(name: string, brokers: string[], prefix: string): Promise<Worker> {
  const child = fork(script('coordinator-process'), [brokers.join(','), prefix, String(retentionMs)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const worker: Worker = {
    name,
    child,
    last: undefined,
    samples: [],
    restores: [],
    histogram: undefined,
    exited: false,
    target: 0,
  };
  child.on('exit', () => {
    worker.exited = true;
  });
  return new Promise((resolve, reject) => {
    child.on('message', (message: CoordinatorReport) => {
      if (message.type === 'ready') resolve(worker);
      else if (message.type === 'stats') {
        worker.last = message;
        worker.samples.push(message);
      } else if (message.type === 'restore') worker.restores.push(message);
      else if (message.type === 'done') worker.histogram = message.histogram;
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
}

const send = (worker: Worker, command: CoordinatorCommand) => {
  if (command.type === 'go') worker.target = command.total;
  worker.child.send(command);
};

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`saga-scale: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Bytes on disk of a topic's partition folders under `dir` (every node's log dirs). */
function bytesOnDisk(dir: string, topic: string): number {
  let sum = 0;
  const walk = (path: string, depth: number): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (!entry.isDirectory()) continue;
      if (entry.name.startsWith(`${topic}-`) && /^\d+$/.test(entry.name.slice(topic.length + 1))) {
        for (const file of readdirSync(full)) sum += statSync(join(full, file)).size;
      } else if (depth < 4) walk(full, depth + 1);
    }
  };
  walk(dir, 0);
  return sum;
}

function percentileOf(histogram: readonly number[], p: number): number {
  const count = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= (p / 100) * count) return (i + 0.5) * bucketMs;
  }
  return Number.NaN;
}

const benchmark: Benchmark = {
  name: 'saga-scale',
  description: `Sagas at scale: ${total.toLocaleString('en')} sagas begun at ${rate}/s by two coordinator processes sharing ${partitions} inbox partitions, participants in a third process answering each of 3 steps after ${stepMs / 1000} s (about ${Math.round((rate * 3 * stepMs) / 1000).toLocaleString('en')} live), finished sagas retained ${retentionMs / 1000} s; one coordinator killed (kill -9) three quarters in and started again. Baselines: the offered rate, the issue's goals (300 MB RSS, 5 s restore, 10,000 live), the log before compaction, 3 × the step wait for latency.`,
  async run({ brokers, dataDir, log }) {
    const kafka = { brokers, clientId: 'bench-saga-scale' };
    const prefix = `bench-scale-${Date.now()}`;
    const topics = sagaTopics(prefix);
    await ensureSagaTopics(kafka, topics, { partitions, participants: [...scaleParticipants] });
    // Compaction that keeps up with a benchmark: segments roll every 10 s, tombstones go 1 s
    // after a clean, any dirty share is cleaned.
    const raw = new Kafka({ brokers, clientId: 'bench-saga-scale-admin', logLevel: logLevel.NOTHING });
    const admin = raw.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: topicResource,
          name: topics.log,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.ms', value: '10000' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '1000' },
            { name: 'min.compaction.lag.ms', value: '0' },
          ],
        },
      ],
    });
    await admin.disconnect();

    const participants = fork(script('participants-process'), [brokers.join(','), prefix, String(stepMs)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      participants.once('message', () => resolve());
      participants.once('exit', (code) => reject(new Error(`participants exited (${code})`)));
    });
    const workers: Worker[] = [];
    try {
      const a = await startCoordinator('a', brokers, prefix);
      workers.push(a);
      let b = await startCoordinator('b', brokers, prefix);
      workers.push(b);
      await until(
        () => (a.last?.partitions ?? 0) + (b.last?.partitions ?? 0) === partitions,
        'the coordinators to share the partitions',
        60_000,
      );
      const half = Math.floor(total / 2);
      const maxInFlight = 50_000;
      const startedAt = Date.now();
      send(a, { type: 'go', ratePerSecond: rate / 2, total: half, maxInFlight });
      send(b, { type: 'go', ratePerSecond: rate / 2, total: total - half, maxInFlight });
      const completed = () => workers.reduce((sum, w) => sum + (w.last?.completed ?? 0), 0);
      const begun = () => workers.reduce((sum, w) => sum + (w.last?.begun ?? 0), 0);
      const live = () => workers.filter((w) => !w.exited).reduce((sum, w) => sum + (w.last?.live ?? 0), 0);
      let peakLive = 0;
      const watch = setInterval(() => {
        peakLive = Math.max(peakLive, live());
        log(
          `${Math.round((Date.now() - startedAt) / 1000)} s: begun ${begun()}, completed ${completed()}, live ${live()}, rss ${workers.map((w) => (w.exited ? '-' : Math.round((w.last?.rss ?? 0) / mb))).join('/')} MB`,
        );
      }, 10_000);

      // Three quarters in: kill -9 one coordinator, time the survivor's restores, start it again.
      await until(
        () => begun() >= total * 0.75,
        'three quarters of the sagas begun',
        (total / rate) * 3_000 + 120_000,
      );
      const bLeft = total - half - (b.last?.begun ?? 0);
      const liveAtKill = live();
      const killedAt = Date.now();
      b.child.kill('SIGKILL');
      log(`killed coordinator b (${liveAtKill} live in all)`);
      await until(
        () => (a.last?.partitions ?? 0) === partitions && (a.last?.at ?? 0) > killedAt,
        'a to hold every partition',
        120_000,
      );
      const takeover = a.restores.filter((r) => r.at > killedAt && r.message.startsWith('Sagas restored'));
      const allHeldAfterMs = Date.now() - killedAt;
      b = await startCoordinator('b2', brokers, prefix);
      workers.push(b);
      send(b, { type: 'go', ratePerSecond: rate / 2, total: bLeft, maxInFlight });

      await until(
        () => workers.every((w) => w.exited || (w.last?.inFlight === 0 && w.last.begun === w.target)),
        'every saga begun and answered',
        (total / rate) * 3_000 + 600_000,
      );
      const endedAt = Date.now();
      clearInterval(watch);
      // The sagas the killed coordinator was waiting on were finished by the others: none is left.
      await using inspector = createSagaInspector({ kafka, topics });
      await inspector.start();
      let unfinished = -1;
      await until(
        async () => {
          const page = await inspector.list({
            status: ['running', 'compensating', 'confirming', 'needs-attention'],
            limit: 1,
          });
          unfinished = page.sagas.length + (page.cursor === undefined ? 0 : 1);
          return unfinished === 0;
        },
        'no saga left unfinished',
        300_000,
      );
      await inspector.close();
      const logBefore = dataDir === undefined ? Number.NaN : bytesOnDisk(dataDir, topics.log);
      let logAfter = logBefore;
      if (dataDir !== undefined) {
        // Compaction runs in the background: wait until the size stops falling (at most 2 min).
        let stable = 0;
        const deadline = Date.now() + 120_000;
        while (stable < 4 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          const now = bytesOnDisk(dataDir, topics.log);
          stable = now < logAfter ? 0 : stable + 1;
          logAfter = Math.min(logAfter, now);
        }
      }
      for (const w of workers) if (!w.exited) send(w, { type: 'stop' });
      await until(
        () => workers.every((w) => w.exited || w.histogram !== undefined),
        'the coordinators to stop',
        60_000,
      );

      const histogram = new Array<number>(workers.find((w) => w.histogram)?.histogram?.length ?? 0).fill(0);
      for (const w of workers) {
        for (const [i, n] of (w.histogram ?? []).entries()) histogram[i] = (histogram[i] ?? 0) + n;
      }
      // Sustained: completions per second in steady state, from the first sagas' end to the kill.
      const ramp = startedAt + 3 * stepMs + 5_000;
      const window = workers.flatMap((w) => w.samples).filter((s) => s.at >= ramp && s.at <= killedAt);
      const first = new Map<string, Stats>();
      const last = new Map<string, Stats>();
      for (const w of workers) {
        const own = w.samples.filter((s) => s.at >= ramp && s.at <= killedAt);
        if (own[0] !== undefined) first.set(w.name, own[0]);
        if (own.at(-1) !== undefined) last.set(w.name, own.at(-1) as Stats);
      }
      let done = 0;
      for (const [name, end] of last) done += end.completed - (first.get(name)?.completed ?? 0);
      const seconds = (Math.max(...window.map((s) => s.at)) - ramp) / 1_000;
      const rss = (fraction: number) => {
        const at = startedAt + fraction * (endedAt - startedAt);
        return (
          Math.max(
            ...workers.map(
              (w) =>
                w.samples.reduce(
                  (best, s) => (Math.abs(s.at - at) < Math.abs(best.at - at) ? s : best),
                  w.samples[0] as Stats,
                ).rss,
            ),
          ) / mb
        );
      };
      const peakRss = Math.max(...workers.flatMap((w) => w.samples.map((s) => s.rss))) / mb;
      const restoreMs = Math.max(...takeover.map((r) => Number(r.meta.ms)));
      const restoredSagas = Math.max(...takeover.map((r) => Number(r.meta.sagas)));
      log(`takeover restores: ${JSON.stringify(takeover.map((r) => r.meta))}`);
      const results: BenchResult[] = [
        result('sustained completions (before the kill)', 'sagas/s', done / seconds, rate),
        result('live sagas held (peak, both coordinators)', 'sagas', peakLive, 10_000),
        result('coordinator RSS, peak', 'MB', peakRss, 300),
        result('coordinator RSS at 25% of the run', 'MB', rss(0.25), 300),
        result('coordinator RSS at 50%', 'MB', rss(0.5), 300),
        result('coordinator RSS at 75%', 'MB', rss(0.75), 300),
        result('coordinator RSS at the end', 'MB', rss(1), 300),
        result(
          `restore of one partition after kill -9 (up to ${restoredSagas} live)`,
          'ms',
          restoreMs,
          5_000,
        ),
        result('kill -9 to every partition held again', 'ms', allHeldAfterMs, 5_000 + 6_000),
        result('saga log on disk after compaction (vs before)', 'MB', logAfter / mb, logBefore / mb),
        result('saga latency p50', 'ms', percentileOf(histogram, 50), 3 * stepMs),
        result('saga latency p99', 'ms', percentileOf(histogram, 99), 3 * stepMs),
      ];
      return results;
    } finally {
      for (const w of workers) if (!w.exited) w.child.kill('SIGKILL');
      participants.send({ type: 'stop' });
      await new Promise((resolve) => {
        participants.once('exit', resolve);
        setTimeout(resolve, 10_000).unref();
      });
      if (participants.exitCode === null) participants.kill('SIGKILL');
    }
  },
};

export default benchmark;
