/**
 * `cascade-dev`: a local Kafka + schema registry for development.
 *
 *   npx cascade-dev up [--nodes N] [--racks r1,r2,r3] [--kafka-port N] [--registry-port N] [--no-registry]
 *
 * Prints the bootstrap servers and the registry URL, and stops everything on Ctrl-C, SIGTERM or
 * SIGHUP, or when the process that started it ends (an `npx` killed with SIGTERM does not pass the
 * signal on).
 */
import { parseArgs } from 'node:util';
import { createLogger, isCascadeError } from '@cascade/core';
import { startCluster } from './cluster.js';

const usage = `Usage: cascade-dev up [options]

Starts Apache Kafka (KRaft) and Apicurio Registry on 127.0.0.1 and keeps them running until
Ctrl-C or SIGTERM. Uses KAFKA_BROKERS / SCHEMA_REGISTRY_URL when set.

Options:
  --nodes <n>           Kafka nodes, each a broker + KRaft controller (default: 1; with
                        more, replication factor 3 and min ISR 2, local JVMs always)
  --racks <a,b,c>       broker.rack of each node, one per node
  --kafka-port <n>      broker port; node i of several listens on n + i (default: free ports)
  --registry-port <n>   registry port (default: a free port)
  --no-registry         start Kafka only
  --quiet               print only the addresses
  -h, --help            show this help
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      nodes: { type: 'string' },
      racks: { type: 'string' },
      'kafka-port': { type: 'string' },
      'registry-port': { type: 'string' },
      'no-registry': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'up') {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const logger = createLogger(
    (level, message, meta) =>
      process.stderr.write(`[cascade-dev] ${level} ${message} ${JSON.stringify(meta)}\n`),
    { level: values.quiet ? 'warn' : 'info' },
  );
  const integer = (text: string | undefined): number | undefined =>
    // A number or NaN: resolveClusterOptions rejects what is not an integer in range, naming the field.
    text === undefined ? undefined : Number(text);
  const kafkaPort = integer(values['kafka-port']);
  const registryPort = integer(values['registry-port']);
  const nodes = integer(values.nodes);
  const racks = values.racks?.split(',').map((rack) => rack.trim());
  const cluster = await startCluster({
    logger,
    registry: !values['no-registry'],
    ...(nodes === undefined ? {} : { nodes }),
    ...(racks === undefined ? {} : { racks }),
    ...(kafkaPort === undefined ? {} : { kafkaPort }),
    ...(registryPort === undefined ? {} : { registryPort }),
  });
  process.stdout.write(
    `KAFKA_BROKERS=${cluster.brokers.join(',')}\n` +
      (cluster.registryUrl ? `SCHEMA_REGISTRY_URL=${cluster.registryUrl}\n` : '') +
      `# ${cluster.mode} cluster${cluster.nodes.length > 1 ? ` of ${cluster.nodes.length} nodes` : ''} up in ${cluster.startup.totalMs} ms. Ctrl-C stops it.\n`,
  );
  // Until Ctrl-C, SIGTERM or SIGHUP, or until the process that started this one is gone: `npx`
  // and shells killed with SIGTERM do not pass the signal on, and the orphan (reparented, so its
  // parent pid changes) would keep the cluster running. The interval also holds the loop open:
  // signal listeners alone do not keep Node running, and the JVMs are unref'd.
  const parent = process.ppid;
  let watch: NodeJS.Timeout | undefined;
  const why = await new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.once(signal, () => resolve(signal));
    watch = setInterval(() => {
      if (process.ppid !== parent) resolve(`its parent process ${parent} ended`);
    }, 500);
  });
  clearInterval(watch);
  process.stderr.write(`[cascade-dev] ${why}: stopping...\n`);
  await cluster.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cascade-dev: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = isCascadeError(error) ? 1 : 70;
  },
);
