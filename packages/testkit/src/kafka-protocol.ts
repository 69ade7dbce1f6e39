import { connect } from 'node:net';

/** What a Metadata response says about the cluster. */
export interface ClusterMetadata {
  readonly brokers: ReadonlyArray<{ readonly nodeId: number; readonly host: string; readonly port: number }>;
  readonly clusterId: string | null;
  readonly controllerId: number;
}

const metadataApiKey = 3;
const metadataVersion = 4;

function encodeMetadataRequest(correlationId: number, clientId: string): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4 + 1);
  let at = 0;
  at = body.writeInt16BE(metadataApiKey, at);
  at = body.writeInt16BE(metadataVersion, at);
  at = body.writeInt32BE(correlationId, at);
  at = body.writeInt16BE(client.length, at);
  at += client.copy(body, at);
  at = body.writeInt32BE(-1, at); // topics: null = all topics
  body.writeInt8(0, at); // allow_auto_topic_creation: false
  const frame = Buffer.alloc(4);
  frame.writeInt32BE(body.length);
  return Buffer.concat([frame, body]);
}

/** Decodes a Metadata v4 response body (after the size prefix). Exported for unit tests. */
export function decodeMetadataResponse(body: Buffer, correlationId: number): ClusterMetadata {
  let at = 0;
  const int16 = (): number => {
    const value = body.readInt16BE(at);
    at += 2;
    return value;
  };
  const int32 = (): number => {
    const value = body.readInt32BE(at);
    at += 4;
    return value;
  };
  const string = (): string | null => {
    const length = int16();
    if (length < 0) return null;
    const value = body.toString('utf8', at, at + length);
    at += length;
    return value;
  };
  if (int32() !== correlationId) throw new Error('Metadata response has an unexpected correlation id');
  int32(); // throttle_time_ms
  const count = int32();
  const brokers = [];
  for (let i = 0; i < count; i++) {
    const nodeId = int32();
    const host = string() ?? '';
    const port = int32();
    string(); // rack
    brokers.push({ nodeId, host, port });
  }
  const clusterId = string();
  const controllerId = int32();
  return { brokers, clusterId, controllerId };
}

/**
 * Sends one Metadata request to `host:port` and returns the brokers it lists.
 * Rejects on connection errors, a malformed answer, or after `timeoutMs`.
 */
export function fetchMetadata(host: string, port: number, timeoutMs: number): Promise<ClusterMetadata> {
  return new Promise((resolve, reject) => {
    const correlationId = 1;
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`No Metadata answer from ${host}:${port} in ${timeoutMs} ms`)),
    );
    socket.once('error', fail);
    socket.once('connect', () => socket.write(encodeMetadataRequest(correlationId, 'cascade-testkit')));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      socket.end();
      try {
        resolve(decodeMetadataResponse(received.subarray(4, 4 + size), correlationId));
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.once('close', () =>
      reject(new Error(`Connection to ${host}:${port} closed before a Metadata answer`)),
    );
  });
}
