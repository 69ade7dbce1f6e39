// docs/testkit.md quotes this file. Run it: npm run build && node examples/snippets/dist/testkit.js
import { startCluster } from '@cascade/testkit';

/** Starts (or reuses, through KAFKA_BROKERS) a cluster and reports where it is. */
export async function run(): Promise<{ brokers: string[]; registryUrl: string }> {
  await using cluster = await startCluster();
  const subjects = await fetch(`${cluster.registryUrl}/subjects`);
  if (!subjects.ok) throw new Error(`The registry answered ${subjects.status}`);
  return { brokers: cluster.brokers, registryUrl: cluster.registryUrl };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { brokers, registryUrl } = await run();
  console.log(`Kafka at ${brokers.join(',')}, registry at ${registryUrl}`);
}
