import { connect } from 'node:net';

/** One broker as a Metadata response lists it. */
export interface BrokerMetadata {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  /** Its `broker.rack`, `null` without one. */
  readonly rack: string | null;
}

/** One partition as a Metadata response describes it. */
export interface PartitionMetadata {
  /** The partition's Kafka error code, 0 when fine. */
  readonly errorCode: number;
  readonly partition: number;
  /** The leader's node id, `-1` while it has none. */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/** One topic as a Metadata response describes it. */
export interface TopicMetadata {
  /** The topic's Kafka error code, 0 when fine (3: unknown topic). */
  readonly errorCode: number;
  readonly name: string;
  readonly internal: boolean;
  readonly partitions: readonly PartitionMetadata[];
}

/** What a Metadata response says about the cluster. */
export interface ClusterMetadata {
  readonly brokers: readonly BrokerMetadata[];
  readonly clusterId: string | null;
  readonly controllerId: number;
  /** The topics asked for (all of them when none were named). */
  readonly topics: readonly TopicMetadata[];
}

/** What a FindCoordinator response says. */
export interface CoordinatorAnswer {
  /** The Kafka error code, 0 when fine (15: the coordinator is not available yet). */
  readonly errorCode: number;
  /** The coordinator's node id, `-1` with an error. */
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

const metadataApiKey = 3;
const metadataVersion = 4;
const findCoordinatorApiKey = 10;
const findCoordinatorVersion = 1;
const clientId = 'cascade-testkit';

function int16Buffer(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}
function int32Buffer(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}
function stringBuffer(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([int16Buffer(bytes.length), bytes]);
}

/** A size-prefixed request with a v1 header (api key, version, correlation id, client id). */
function frame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const message = Buffer.concat([
    int16Buffer(apiKey),
    int16Buffer(version),
    int32Buffer(correlationId),
    stringBuffer(clientId),
    body,
  ]);
  return Buffer.concat([int32Buffer(message.length), message]);
}

/** Encodes a Metadata v4 request: `topics` undefined asks for all topics. Exported for unit tests. */
export function encodeMetadataRequest(correlationId: number, topics?: readonly string[]): Buffer {
  const list =
    topics === undefined
      ? int32Buffer(-1)
      : Buffer.concat([int32Buffer(topics.length), ...topics.map(stringBuffer)]);
  return frame(metadataApiKey, metadataVersion, correlationId, Buffer.concat([list, Buffer.from([0])]));
}

/** Encodes a FindCoordinator v1 request (key type 0: group, 1: transaction). Exported for unit tests. */
export function encodeFindCoordinatorRequest(correlationId: number, keyType: 0 | 1, key: string): Buffer {
  const body = Buffer.concat([stringBuffer(key), Buffer.from([keyType])]);
  return frame(findCoordinatorApiKey, findCoordinatorVersion, correlationId, body);
}

/** Reads big-endian fields off a response body. */
class Reader {
  #at = 0;
  constructor(readonly body: Buffer) {}
  int8(): number {
    const value = this.body.readInt8(this.#at);
    this.#at += 1;
    return value;
  }
  int16(): number {
    const value = this.body.readInt16BE(this.#at);
    this.#at += 2;
    return value;
  }
  int32(): number {
    const value = this.body.readInt32BE(this.#at);
    this.#at += 4;
    return value;
  }
  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const value = this.body.toString('utf8', this.#at, this.#at + length);
    this.#at += length;
    return value;
  }
  array<T>(item: () => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(item());
    return items;
  }
  correlation(expected: number, what: string): void {
    if (this.int32() !== expected) throw new Error(`${what} response has an unexpected correlation id`);
  }
}

/** Decodes a Metadata v4 response body (after the size prefix). Exported for unit tests. */
export function decodeMetadataResponse(body: Buffer, correlationId: number): ClusterMetadata {
  const read = new Reader(body);
  read.correlation(correlationId, 'Metadata');
  read.int32(); // throttle_time_ms
  const brokers = read.array(() => ({
    nodeId: read.int32(),
    host: read.string() ?? '',
    port: read.int32(),
    rack: read.string(),
  }));
  const clusterId = read.string();
  const controllerId = read.int32();
  const topics = read.array(() => ({
    errorCode: read.int16(),
    name: read.string() ?? '',
    internal: read.int8() !== 0,
    partitions: read.array(() => ({
      errorCode: read.int16(),
      partition: read.int32(),
      leader: read.int32(),
      replicas: read.array(() => read.int32()),
      isr: read.array(() => read.int32()),
    })),
  }));
  return { brokers, clusterId, controllerId, topics };
}

/** Decodes a FindCoordinator v1 response body (after the size prefix). Exported for unit tests. */
export function decodeFindCoordinatorResponse(body: Buffer, correlationId: number): CoordinatorAnswer {
  const read = new Reader(body);
  read.correlation(correlationId, 'FindCoordinator');
  read.int32(); // throttle_time_ms
  const errorCode = read.int16();
  read.string(); // error_message
  return { errorCode, nodeId: read.int32(), host: read.string() ?? '', port: read.int32() };
}

/** Sends one request to `host:port` and resolves with the response body (after the size prefix). */
function exchange(
  host: string,
  port: number,
  request: Buffer,
  what: string,
  timeoutMs: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`No ${what} answer from ${host}:${port} in ${timeoutMs} ms`)),
    );
    socket.once('error', fail);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      socket.end();
      resolve(received.subarray(4, 4 + size));
    });
    socket.once('close', () =>
      reject(new Error(`Connection to ${host}:${port} closed before a ${what} answer`)),
    );
  });
}

/**
 * Sends one Metadata request to `host:port` and returns the brokers it lists, and the named
 * `topics` (every topic when `topics` is undefined). Rejects on connection errors, a malformed
 * answer, or after `timeoutMs`.
 */
export async function fetchMetadata(
  host: string,
  port: number,
  timeoutMs: number,
  topics?: readonly string[],
): Promise<ClusterMetadata> {
  const body = await exchange(host, port, encodeMetadataRequest(1, topics), 'Metadata', timeoutMs);
  return decodeMetadataResponse(body, 1);
}

/**
 * Asks `host:port` which broker coordinates the consumer group or transactional id `key`.
 * Resolves with the answer as is, error code included; rejects on connection errors or after `timeoutMs`.
 */
export async function findCoordinator(
  host: string,
  port: number,
  type: 'group' | 'transaction',
  key: string,
  timeoutMs: number,
): Promise<CoordinatorAnswer> {
  const request = encodeFindCoordinatorRequest(1, type === 'group' ? 0 : 1, key);
  const body = await exchange(host, port, request, 'FindCoordinator', timeoutMs);
  return decodeFindCoordinatorResponse(body, 1);
}
