import { brandErrorClass, CascadeError, type CascadeErrorOptions } from '@cascade/core';

/** The codes of the errors `@cascade/testkit` throws. */
export const TestkitErrorCodes = {
  JavaNotFound: 'CASCADE_TESTKIT_JAVA_NOT_FOUND',
  MavenNotFound: 'CASCADE_TESTKIT_MAVEN_NOT_FOUND',
  MavenCentralUnreachable: 'CASCADE_TESTKIT_MAVEN_CENTRAL_UNREACHABLE',
  ArtifactResolution: 'CASCADE_TESTKIT_ARTIFACT_RESOLUTION',
  PortInUse: 'CASCADE_TESTKIT_PORT_IN_USE',
  BrokerStartFailed: 'CASCADE_TESTKIT_BROKER_START_FAILED',
  RegistryStartFailed: 'CASCADE_TESTKIT_REGISTRY_START_FAILED',
  Unsupported: 'CASCADE_TESTKIT_UNSUPPORTED',
  TestcontainersMissing: 'CASCADE_TESTKIT_TESTCONTAINERS_MISSING',
} as const;

/** One of {@link TestkitErrorCodes}. */
export type TestkitErrorCode = (typeof TestkitErrorCodes)[keyof typeof TestkitErrorCodes];

/** No Java installation of the version a component needs was found. */
export class JavaNotFoundError extends CascadeError {
  readonly code = TestkitErrorCodes.JavaNotFound;
  /** The lowest Java feature version the component runs on. */
  readonly requiredVersion: number;

  constructor(
    component: string,
    requiredVersion: number,
    searched: readonly string[],
    options?: CascadeErrorOptions,
  ) {
    const where = searched.length > 0 ? ` Looked at: ${searched.join(', ')}.` : '';
    super(
      `${component} needs Java ${requiredVersion} or newer, and none was found.${where} ` +
        `Install a JDK ${requiredVersion}+ or point CASCADE_JAVA_HOME (or JAVA_HOME) at one; ` +
        'or use your own cluster through KAFKA_BROKERS and SCHEMA_REGISTRY_URL.',
      false,
      options,
    );
    this.requiredVersion = requiredVersion;
  }
}
brandErrorClass(JavaNotFoundError, '@cascade/testkit');

/** The `mvn` command is not installed (or not where it was said to be). */
export class MavenNotFoundError extends CascadeError {
  readonly code = TestkitErrorCodes.MavenNotFound;

  constructor(command: string, options?: CascadeErrorOptions) {
    super(
      `Maven (${command}) was not found; the testkit uses it to fetch Kafka and Apicurio Registry from ` +
        'Maven Central. Install Maven, or use your own cluster through KAFKA_BROKERS and SCHEMA_REGISTRY_URL.',
      false,
      options,
    );
  }
}
brandErrorClass(MavenNotFoundError, '@cascade/testkit');

/** Maven could not reach its repository (Maven Central or the configured mirror). Retriable. */
export class MavenCentralUnreachableError extends CascadeError {
  readonly code = TestkitErrorCodes.MavenCentralUnreachable;
  /** The `groupId:artifactId:version` being resolved. */
  readonly artifact: string;
  /** The last lines Maven printed. */
  readonly outputTail: string;

  constructor(artifact: string, outputTail: string, options?: CascadeErrorOptions) {
    super(
      `Could not download ${artifact}: Maven Central (or your Maven mirror) is unreachable. ` +
        `Check the network or ~/.m2/settings.xml, then try again. Maven said:\n${outputTail}`,
      true,
      options,
    );
    this.artifact = artifact;
    this.outputTail = outputTail;
  }
}
brandErrorClass(MavenCentralUnreachableError, '@cascade/testkit');

/** Maven ran but could not resolve an artifact (a wrong version, a broken download). */
export class ArtifactResolutionError extends CascadeError {
  readonly code = TestkitErrorCodes.ArtifactResolution;
  readonly artifact: string;
  readonly outputTail: string;

  constructor(artifact: string, outputTail: string, options?: CascadeErrorOptions) {
    super(
      `Maven could not resolve ${artifact}. Is the version right? Maven said:\n${outputTail}`,
      false,
      options,
    );
    this.artifact = artifact;
    this.outputTail = outputTail;
  }
}
brandErrorClass(ArtifactResolutionError, '@cascade/testkit');

/** A port the testkit was told to use is already taken. */
export class PortInUseError extends CascadeError {
  readonly code = TestkitErrorCodes.PortInUse;
  readonly port: number;

  constructor(what: string, port: number, options?: CascadeErrorOptions) {
    super(
      `Port ${port} (${what}) on 127.0.0.1 is already in use. Stop what holds it, or leave the port unset so a free one is chosen.`,
      false,
      options,
    );
    this.port = port;
  }
}
brandErrorClass(PortInUseError, '@cascade/testkit');

/** A server the testkit started exited or did not become ready in time. Carries the tail of its log. */
export abstract class ServerStartError extends CascadeError {
  /** The last lines of the server's log. */
  readonly logTail: string;
  /** Where the full log is (removed when the cluster stops). */
  readonly logFile: string;

  protected constructor(
    server: string,
    reason: string,
    logFile: string,
    logTail: string,
    options?: CascadeErrorOptions,
  ) {
    super(`${server} failed to start: ${reason}. Last lines of ${logFile}:\n${logTail}`, false, options);
    this.logTail = logTail;
    this.logFile = logFile;
  }
}

/** The Kafka broker exited or did not become ready in time. */
export class BrokerStartError extends ServerStartError {
  readonly code = TestkitErrorCodes.BrokerStartFailed;

  constructor(reason: string, logFile: string, logTail: string, options?: CascadeErrorOptions) {
    super('The Kafka broker', reason, logFile, logTail, options);
  }
}
brandErrorClass(BrokerStartError, '@cascade/testkit');

/** Apicurio Registry exited or did not become ready in time. */
export class RegistryStartError extends ServerStartError {
  readonly code = TestkitErrorCodes.RegistryStartFailed;

  constructor(reason: string, logFile: string, logTail: string, options?: CascadeErrorOptions) {
    super('The schema registry', reason, logFile, logTail, options);
  }
}
brandErrorClass(RegistryStartError, '@cascade/testkit');

/** An operation the cluster's mode does not offer (restarting a broker you did not start). */
export class UnsupportedOperationError extends CascadeError {
  readonly code = TestkitErrorCodes.Unsupported;

  constructor(operation: string, mode: string, options?: CascadeErrorOptions) {
    super(`${operation} is only offered for a local JVM cluster; this cluster is '${mode}'.`, false, options);
  }
}
brandErrorClass(UnsupportedOperationError, '@cascade/testkit');

/**
 * The Docker path was chosen (`mode: 'docker'`) and `testcontainers`, an optional peer dependency
 * of `@cascade/testkit`, is not installed. (`mode: 'auto'` never throws this: without
 * testcontainers it cannot ask Docker, and starts local JVMs.)
 */
export class TestcontainersMissingError extends CascadeError {
  readonly code = TestkitErrorCodes.TestcontainersMissing;

  constructor(options?: CascadeErrorOptions) {
    super(
      "mode 'docker' starts Kafka and the registry through testcontainers, which is not installed " +
        '(it is an optional peer dependency of @cascade/testkit). Install it next to the testkit: ' +
        "npm install --save-dev testcontainers@^11.9.0. Or use mode 'jvm' (local JVMs), or your own " +
        'cluster through KAFKA_BROKERS and SCHEMA_REGISTRY_URL.',
      false,
      options,
    );
  }
}
brandErrorClass(TestcontainersMissingError, '@cascade/testkit');
