/**
 * `cascade-dev`: a local Kafka + schema registry for development.
 *
 *   npx cascade-dev up [--kafka-port N] [--registry-port N] [--no-registry]
 *
 * Prints the bootstrap servers and the registry URL, and stops everything on Ctrl-C or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createLogger, isCascadeError } from '@cascade/core';
import { startCluster } from './cluster.js';

const usage = `Usage: cascade-dev up [options]

Starts Apache Kafka (KRaft) and Apicurio Registry on 127.0.0.1 and keeps them running until
Ctrl-C or SIGTERM. Uses KAFKA_BROKERS / SCHEMA_REGISTRY_URL when set.

Options:
  --kafka-port <n>      broker port (default: a free port)
  --registry-port <n>   registry port (default: a free port)
  --no-registry         start Kafka only
  --quiet               print only the addresses
  -h, --help            show this help
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
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
  const port = (text: string | undefined): number | undefined =>
    text === undefined ? undefined : Number(text);
  const kafkaPort = port(values['kafka-port']);
  const registryPort = port(values['registry-port']);
  const cluster = await startCluster({
    logger,
    registry: !values['no-registry'],
    ...(kafkaPort === undefined ? {} : { kafkaPort }),
    ...(registryPort === undefined ? {} : { registryPort }),
  });
  process.stdout.write(
    `KAFKA_BROKERS=${cluster.brokers.join(',')}\n` +
      (cluster.registryUrl ? `SCHEMA_REGISTRY_URL=${cluster.registryUrl}\n` : '') +
      `# ${cluster.mode} cluster up in ${cluster.startup.totalMs} ms. Ctrl-C stops it.\n`,
  );
  // Signal listeners alone do not keep Node running, and the JVMs are unref'd: hold the loop open.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  process.stderr.write('[cascade-dev] stopping...\n');
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
