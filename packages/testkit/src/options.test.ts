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
