// One real cluster per test run, shared by every integration test file: started here, stopped
// when the run ends. Tests get its addresses with inject('cluster').
import { createLogger } from '@cascade/core';
import { startCluster } from '@cascade/testkit';
import type { TestProject } from 'vitest/node';

export interface ProvidedCluster {
  readonly brokers: string[];
  readonly registryUrl: string;
  readonly mode: string;
  /**
   * The rack of the run's broker (`broker.rack`), for the rack-aware assignment tests. A cluster
   * started here is in rack `rack-a`; an external one (`KAFKA_BROKERS`) says its rack through
   * `KAFKA_BROKER_RACK`, or has none (`''`).
   */
  readonly rack: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ProvidedCluster;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger(
    (level, message, meta) => process.stderr.write(`[testkit] ${level} ${message} ${JSON.stringify(meta)}\n`),
    { level: 'info' },
  );
  const rack = process.env.KAFKA_BROKERS ? (process.env.KAFKA_BROKER_RACK ?? '') : 'rack-a';
  const cluster = await startCluster({ logger, brokerConfig: { 'broker.rack': 'rack-a' } });
  project.provide('cluster', {
    brokers: cluster.brokers,
    registryUrl: cluster.registryUrl,
    mode: cluster.mode,
    rack,
  });
  return () => cluster.stop();
}
