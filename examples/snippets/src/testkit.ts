// docs/testkit.md quotes this file. Run it: npm run build && node examples/snippets/dist/testkit.js
import { fetchMetadata, startCluster } from '@cascade/testkit';

/**
 * Starts a cluster (or finds one through KAFKA_BROKERS / SCHEMA_REGISTRY_URL in `env`), asks the
 * broker for its metadata and the registry for its subjects, and stops what it started.
 */
export async function run(env: Readonly<Record<string, string | undefined>> = process.env) {
  await using cluster = await startCluster({ env });
  const [host = '', port = ''] = (cluster.brokers[0] ?? '').split(':');
  const metadata = await fetchMetadata(host, Number(port), 5_000);
  const subjects = await fetch(`${cluster.registryUrl}/subjects`);
  if (!subjects.ok) throw new Error(`The registry answered ${subjects.status}`);
  return {
    mode: cluster.mode,
    brokers: metadata.brokers.map((broker) => `${broker.host}:${broker.port}`),
    subjects: (await subjects.json()) as string[],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { mode, brokers, subjects } = await run();
  console.log(`${mode} cluster: brokers ${brokers.join(',')}, ${subjects.length} registry subjects`);
}
