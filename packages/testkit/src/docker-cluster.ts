import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { withTimeout } from '@cascade/core';
import { loadTestcontainers } from './internal/testcontainers.js';
import { singleNodeConfig } from './kafka-node.js';
import { fetchMetadata } from './kafka-protocol.js';
import type { ResolvedClusterOptions } from './options.js';
import { claimPort } from './ports.js';
import { confluentApiPath } from './registry-node.js';

/** What the Docker cluster started. */
export interface DockerCluster {
  readonly brokers: string[] | undefined;
  readonly registryUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * Whether a Docker daemon answers. Cheap when there is no socket at all (the usual case on CI
 * machines without Docker); otherwise asks testcontainers, which knows every way to reach one.
 * Without testcontainers installed (an optional peer dependency) the answer is `false`.
 */
export async function dockerAvailable(env: Readonly<Record<string, string | undefined>>): Promise<boolean> {
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')];
  if (
    !env.DOCKER_HOST &&
    !env.TESTCONTAINERS_HOST_OVERRIDE &&
    !sockets.some((socket) => existsSync(socket))
  ) {
    return false;
  }
  try {
    const { getContainerRuntimeClient } = await loadTestcontainers();
    await withTimeout(getContainerRuntimeClient(), 10_000, 'Looking for a Docker daemon');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts Kafka (`apache/kafka`) and Apicurio Registry (`apicurio/apicurio-registry`) containers.
 * The broker's client port is published on the same host port it advertises.
 * @throws {TestcontainersMissingError} when testcontainers is not installed.
 */
export async function startDockerCluster(
  options: ResolvedClusterOptions,
  parts: { withKafka: boolean; withRegistry: boolean },
): Promise<DockerCluster> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const started: Array<{ stop(): Promise<unknown> }> = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((container) => container.stop()));
  };
  try {
    let brokers: string[] | undefined;
    if (parts.withKafka) {
      const port = await claimPort('kafkaPort', options.kafkaPort);
      const config = {
        ...singleNodeConfig('/var/lib/kafka/data', port, 9093),
        'controller.quorum.voters': '1@localhost:9093',
        listeners: 'PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9094,CONTROLLER://0.0.0.0:9093',
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},BROKER://localhost:9094`,
        'inter.broker.listener.name': 'BROKER',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT',
        ...(options.racks?.[0] === undefined ? {} : { 'broker.rack': options.racks[0] }),
        ...options.brokerConfig,
      };
      const environment: Record<string, string> = { KAFKA_HEAP_OPTS: `-Xmx${options.kafkaHeapMb}m` };
      for (const [key, value] of Object.entries(config)) {
        environment[`KAFKA_${key.toUpperCase().replaceAll('.', '_')}`] = value;
      }
      const kafka = await new GenericContainer(`apache/kafka:${options.kafkaVersion}`)
        .withEnvironment(environment)
        .withExposedPorts({ container: 9092, host: port })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .withStartupTimeout(options.startTimeoutMs)
        .start();
      started.push(kafka);
      await fetchMetadata('127.0.0.1', port, 5_000);
      brokers = [`127.0.0.1:${port}`];
    }
    let registryUrl: string | undefined;
    if (parts.withRegistry) {
      const registry = await new GenericContainer(`apicurio/apicurio-registry:${options.registryVersion}`)
        .withEnvironment({
          JAVA_OPTS_APPEND: [
            `-Xmx${options.registryHeapMb}m`,
            `-Dapicurio.rules.global.compatibility=${options.compatibility}`,
            '-Dapicurio.rest.deletion.artifact.enabled=true',
            '-Dapicurio.rest.deletion.artifact-version.enabled=true',
            '-Dapicurio.rest.deletion.group.enabled=true',
          ].join(' '),
        })
        .withExposedPorts(8080)
        .withWaitStrategy(Wait.forHttp(`${confluentApiPath}/subjects`, 8080))
        .withStartupTimeout(options.startTimeoutMs)
        .start();
      started.push(registry);
      registryUrl = `http://${registry.getHost()}:${registry.getMappedPort(8080)}${confluentApiPath}`;
    }
    return { brokers, registryUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
