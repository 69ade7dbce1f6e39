import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  type Logger,
  optionKeys,
  rejectUnknownKeys,
  requireBrokers,
  requireInteger,
  requireNonEmptyString,
  requireOneOf,
  requirePlainObject,
  safeLogger,
} from '@cascade/core';
import type { RegistryNodeOptions } from './registry-node.js';

/** How {@link startCluster} gets its cluster. */
export type ClusterMode = 'external' | 'docker' | 'jvm';

/** Options of {@link startCluster}. Every field is optional. */
export interface StartClusterOptions {
  /**
   * Where the cluster comes from. `'auto'`: `KAFKA_BROKERS` if set, else Docker through
   * testcontainers if a Docker daemon answers, else local JVMs fetched from Maven Central.
   * @default 'auto'
   */
  readonly mode?: 'auto' | ClusterMode;
  /**
   * Start a schema registry too. With `false`, `registryUrl` is the empty string.
   * @default true
   */
  readonly registry?: boolean;
  /**
   * The Apache Kafka version (`org.apache.kafka:kafka_2.13`, or the `apache/kafka` image).
   * @default '4.4.0'
   */
  readonly kafkaVersion?: string;
  /**
   * The Apicurio Registry version (`io.apicurio:apicurio-registry-app:<v>:tar.gz:all`). Needs Java 21+.
   * @default '3.3.3'
   */
  readonly registryVersion?: string;
  /**
   * Where downloaded artifacts are cached (outside any repository).
   * @default `$CASCADE_CACHE_DIR`, else `$XDG_CACHE_HOME/cascade`, else `~/.cache/cascade`
   */
  readonly cacheDir?: string;
  /** Use exactly this Java home for both JVMs instead of searching. */
  readonly javaHome?: string;
  /**
   * The Maven executable.
   * @default `$CASCADE_MVN`, else `'mvn'`
   */
  readonly mavenCommand?: string;
  /** Extra Maven arguments, e.g. `['-s', '/path/settings.xml']`. @default [] */
  readonly mavenArgs?: readonly string[];
  /**
   * How many Kafka nodes to start, each a combined broker + KRaft controller (all of them
   * voters). With more than one, replication factors (default, offsets, transaction state) are
   * `min(nodes, 3)` and min ISR one less, and followers serve fetches from their rack
   * (`RackAwareReplicaSelector`). A multi-node cluster is always started here as local JVMs:
   * `'auto'` then ignores `KAFKA_BROKERS` and Docker, and `'external'` or `'docker'` is a
   * `ConfigError`. At most 9.
   * @default 1
   */
  readonly nodes?: number;
  /**
   * `broker.rack` of each node, one per node (`racks.length` must equal `nodes`), e.g.
   * `['r1', 'r2', 'r3']`. Given racks, `'auto'` never takes `KAFKA_BROKERS`: the cluster's shape
   * is asked for, so this call starts it.
   * @default no racks
   */
  readonly racks?: readonly string[];
  /** The broker's port on 127.0.0.1; node `i` of several listens on `kafkaPort + i`. @default free ports */
  readonly kafkaPort?: number;
  /** The KRaft controller's port on 127.0.0.1; node `i` of several on `controllerPort + i`. @default free ports */
  readonly controllerPort?: number;
  /** The registry's HTTP port on 127.0.0.1. @default a free port */
  readonly registryPort?: number;
  /** Maximum heap of each Kafka JVM, in MiB. @default 768 for one node, 512 each for several */
  readonly kafkaHeapMb?: number;
  /** Maximum heap of the registry JVM, in MiB. @default 384 */
  readonly registryHeapMb?: number;
  /** How long each server may take to answer after its JVM starts. @default 120000 */
  readonly startTimeoutMs?: number;
  /** Broker properties that override the single-node defaults, e.g. `{ 'num.partitions': '3' }`. */
  readonly brokerConfig?: Readonly<Record<string, string>>;
  /** The registry's global compatibility rule. @default 'BACKWARD' (Confluent's default) */
  readonly compatibility?: RegistryNodeOptions['compatibility'];
  /** Where progress (downloads, start-up times) is logged. @default defaultLogger (warnings and errors to stderr) */
  readonly logger?: Logger;
  /** The environment to read `KAFKA_BROKERS`, `SCHEMA_REGISTRY_URL`, `CASCADE_*` from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The keys of {@link StartClusterOptions}. */
export const startClusterOptionKeys = optionKeys<StartClusterOptions>({
  mode: true,
  registry: true,
  kafkaVersion: true,
  registryVersion: true,
  cacheDir: true,
  javaHome: true,
  mavenCommand: true,
  mavenArgs: true,
  nodes: true,
  racks: true,
  kafkaPort: true,
  controllerPort: true,
  registryPort: true,
  kafkaHeapMb: true,
  registryHeapMb: true,
  startTimeoutMs: true,
  brokerConfig: true,
  compatibility: true,
  logger: true,
  env: true,
});

/** {@link StartClusterOptions} with every default applied. */
export interface ResolvedClusterOptions {
  readonly mode: 'auto' | ClusterMode;
  readonly registry: boolean;
  readonly nodes: number;
  readonly racks: readonly string[] | undefined;
  readonly kafkaVersion: string;
  readonly registryVersion: string;
  readonly cacheDir: string;
  readonly javaHome: string | undefined;
  readonly mavenCommand: string;
  readonly mavenArgs: readonly string[];
  readonly kafkaPort: number | undefined;
  readonly controllerPort: number | undefined;
  readonly registryPort: number | undefined;
  readonly kafkaHeapMb: number;
  readonly registryHeapMb: number;
  readonly startTimeoutMs: number;
  readonly brokerConfig: Readonly<Record<string, string>>;
  readonly compatibility: RegistryNodeOptions['compatibility'];
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** From `KAFKA_BROKERS`, when set. */
  readonly externalBrokers: string[] | undefined;
  /** From `SCHEMA_REGISTRY_URL`, when set. */
  readonly externalRegistryUrl: string | undefined;
}

const compatibilityLevels = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

/** The most nodes {@link StartClusterOptions.nodes} allows. */
export const maxNodes = 9;

const optionalPort = (field: string, value: number | undefined, nodes: number): number | undefined =>
  value === undefined ? undefined : requireInteger(field, value, 1, 65_536 - nodes);

function resolveRacks(racks: readonly string[] | undefined, nodes: number): readonly string[] | undefined {
  if (racks === undefined) return undefined;
  if (racks.length !== nodes) {
    throw new ConfigError(
      'racks',
      `expected one rack per node (${nodes}), got ${racks.length}. Give as many racks as nodes, or none.`,
    );
  }
  return racks.map((rack, i) => requireNonEmptyString(`racks[${i}]`, rack));
}

/** Applies defaults and validates; throws `ConfigError` naming the wrong field. */
export function resolveClusterOptions(input: StartClusterOptions = {}): ResolvedClusterOptions {
  rejectUnknownKeys('', input, startClusterOptionKeys);
  if (input.brokerConfig !== undefined) requirePlainObject('brokerConfig', input.brokerConfig);
  const env = input.env ?? process.env;
  const nodes = requireInteger('nodes', input.nodes ?? 1, 1, maxNodes);
  const racks = resolveRacks(input.racks, nodes);
  const askedMode = requireOneOf('mode', input.mode ?? 'auto', ['auto', 'external', 'docker', 'jvm']);
  if (nodes > 1 && (askedMode === 'external' || askedMode === 'docker')) {
    throw new ConfigError(
      'nodes',
      `a cluster of ${nodes} nodes runs as local JVMs only; mode '${askedMode}' offers one node. Use mode 'jvm' or 'auto'.`,
    );
  }
  if (racks !== undefined && askedMode === 'external') {
    throw new ConfigError('racks', "racks shape a cluster this call starts; mode 'external' starts none.");
  }
  const mode = nodes > 1 ? 'jvm' : askedMode;
  const brokersText = env.KAFKA_BROKERS?.trim();
  const externalBrokers = brokersText ? requireBrokers('KAFKA_BROKERS', brokersText.split(',')) : undefined;
  if (mode === 'external' && externalBrokers === undefined) {
    throw new ConfigError(
      'mode',
      "'external' needs KAFKA_BROKERS (comma-separated host:port) in the environment.",
    );
  }
  const registryText = env.SCHEMA_REGISTRY_URL?.trim();
  if (registryText && !/^https?:\/\//.test(registryText)) {
    throw new ConfigError('SCHEMA_REGISTRY_URL', 'expected an http:// or https:// URL.');
  }
  const cacheDir =
    input.cacheDir ??
    env.CASCADE_CACHE_DIR ??
    join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cascade');
  return {
    mode,
    registry: input.registry ?? true,
    nodes,
    racks,
    kafkaVersion: requireNonEmptyString('kafkaVersion', input.kafkaVersion ?? '4.4.0'),
    registryVersion: requireNonEmptyString('registryVersion', input.registryVersion ?? '3.3.3'),
    cacheDir: requireNonEmptyString('cacheDir', cacheDir),
    javaHome: input.javaHome,
    mavenCommand: requireNonEmptyString('mavenCommand', input.mavenCommand ?? env.CASCADE_MVN ?? 'mvn'),
    mavenArgs: input.mavenArgs ?? [],
    kafkaPort: optionalPort('kafkaPort', input.kafkaPort, nodes),
    controllerPort: optionalPort('controllerPort', input.controllerPort, nodes),
    registryPort: optionalPort('registryPort', input.registryPort, 1),
    kafkaHeapMb: requireInteger('kafkaHeapMb', input.kafkaHeapMb ?? (nodes === 1 ? 768 : 512), 128),
    registryHeapMb: requireInteger('registryHeapMb', input.registryHeapMb ?? 384, 128),
    startTimeoutMs: requireInteger('startTimeoutMs', input.startTimeoutMs ?? 120_000, 1_000),
    brokerConfig: input.brokerConfig ?? {},
    compatibility: requireOneOf('compatibility', input.compatibility ?? 'BACKWARD', compatibilityLevels),
    logger: safeLogger(input.logger),
    env,
    externalBrokers,
    externalRegistryUrl: registryText ? registryText.replace(/\/+$/, '') : undefined,
  };
}
