import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import {
  ArtifactResolutionError,
  BrokerStartError,
  JavaNotFoundError,
  MavenCentralUnreachableError,
  MavenNotFoundError,
  PortInUseError,
  RegistryStartError,
  TestkitErrorCodes,
  UnsupportedOperationError,
} from './errors.js';
import { resolveClusterOptions } from './options.js';

describe('cluster options', () => {
  it('default to auto mode, Kafka 4.4.0, Apicurio 3.3.3 and BACKWARD compatibility', () => {
    const options = resolveClusterOptions({ env: { HOME: '/home/dev' } });
    expect(options).toMatchObject({
      mode: 'auto',
      registry: true,
      kafkaVersion: '4.4.0',
      registryVersion: '3.3.3',
      compatibility: 'BACKWARD',
      mavenCommand: 'mvn',
      kafkaHeapMb: 768,
      registryHeapMb: 384,
      externalBrokers: undefined,
      externalRegistryUrl: undefined,
    });
    expect(options.cacheDir.endsWith('/cascade')).toBe(true);
  });

  it('read KAFKA_BROKERS, SCHEMA_REGISTRY_URL and the cache folder from the environment', () => {
    const options = resolveClusterOptions({
      env: {
        KAFKA_BROKERS: 'k1:9092, k2:9092',
        SCHEMA_REGISTRY_URL: 'http://registry:8081/',
        CASCADE_CACHE_DIR: '/var/cache/cascade',
        CASCADE_MVN: '/opt/maven/bin/mvn',
      },
    });
    expect(options.externalBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(options.externalRegistryUrl).toBe('http://registry:8081');
    expect(options.cacheDir).toBe('/var/cache/cascade');
    expect(options.mavenCommand).toBe('/opt/maven/bin/mvn');
  });

  it('reject wrong values with a ConfigError naming the field', () => {
    const field = (run: () => unknown): string => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).field;
      }
      return 'nothing thrown';
    };
    expect(field(() => resolveClusterOptions({ env: { KAFKA_BROKERS: 'no-port' } }))).toBe(
      'KAFKA_BROKERS[0]',
    );
    expect(field(() => resolveClusterOptions({ env: { SCHEMA_REGISTRY_URL: 'registry:8081' } }))).toBe(
      'SCHEMA_REGISTRY_URL',
    );
    expect(field(() => resolveClusterOptions({ mode: 'external', env: {} }))).toBe('mode');
    expect(field(() => resolveClusterOptions({ kafkaPort: 70_000, env: {} }))).toBe('kafkaPort');
    expect(field(() => resolveClusterOptions({ kafkaHeapMb: 64, env: {} }))).toBe('kafkaHeapMb');
  });
});

describe('cluster shape options', () => {
  const field = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CASCADE_CONFIG');
      return (error as ConfigError).field;
    }
    return 'nothing thrown';
  };

  it('default to one node without racks and a 768 MiB heap', () => {
    expect(resolveClusterOptions({ env: {} })).toMatchObject({
      nodes: 1,
      racks: undefined,
      kafkaHeapMb: 768,
    });
  });

  it('give each of several nodes 512 MiB unless told otherwise', () => {
    expect(resolveClusterOptions({ nodes: 3, env: {} }).kafkaHeapMb).toBe(512);
    expect(resolveClusterOptions({ nodes: 3, kafkaHeapMb: 640, env: {} }).kafkaHeapMb).toBe(640);
  });

  it('start several nodes as local JVMs in auto mode, even with KAFKA_BROKERS set', () => {
    const options = resolveClusterOptions({
      nodes: 3,
      racks: ['r1', 'r2', 'r3'],
      env: { KAFKA_BROKERS: '127.0.0.1:19092' },
    });
    expect(options).toMatchObject({ mode: 'jvm', nodes: 3, racks: ['r1', 'r2', 'r3'] });
    expect(resolveClusterOptions({ nodes: 1, env: {} }).mode).toBe('auto');
  });

  it('reject a rack list whose length differs from the node count', () => {
    expect(field(() => resolveClusterOptions({ nodes: 3, racks: ['r1', 'r2'], env: {} }))).toBe('racks');
    expect(field(() => resolveClusterOptions({ racks: ['r1', 'r2'], env: {} }))).toBe('racks');
    expect(field(() => resolveClusterOptions({ nodes: 2, racks: ['r1', ''], env: {} }))).toBe('racks[1]');
  });

  it('reject node counts outside 1 to 9', () => {
    expect(field(() => resolveClusterOptions({ nodes: 0, env: {} }))).toBe('nodes');
    expect(field(() => resolveClusterOptions({ nodes: 10, env: {} }))).toBe('nodes');
    expect(field(() => resolveClusterOptions({ nodes: 2.5, env: {} }))).toBe('nodes');
    expect(resolveClusterOptions({ nodes: 9, env: {} }).nodes).toBe(9);
  });

  it('reject several nodes in docker or external mode, and racks in external mode', () => {
    expect(field(() => resolveClusterOptions({ nodes: 3, mode: 'docker', env: {} }))).toBe('nodes');
    expect(
      field(() => resolveClusterOptions({ nodes: 3, mode: 'external', env: { KAFKA_BROKERS: 'k:9092' } })),
    ).toBe('nodes');
    expect(
      field(() =>
        resolveClusterOptions({ racks: ['r1'], mode: 'external', env: { KAFKA_BROKERS: 'k:9092' } }),
      ),
    ).toBe('racks');
    expect(resolveClusterOptions({ racks: ['r1'], mode: 'docker', env: {} }).racks).toEqual(['r1']);
  });

  it('reject a first port whose followers would run past 65535', () => {
    expect(field(() => resolveClusterOptions({ nodes: 3, kafkaPort: 65_534, env: {} }))).toBe('kafkaPort');
    expect(field(() => resolveClusterOptions({ nodes: 3, controllerPort: 65_534, env: {} }))).toBe(
      'controllerPort',
    );
    expect(resolveClusterOptions({ nodes: 3, kafkaPort: 65_533, env: {} }).kafkaPort).toBe(65_533);
  });
});

describe('testkit errors', () => {
  it('carry their declared codes at runtime', () => {
    expect(new JavaNotFoundError('Kafka', 17, []).code).toBe(TestkitErrorCodes.JavaNotFound);
    expect(new MavenNotFoundError('mvn').code).toBe(TestkitErrorCodes.MavenNotFound);
    expect(new MavenCentralUnreachableError('a:b:1', '').code).toBe(
      TestkitErrorCodes.MavenCentralUnreachable,
    );
    expect(new ArtifactResolutionError('a:b:1', '').code).toBe(TestkitErrorCodes.ArtifactResolution);
    expect(new PortInUseError('kafkaPort', 1).code).toBe(TestkitErrorCodes.PortInUse);
    expect(new BrokerStartError('x', 'f', 't').code).toBe(TestkitErrorCodes.BrokerStartFailed);
    expect(new RegistryStartError('x', 'f', 't').code).toBe(TestkitErrorCodes.RegistryStartFailed);
    expect(new UnsupportedOperationError('stopBroker', 'external').code).toBe(TestkitErrorCodes.Unsupported);
    expect(new MavenCentralUnreachableError('a:b:1', '').retriable).toBe(true);
    expect(new BrokerStartError('x', 'f', 't').retriable).toBe(false);
  });
});

describe('startCluster option keys', () => {
  const fail = (input: unknown): ConfigError => {
    try {
      resolveClusterOptions(input as never);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    return expect.unreachable('accepted');
  };

  it('refuses an unknown key, listing the options when none is close', () => {
    const error = fail({ brokers: ['h:1'], env: {} });
    expect(error.field).toBe('brokers');
    expect(error.message).toContain('The options are: mode, registry, kafkaVersion,');
  });

  it('suggests the key of a misspelt or differently cased one', () => {
    expect(fail({ node: 3, env: {} }).message).toBe(
      'Invalid option node: unknown option. Did you mean nodes?',
    );
    expect(fail({ KafkaPort: 9092, env: {} }).message).toContain(
      '(option names are case-sensitive). Did you mean kafkaPort?',
    );
    expect(fail({ startTimeout: 1_000, env: {} }).message).toContain('Did you mean startTimeoutMs?');
  });

  it('refuses options and a brokerConfig that are not plain objects', () => {
    expect(fail('jvm').field).toBe('options');
    expect(fail({ brokerConfig: [['num.partitions', '3']], env: {} }).field).toBe('brokerConfig');
  });

  it('accepts known keys set to undefined, and any broker property names', () => {
    expect(
      resolveClusterOptions({
        mode: undefined,
        logger: undefined,
        brokerConfig: { 'num.partitions': '3' },
        env: {},
      } as never).brokerConfig,
    ).toEqual({ 'num.partitions': '3' });
  });
});
