/**
 * `@cascade/testkit`: a real local Kafka and schema registry for tests, demos and development.
 *
 * @example
 * ```ts
 * import { startCluster } from '@cascade/testkit';
 *
 * await using cluster = await startCluster();
 * // cluster.brokers: ['127.0.0.1:41234'], cluster.registryUrl: 'http://127.0.0.1:40123/apis/ccompat/v7'
 * ```
 * @module
 */

export {
  type Cluster,
  type ClusterNode,
  type ClusterStartup,
  type PartitionReplicas,
  startCluster,
  type WaitOptions,
} from './cluster.js';
export {
  ArtifactResolutionError,
  BrokerStartError,
  JavaNotFoundError,
  MavenCentralUnreachableError,
  MavenNotFoundError,
  PortInUseError,
  RegistryStartError,
  ServerStartError,
  TestcontainersMissingError,
  type TestkitErrorCode,
  TestkitErrorCodes,
  UnsupportedOperationError,
} from './errors.js';
export { findJava, type JavaInstallation } from './java.js';
export {
  type BrokerMetadata,
  type ClusterMetadata,
  type CoordinatorAnswer,
  fetchMetadata,
  findCoordinator,
  type PartitionMetadata,
  type TopicMetadata,
} from './kafka-protocol.js';
export {
  type ClusterMode,
  maxNodes,
  type ResolvedClusterOptions,
  resolveClusterOptions,
  type StartClusterOptions,
} from './options.js';
export { freePort } from './ports.js';
