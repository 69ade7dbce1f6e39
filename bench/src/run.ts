/**
 * `npm run bench -- <name>`: runs bench/src/benchmarks/<name>.ts against the cluster from
 * @cascade/testkit (KAFKA_BROKERS / SCHEMA_REGISTRY_URL, or a local one it starts), prints a
 * table, writes bench/results/<name>.json and refreshes the benchmark's table in bench/README.md.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import { startCluster } from '@cascade/testkit';
import { type Benchmark, markdownTable } from './harness.js';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const available = readdirSync(new URL('./benchmarks/', import.meta.url))
  .filter((file) => file.endsWith('.js'))
  .map((file) => file.slice(0, -3));

function updateReadme(name: string, description: string, table: string): void {
  const path = `${benchDir}README.md`;
  const readme = readFileSync(path, 'utf8');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const block = `${start}\n${description}\n\nLast run ${new Date().toISOString().slice(0, 10)} (${machine}):\n\n${table}\n${end}`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  const next =
    from >= 0 && to > from
      ? readme.slice(0, from) + block + readme.slice(to + end.length)
      : `${readme.trimEnd()}\n\n### ${name}\n\n\`npm run bench -- ${name}\`\n\n${block}\n`;
  writeFileSync(path, next);
}

async function main(): Promise<void> {
  // Raw kafkajs baselines get the same fix for Node 24's TimeoutNegativeWarning as Cascade's
  // clients, so both sides of every comparison run the same kafkajs.
  patchKafkajsNegativeTimeout();
  const name = process.argv[2];
  if (name === undefined || !available.includes(name)) {
    process.stderr.write(`Usage: npm run bench -- <name>\nBenchmarks: ${available.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const benchmark = ((await import(`./benchmarks/${name}.js`)) as { default: Benchmark }).default;
  const log = (message: string): void => {
    process.stderr.write(`[bench ${name}] ${message}\n`);
  };
  await using cluster = await startCluster();
  log(`cluster: ${cluster.mode} ${cluster.brokers.join(',')} (up in ${cluster.startup.totalMs} ms)`);
  const results = await benchmark.run({
    brokers: cluster.brokers,
    registryUrl: cluster.registryUrl,
    ...(cluster.dataDir === undefined ? {} : { dataDir: cluster.dataDir }),
    log,
  });
  const table = markdownTable(results);
  process.stdout.write(`\n${benchmark.description}\n\n${table}\n`);
  writeFileSync(`${benchDir}results/${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
  updateReadme(name, benchmark.description, table);
}

await main();
