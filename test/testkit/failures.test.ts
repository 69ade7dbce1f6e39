// Each way the local cluster can fail to come up gives a clear, typed error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BrokerStartError,
  freePort,
  JavaNotFoundError,
  MavenCentralUnreachableError,
  MavenNotFoundError,
  PortInUseError,
  startCluster,
} from '@cascade/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-testkit-failure-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function holdPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

describe('local cluster start-up failures', () => {
  it('says no Java was found when the Java home does not exist', async () => {
    const error = await startCluster({ mode: 'jvm', javaHome: '/nonexistent/jdk' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JavaNotFoundError);
    expect((error as JavaNotFoundError).code).toBe('CASCADE_TESTKIT_JAVA_NOT_FOUND');
    expect((error as Error).message).toContain('Kafka 4.4.0 needs Java 17 or newer');
  });

  it('says Maven is missing when mvn cannot be run', async () => {
    const error = await startCluster({
      mode: 'jvm',
      registry: false,
      cacheDir: tempDir(),
      mavenCommand: '/nonexistent/bin/mvn',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MavenNotFoundError);
    expect((error as MavenNotFoundError).code).toBe('CASCADE_TESTKIT_MAVEN_NOT_FOUND');
    expect((error as Error).message).toContain('/nonexistent/bin/mvn');
  });

  it('says Maven Central is unreachable, retriably, when the repository refuses connections', async () => {
    const dir = tempDir();
    const closedPort = await freePort();
    const settings = join(dir, 'settings.xml');
    writeFileSync(
      settings,
      `<settings><mirrors><mirror><id>down</id><mirrorOf>*</mirrorOf><url>http://127.0.0.1:${closedPort}/maven2</url></mirror></mirrors></settings>`,
    );
    const error = await startCluster({
      mode: 'jvm',
      registry: false,
      cacheDir: join(dir, 'cache'),
      mavenArgs: ['-s', settings, `-Dmaven.repo.local=${join(dir, 'm2')}`],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MavenCentralUnreachableError);
    expect((error as MavenCentralUnreachableError).code).toBe('CASCADE_TESTKIT_MAVEN_CENTRAL_UNREACHABLE');
    expect((error as MavenCentralUnreachableError).retriable).toBe(true);
    expect((error as MavenCentralUnreachableError).artifact).toBe('org.apache.kafka:kafka_2.13:4.4.0');
    expect((error as MavenCentralUnreachableError).outputTail).toContain(`127.0.0.1:${closedPort}`);
  });

  it('refuses a requested port that is already taken', async () => {
    const taken = await holdPort();
    const error = await startCluster({ mode: 'jvm', registry: false, kafkaPort: taken }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as PortInUseError).port).toBe(taken);
    expect((error as Error).message).toContain(`Port ${taken} (kafkaPort)`);
  });

  it('reports a broker that exits during start-up with the tail of its log', async () => {
    const taken = await holdPort();
    const kafkaPort = await freePort();
    const controllerPort = await freePort();
    // The broker is told to listen on a port something else holds, so it cannot bind and exits.
    const error = await startCluster({
      mode: 'jvm',
      registry: false,
      kafkaPort,
      controllerPort,
      brokerConfig: {
        listeners: `PLAINTEXT://127.0.0.1:${taken},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${taken}`,
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerStartError);
    expect((error as BrokerStartError).code).toBe('CASCADE_TESTKIT_BROKER_START_FAILED');
    expect((error as BrokerStartError).logTail).toMatch(
      /Address already in use|Socket server failed to bind/,
    );
    expect((error as Error).message).toContain('the JVM exited');
  });
});
