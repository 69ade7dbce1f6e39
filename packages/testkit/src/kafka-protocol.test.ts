import { describe, expect, it } from 'vitest';
import {
  decodeFindCoordinatorResponse,
  decodeMetadataResponse,
  encodeFindCoordinatorRequest,
  encodeMetadataRequest,
} from './kafka-protocol.js';

function string(text: string | null): Buffer {
  if (text === null) return Buffer.from([0xff, 0xff]);
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}
function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}
function int32s(values: number[]): Buffer {
  return Buffer.concat([int32(values.length), ...values.map(int32)]);
}
/** A request header v1: api key, version, correlation id, client id. */
function header(apiKey: number, version: number, correlationId: number): Buffer {
  return Buffer.concat([int16(apiKey), int16(version), int32(correlationId), string('cascade-testkit')]);
}
function sized(body: Buffer): Buffer {
  return Buffer.concat([int32(body.length), body]);
}

const brokers = Buffer.concat([
  int32(2),
  int32(1),
  string('127.0.0.1'),
  int32(9092),
  string(null),
  int32(2),
  string('kafka-2'),
  int32(19092),
  string('rack-a'),
]);

describe('Metadata v4', () => {
  it('reads the brokers with their racks, the cluster id and the controller', () => {
    const body = Buffer.concat([
      int32(7), // correlation id
      int32(0), // throttle
      brokers,
      string('AbCdEfGhIjKlMnOpQrStUv'),
      int32(1),
      int32(0), // no topics
    ]);
    expect(decodeMetadataResponse(body, 7)).toEqual({
      brokers: [
        { nodeId: 1, host: '127.0.0.1', port: 9092, rack: null },
        { nodeId: 2, host: 'kafka-2', port: 19092, rack: 'rack-a' },
      ],
      clusterId: 'AbCdEfGhIjKlMnOpQrStUv',
      controllerId: 1,
      topics: [],
    });
  });

  it('reads each topic and partition with its leader, replicas and in-sync replicas', () => {
    const body = Buffer.concat([
      int32(3),
      int32(0),
      brokers,
      string(null),
      int32(2),
      int32(2), // two topics
      int16(0),
      string('orders'),
      Buffer.from([0]),
      int32(2), // two partitions
      int16(0),
      int32(0),
      int32(2),
      int32s([2, 1, 3]),
      int32s([2, 3]),
      int16(5), // LEADER_NOT_AVAILABLE
      int32(1),
      int32(-1),
      int32s([3, 2, 1]),
      int32s([]),
      int16(3), // UNKNOWN_TOPIC_OR_PARTITION
      string('missing'),
      Buffer.from([0]),
      int32(0),
    ]);
    expect(decodeMetadataResponse(body, 3).topics).toEqual([
      {
        errorCode: 0,
        name: 'orders',
        internal: false,
        partitions: [
          { errorCode: 0, partition: 0, leader: 2, replicas: [2, 1, 3], isr: [2, 3] },
          { errorCode: 5, partition: 1, leader: -1, replicas: [3, 2, 1], isr: [] },
        ],
      },
      { errorCode: 3, name: 'missing', internal: false, partitions: [] },
    ]);
  });

  it('asks for all topics with a null list, or for the named ones, never creating them', () => {
    expect(encodeMetadataRequest(5)).toEqual(
      sized(Buffer.concat([header(3, 4, 5), int32(-1), Buffer.from([0])])),
    );
    expect(encodeMetadataRequest(6, ['orders', 'payments'])).toEqual(
      sized(
        Buffer.concat([header(3, 4, 6), int32(2), string('orders'), string('payments'), Buffer.from([0])]),
      ),
    );
    expect(encodeMetadataRequest(7, [])).toEqual(
      sized(Buffer.concat([header(3, 4, 7), int32(0), Buffer.from([0])])),
    );
  });

  it('rejects an answer to another request', () => {
    expect(() => decodeMetadataResponse(Buffer.concat([int32(8), int32(0), int32(0)]), 7)).toThrow(
      'unexpected correlation id',
    );
  });
});

describe('FindCoordinator v1', () => {
  it('asks with the key and its type: 0 for a group, 1 for a transactional id', () => {
    expect(encodeFindCoordinatorRequest(9, 0, 'orders-group')).toEqual(
      sized(Buffer.concat([header(10, 1, 9), string('orders-group'), Buffer.from([0])])),
    );
    expect(encodeFindCoordinatorRequest(9, 1, 'tx-1')).toEqual(
      sized(Buffer.concat([header(10, 1, 9), string('tx-1'), Buffer.from([1])])),
    );
  });

  it('reads the coordinator, or the error while there is none', () => {
    const answer = (errorCode: number, message: string | null, nodeId: number, host: string, port: number) =>
      Buffer.concat([
        int32(4),
        int32(0),
        int16(errorCode),
        string(message),
        int32(nodeId),
        string(host),
        int32(port),
      ]);
    expect(decodeFindCoordinatorResponse(answer(0, null, 3, '127.0.0.1', 9094), 4)).toEqual({
      errorCode: 0,
      nodeId: 3,
      host: '127.0.0.1',
      port: 9094,
    });
    expect(decodeFindCoordinatorResponse(answer(15, 'not available', -1, '', -1), 4)).toEqual({
      errorCode: 15,
      nodeId: -1,
      host: '',
      port: -1,
    });
    expect(() => decodeFindCoordinatorResponse(answer(0, null, 1, 'h', 1), 5)).toThrow(
      'unexpected correlation id',
    );
  });
});
