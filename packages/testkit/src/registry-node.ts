import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@cascade/core';
import { RegistryStartError } from './errors.js';
import type { JavaInstallation } from './java.js';
import type { ManagedProcess, Supervisor } from './supervisor.js';
import { waitUntilReady } from './supervisor.js';

/** What a local Apicurio Registry needs to run. */
export interface RegistryNodeOptions {
  readonly java: JavaInstallation;
  readonly appDir: string;
  readonly port: number;
  readonly managementPort: number;
  readonly heapMb: number;
  readonly startTimeoutMs: number;
  /** The global compatibility rule, as Confluent's default. */
  readonly compatibility:
    | 'BACKWARD'
    | 'BACKWARD_TRANSITIVE'
    | 'FORWARD'
    | 'FORWARD_TRANSITIVE'
    | 'FULL'
    | 'FULL_TRANSITIVE'
    | 'NONE';
  readonly logger: Logger;
}

/** The path of Apicurio's Confluent-compatible API. */
export const confluentApiPath = '/apis/ccompat/v7';

/** Apicurio Registry (in-memory storage) running in a local JVM, serving the Confluent-compatible API. */
export class RegistryNode {
  readonly url: string;
  readonly #process: ManagedProcess;

  private constructor(url: string, process: ManagedProcess) {
    this.url = url;
    this.#process = process;
  }

  /** Starts Apicurio and resolves when `GET <url>/subjects` answers 200. */
  static async start(options: RegistryNodeOptions, supervisor: Supervisor): Promise<RegistryNode> {
    const started = Date.now();
    const dir = join(supervisor.runDir, 'registry');
    await mkdir(dir, { recursive: true });
    const args = [
      `-Xms${Math.min(128, options.heapMb)}m`,
      `-Xmx${options.heapMb}m`,
      '-XX:+ExitOnOutOfMemoryError',
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Djava.io.tmpdir=${dir}`,
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${options.port}`,
      `-Dquarkus.management.host=127.0.0.1`,
      `-Dquarkus.management.port=${options.managementPort}`,
      `-Dapicurio.rules.global.compatibility=${options.compatibility}`,
      '-Dapicurio.rest.deletion.artifact.enabled=true',
      '-Dapicurio.rest.deletion.artifact-version.enabled=true',
      '-Dapicurio.rest.deletion.group.enabled=true',
      `-Dapicurio.storage.snapshot.location=${dir}`,
      '-jar',
      join(options.appDir, 'quarkus-run.jar'),
    ];
    const process = supervisor.spawn('apicurio-registry', options.java.executable, args, {
      cwd: dir,
      env: { PATH: globalThis.process.env.PATH ?? '' },
      logFile: join(dir, 'registry.log'),
    });
    const url = `http://127.0.0.1:${options.port}${confluentApiPath}`;
    const outcome = await waitUntilReady(
      process,
      async () => (await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) })).ok,
      options.startTimeoutMs,
    );
    if (outcome !== 'ready') {
      await process.kill();
      const reason =
        outcome === 'exited'
          ? `the JVM exited (code ${process.exit?.code}, signal ${process.exit?.signal})`
          : `GET ${url}/subjects did not answer within ${options.startTimeoutMs} ms`;
      throw new RegistryStartError(reason, process.logFile, process.logTail());
    }
    options.logger.info('Apicurio Registry is up', { url, ms: Date.now() - started });
    return new RegistryNode(url, process);
  }

  /** Stops the registry JVM. Its in-memory schemas are gone afterwards. */
  async stop(): Promise<void> {
    await this.#process.stop(10_000);
  }
}
