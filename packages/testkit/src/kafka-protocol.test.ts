import { describe, expect, it } from 'vitest';
import { decodeMetadataResponse } from './kafka-protocol.js';

function string(text: string | null): Buffer {
  if (text === null) return Buffer.from([0xff, 0xff]);
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

describe('Metadata v4 response decoding', () => {
  it('reads the brokers, cluster id and controller', () => {
    const body = Buffer.concat([
      int32(7), // correlation id
      int32(0), // throttle
      int32(2),
      int32(1),
      string('127.0.0.1'),
      int32(9092),
      string(null),
      int32(2),
      string('kafka-2'),
      int32(19092),
      string('rack-a'),
      string('AbCdEfGhIjKlMnOpQrStUv'),
      int32(1),
      int32(0), // no topics
    ]);
    expect(decodeMetadataResponse(body, 7)).toEqual({
      brokers: [
        { nodeId: 1, host: '127.0.0.1', port: 9092 },
        { nodeId: 2, host: 'kafka-2', port: 19092 },
      ],
      clusterId: 'AbCdEfGhIjKlMnOpQrStUv',
      controllerId: 1,
    });
  });

  it('rejects an answer to another request', () => {
    expect(() => decodeMetadataResponse(Buffer.concat([int32(8), int32(0), int32(0)]), 7)).toThrow(
      'unexpected correlation id',
    );
  });
});
