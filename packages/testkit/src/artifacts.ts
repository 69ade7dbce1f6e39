import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, TimeoutError } from '@cascade/core';
import { ArtifactResolutionError, MavenCentralUnreachableError, MavenNotFoundError } from './errors.js';
import { withDirectoryLock } from './lock.js';

/** How to run Maven. */
export interface MavenSettings {
  /** The Maven executable. */
  readonly command: string;
  /** Extra arguments for every Maven call (e.g. `['-s', 'settings.xml']`). */
  readonly args: readonly string[];
  /** The folder artifacts are cached in (outside the repository). */
  readonly cacheDir: string;
  readonly logger: Logger;
}

const dependencyPlugin = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const completeMarker = '.complete';
const unreachable =
  /Could not transfer|UnknownHost|Connection refused|Connect(ion)? timed out|Network is unreachable|No route to host|Temporary failure in name resolution|Could not resolve host|Remote host terminated/i;

/** The last `lines` non-empty lines of `text`. */
export function tail(text: string, lines = 25): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .join('\n');
}

function runMaven(
  settings: MavenSettings,
  artifact: string,
  args: readonly string[],
  cwd: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(settings.command, ['-B', '--no-transfer-progress', ...settings.args, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') reject(new MavenNotFoundError(settings.command, { cause: error }));
      else reject(new ArtifactResolutionError(artifact, error.message, { cause: error }));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else if (unreachable.test(output)) reject(new MavenCentralUnreachableError(artifact, tail(output)));
      else reject(new ArtifactResolutionError(artifact, tail(output)));
    });
  });
}

async function cached(
  settings: MavenSettings,
  name: string,
  fetch: (staging: string) => Promise<void>,
): Promise<{ dir: string; downloaded: boolean }> {
  const dir = join(settings.cacheDir, name);
  if (existsSync(join(dir, completeMarker))) return { dir, downloaded: false };
  await mkdir(settings.cacheDir, { recursive: true });
  return withDirectoryLock(join(settings.cacheDir, `.${name}.lock`), 15 * 60_000, async () => {
    if (existsSync(join(dir, completeMarker))) return { dir, downloaded: false };
    const staging = `${dir}.staging-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    try {
      await fetch(staging);
      await writeFile(join(staging, completeMarker), new Date().toISOString());
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return { dir, downloaded: true };
  });
}

/**
 * Resolves `org.apache.kafka:kafka_2.13:<version>` and its runtime dependencies (plus the
 * slf4j binding a Kafka distribution ships) into `<cacheDir>/kafka-<version>/libs`.
 * @returns the folder holding the jars.
 */
export async function resolveKafka(settings: MavenSettings, version: string): Promise<string> {
  const artifact = `org.apache.kafka:kafka_2.13:${version}`;
  const started = Date.now();
  const { dir, downloaded } = await cached(settings, `kafka-${version}`, async (staging) => {
    settings.logger.info('Downloading Kafka from Maven Central (once; cached)', { artifact });
    const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cascade.testkit</groupId><artifactId>kafka-dist</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
`;
    await writeFile(join(staging, 'pom.xml'), pom);
    await runMaven(
      settings,
      artifact,
      [
        `${dependencyPlugin}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${join(staging, 'libs')}`,
      ],
      staging,
    );
  });
  if (downloaded) settings.logger.info('Kafka downloaded', { artifact, ms: Date.now() - started });
  return join(dir, 'libs');
}

/**
 * Resolves `io.apicurio:apicurio-registry-app:<version>:tar.gz:all` and unpacks it into
 * `<cacheDir>/apicurio-<version>/app`.
 * @returns the folder holding `quarkus-run.jar`.
 */
export async function resolveApicurio(settings: MavenSettings, version: string): Promise<string> {
  const artifact = `io.apicurio:apicurio-registry-app:${version}:tar.gz:all`;
  const started = Date.now();
  const { dir, downloaded } = await cached(settings, `apicurio-${version}`, async (staging) => {
    settings.logger.info('Downloading Apicurio Registry from Maven Central (once; cached)', { artifact });
    await runMaven(
      settings,
      artifact,
      [`${dependencyPlugin}:copy`, `-Dartifact=${artifact}`, `-DoutputDirectory=${staging}`],
      staging,
    );
    const archive = (await readdir(staging)).find((file) => file.endsWith('.tar.gz'));
    if (archive === undefined)
      throw new ArtifactResolutionError(artifact, 'Maven reported success but wrote no archive.');
    await mkdir(join(staging, 'app'));
    await untar(join(staging, archive), join(staging, 'app'), artifact);
    await rm(join(staging, archive));
  });
  if (downloaded)
    settings.logger.info('Apicurio Registry downloaded', { artifact, ms: Date.now() - started });
  return join(dir, 'app');
}

function untar(archive: string, into: string, artifact: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-xzf', archive, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 5 * 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    child.on('error', (error) =>
      reject(new ArtifactResolutionError(artifact, `tar failed: ${error.message}`)),
    );
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (signal) reject(new TimeoutError(`Unpacking ${archive}`, 5 * 60_000));
      else reject(new ArtifactResolutionError(artifact, `tar exited with ${code}: ${tail(errors)}`));
    });
  });
}
