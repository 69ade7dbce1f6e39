/**
 * Cascade's encoder for Produce requests (v3+, record batch format v2), used by the producer's
 * kafkajs sink instead of kafkajs' own encoder (see `patchKafkajsProduceEncoding`).
 *
 * Why: kafkajs encodes each record into its own growing `Encoder` (a zero-filled buffer that is
 * reallocated as it doubles), copies every record again into the batch, the batch into the
 * partition, the partition into the topic, computes CRC32C one byte at a time, and handles every
 * timestamp delta as a 64-bit `Long` object. For 1 KB records that was about half of the
 * producer's CPU time. This encoder measures the request first, allocates it once, writes every
 * byte in place, and computes CRC32C eight bytes at a time. Its output is byte for byte what
 * kafkajs writes for the same input (pinned by `record-batch.test.ts`), except that the batch's
 * first and max timestamps are compared as numbers (kafkajs sorts them as strings).
 * @module
 */

/** A header value as kafkajs takes it. */
type HeaderValue = Buffer | string | null | undefined;

/** A message as kafkajs' producer hands it to the Produce request. */
export interface ProduceMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, HeaderValue | readonly HeaderValue[]>>;
  readonly timestamp?: number | string | null;
}

/** The Produce request's arguments, as kafkajs' broker passes them to the request factory. */
export interface ProduceArgs {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: number | string | { toString(): string };
  readonly producerEpoch?: number;
  readonly topicData: readonly {
    readonly topic: string;
    readonly partitions: readonly {
      readonly partition: number;
      readonly firstSequence?: number;
      readonly messages: readonly ProduceMessage[];
    }[];
  }[];
}

// ---- CRC32C (Castagnoli), slice-by-8 -------------------------------------------------------

const crcTable = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  crcTable[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let k = 1; k < 8; k++) {
    const previous = crcTable[(k - 1) * 256 + n] as number;
    crcTable[k * 256 + n] = (previous >>> 8) ^ (crcTable[previous & 0xff] as number);
  }
}

/** CRC32C of `buffer[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buffer: Uint8Array, start = 0, end = buffer.length): number {
  const t = crcTable;
  let crc = -1;
  let i = start;
  for (const last = end - 8; i <= last; i += 8) {
    crc ^=
      (buffer[i] as number) |
      ((buffer[i + 1] as number) << 8) |
      ((buffer[i + 2] as number) << 16) |
      ((buffer[i + 3] as number) << 24);
    const hi =
      (buffer[i + 4] as number) |
      ((buffer[i + 5] as number) << 8) |
      ((buffer[i + 6] as number) << 16) |
      ((buffer[i + 7] as number) << 24);
    crc =
      (t[1792 + (crc & 0xff)] as number) ^
      (t[1536 + ((crc >>> 8) & 0xff)] as number) ^
      (t[1280 + ((crc >>> 16) & 0xff)] as number) ^
      (t[1024 + (crc >>> 24)] as number) ^
      (t[768 + (hi & 0xff)] as number) ^
      (t[512 + ((hi >>> 8) & 0xff)] as number) ^
      (t[256 + ((hi >>> 16) & 0xff)] as number) ^
      (t[hi >>> 24] as number);
  }
  for (; i < end; i++) crc = (t[(crc ^ (buffer[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// ---- varints ---------------------------------------------------------------------------------

/** Zig-zag encoded int32 `value` as an unsigned 32-bit number. */
function zigzag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function sizeOfUnsignedVarint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Size of a signed varint (int32 range). */
function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(zigzag32(value));
}

function writeUnsignedVarint(buffer: Buffer, offset: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buffer[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buffer[offset++] = v;
  return offset;
}

function writeVarint(buffer: Buffer, offset: number, value: number): number {
  return writeUnsignedVarint(buffer, offset, zigzag32(value));
}

/** Whether a varlong fits the int32 fast path. */
function isInt32(value: number): boolean {
  return value >= -0x80000000 && value <= 0x7fffffff;
}

function zigzag64(value: number): bigint {
  const v = BigInt.asIntN(64, BigInt(value));
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

function sizeOfVarlong(value: number): number {
  if (isInt32(value)) return sizeOfVarint(value);
  let v = zigzag64(value);
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size += 1;
  }
  return size;
}

function writeVarlong(buffer: Buffer, offset: number, value: number): number {
  if (isInt32(value)) return writeVarint(buffer, offset, value);
  let v = zigzag64(value);
  let at = offset;
  while (v >= 0x80n) {
    buffer[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buffer[at++] = Number(v);
  return at;
}

// ---- fields ----------------------------------------------------------------------------------

/** kafkajs writes a non-Buffer, non-null key, value or header value as `String(value)` in UTF-8. */
function bytesOf(value: unknown): Buffer | string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || typeof value === 'string') return value;
  return String(value);
}

function byteLengthOf(value: Buffer | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/** Size of varint length + bytes (or varint -1 for null). */
function sizeOfVarintBytes(value: Buffer | string | null): number {
  if (value === null) return 1;
  const length = byteLengthOf(value);
  return sizeOfUnsignedVarint(zigzag32(length)) + length;
}

function writeVarintBytes(buffer: Buffer, offset: number, value: Buffer | string | null): number {
  if (value === null) return writeVarint(buffer, offset, -1);
  if (typeof value === 'string') {
    const length = Buffer.byteLength(value, 'utf8');
    const at = writeVarint(buffer, offset, length);
    return at + buffer.write(value, at, length, 'utf8');
  }
  const at = writeVarint(buffer, offset, value.length);
  return at + value.copy(buffer, at);
}

function writeInt64(buffer: Buffer, offset: number, value: number | string | { toString(): string }): number {
  buffer.writeBigInt64BE(BigInt(typeof value === 'number' ? value : value.toString()), offset);
  return offset + 8;
}

/** Size of a record's headers part. kafkajs turns `{ a: [x, y] }` into two headers `a`. */
function sizeOfHeaders(headers: ProduceMessage['headers']): number {
  if (headers === undefined) return 1;
  let count = 0;
  let size = 0;
  for (const key in headers) {
    const value = headers[key];
    const keySize = sizeOfVarintBytes(key);
    if (Array.isArray(value)) {
      for (const one of value as readonly HeaderValue[]) size += keySize + sizeOfVarintBytes(bytesOf(one));
      count += value.length;
    } else {
      size += keySize + sizeOfVarintBytes(bytesOf(value));
      count += 1;
    }
  }
  return sizeOfVarint(count) + size;
}

function writeHeaders(buffer: Buffer, offset: number, headers: ProduceMessage['headers']): number {
  if (headers === undefined) return writeVarint(buffer, offset, 0);
  let count = 0;
  for (const key in headers) {
    const value = headers[key];
    count += Array.isArray(value) ? value.length : 1;
  }
  let at = writeVarint(buffer, offset, count);
  for (const key in headers) {
    const value = headers[key];
    if (Array.isArray(value)) {
      for (const one of value as readonly HeaderValue[]) {
        at = writeVarintBytes(buffer, at, key);
        at = writeVarintBytes(buffer, at, bytesOf(one));
      }
    } else {
      at = writeVarintBytes(buffer, at, key);
      at = writeVarintBytes(buffer, at, bytesOf(value));
    }
  }
  return at;
}

// ---- record batches --------------------------------------------------------------------------

const magic = 2;
const transactionalFlag = 0x10;
/** baseOffset(8) length(4) leaderEpoch(4) magic(1) crc(4) attributes(2) lastOffsetDelta(4) firstTimestamp(8) maxTimestamp(8) producerId(8) producerEpoch(2) firstSequence(4) count(4). */
export const recordBatchOverheadBytes = 61;
/** Where the CRC-covered part (attributes to the end) starts in a batch. */
const crcStart = 21;

/** A partition's batch, measured: what the write pass needs. */
interface MeasuredBatch {
  readonly partition: number;
  readonly firstSequence: number;
  readonly messages: readonly ProduceMessage[];
  readonly timestamps: Float64Array;
  /** Each record's body size (what its length varint says). */
  readonly bodySizes: Int32Array;
  readonly firstTimestamp: number;
  readonly maxTimestamp: number;
  /** Bytes of the records part (after the batch header). */
  readonly recordsBytes: number;
}

/** The timestamp kafkajs gives a message: its own (a number or numeric string), else `now`. */
function timestampOf(message: ProduceMessage, now: number): number {
  const t = message.timestamp;
  if (t === undefined || t === null || t === '') return now;
  return typeof t === 'number' ? t : Number(t);
}

function measureBatch(
  partition: number,
  firstSequence: number,
  messages: readonly ProduceMessage[],
  now: number,
): MeasuredBatch {
  const count = messages.length;
  const timestamps = new Float64Array(count);
  let firstTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const timestamp = timestampOf(messages[i] as ProduceMessage, now);
    timestamps[i] = timestamp;
    if (timestamp < firstTimestamp) firstTimestamp = timestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  const bodySizes = new Int32Array(count);
  let recordsBytes = 0;
  for (let i = 0; i < count; i++) {
    const message = messages[i] as ProduceMessage;
    const body =
      1 + // attributes
      sizeOfVarlong((timestamps[i] as number) - firstTimestamp) +
      sizeOfVarint(i) +
      sizeOfVarintBytes(bytesOf(message.key)) +
      sizeOfVarintBytes(bytesOf(message.value)) +
      sizeOfHeaders(message.headers);
    bodySizes[i] = body;
    recordsBytes += sizeOfVarint(body) + body;
  }
  return {
    partition,
    firstSequence,
    messages,
    timestamps,
    bodySizes,
    firstTimestamp,
    maxTimestamp,
    recordsBytes,
  };
}

/** Writes a batch's records from `offset`; returns the offset after them. */
function writeRecords(buffer: Buffer, offset: number, batch: MeasuredBatch): number {
  let at = offset;
  const { messages, timestamps, bodySizes, firstTimestamp } = batch;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ProduceMessage;
    at = writeVarint(buffer, at, bodySizes[i] as number);
    buffer[at++] = 0; // record attributes: none are used
    at = writeVarlong(buffer, at, (timestamps[i] as number) - firstTimestamp);
    at = writeVarint(buffer, at, i);
    at = writeVarintBytes(buffer, at, bytesOf(message.key));
    at = writeVarintBytes(buffer, at, bytesOf(message.value));
    at = writeHeaders(buffer, at, message.headers);
  }
  return at;
}

interface BatchHeader {
  readonly attributes: number;
  readonly producerId: number | string | { toString(): string };
  readonly producerEpoch: number;
}

/**
 * Writes a whole batch (header, then `writeBody` for the records part of `bodyBytes`) at
 * `offset`, fills in its CRC, and returns the offset after it.
 */
function writeBatch(
  buffer: Buffer,
  offset: number,
  batch: MeasuredBatch,
  header: BatchHeader,
  bodyBytes: number,
  writeBody: (at: number) => number,
): number {
  const start = offset;
  let at = writeInt64(buffer, offset, 0); // base offset: the broker assigns it
  at = buffer.writeInt32BE(recordBatchOverheadBytes - 12 + bodyBytes, at);
  at = buffer.writeInt32BE(0, at); // partition leader epoch
  at = buffer.writeInt8(magic, at);
  const crcAt = at;
  at += 4;
  at = buffer.writeInt16BE(header.attributes, at);
  at = buffer.writeInt32BE(batch.messages.length - 1, at);
  at = writeInt64(buffer, at, batch.firstTimestamp);
  at = writeInt64(buffer, at, batch.maxTimestamp);
  at = writeInt64(buffer, at, header.producerId);
  at = buffer.writeInt16BE(header.producerEpoch, at);
  at = buffer.writeInt32BE(batch.firstSequence, at);
  at = buffer.writeInt32BE(batch.messages.length, at);
  const end = writeBody(at);
  if (end !== at + bodyBytes) {
    throw new Error(`record batch encoding wrote ${end - at} bytes of records, measured ${bodyBytes}`);
  }
  buffer.writeUInt32BE(crc32c(buffer, start + crcStart, end), crcAt);
  return end;
}

/** Compresses a records part (kafkajs codec: `compress(encoder)` reading `encoder.buffer`). */
export type CompressRecords = (records: Buffer) => Promise<Buffer>;

function sizeOfString(value: string | null | undefined): number {
  return value === null || value === undefined ? 2 : 2 + Buffer.byteLength(value, 'utf8');
}

function writeString(buffer: Buffer, offset: number, value: string | null | undefined): number {
  if (value === null || value === undefined) return buffer.writeInt16BE(-1, offset);
  const length = Buffer.byteLength(value, 'utf8');
  const at = buffer.writeInt16BE(length, offset);
  return at + buffer.write(value, at, length, 'utf8');
}

/**
 * Encodes a Produce request body (versions 3 to 7 share it): transactional id, acks, timeout,
 * then per topic and partition one record batch. `compression` is the kafkajs codec type
 * (0 = none); `compress` compresses a batch's records part when it is not 0.
 */
export async function encodeProduceRequest(
  args: ProduceArgs,
  compression = 0,
  compress?: CompressRecords,
  now = Date.now(),
): Promise<Buffer> {
  const header: BatchHeader = {
    attributes: (compression & 0x07) | (args.transactionalId ? transactionalFlag : 0),
    producerId: args.producerId ?? -1,
    producerEpoch: args.producerEpoch ?? 0,
  };
  const topics = args.topicData.map((topic) => ({
    topic: topic.topic,
    batches: topic.partitions.map((p) => measureBatch(p.partition, p.firstSequence ?? 0, p.messages, now)),
  }));
  // Compressed records parts are produced before the request is measured.
  const compressed = new Map<MeasuredBatch, Buffer>();
  if (compression !== 0) {
    if (compress === undefined) throw new Error(`no codec for compression type ${compression}`);
    for (const { batches } of topics) {
      for (const batch of batches) {
        const plain = Buffer.allocUnsafe(batch.recordsBytes);
        writeRecords(plain, 0, batch);
        compressed.set(batch, await compress(plain));
      }
    }
  }
  const bodyBytesOf = (batch: MeasuredBatch) => compressed.get(batch)?.length ?? batch.recordsBytes;

  let size = sizeOfString(args.transactionalId) + 2 + 4 + 4;
  for (const { topic, batches } of topics) {
    size += sizeOfString(topic) + 4;
    for (const batch of batches) size += 4 + 4 + recordBatchOverheadBytes + bodyBytesOf(batch);
  }
  const buffer = Buffer.allocUnsafe(size);
  let at = writeString(buffer, 0, args.transactionalId);
  at = buffer.writeInt16BE(args.acks, at);
  at = buffer.writeInt32BE(args.timeout, at);
  at = buffer.writeInt32BE(topics.length, at);
  for (const { topic, batches } of topics) {
    at = writeString(buffer, at, topic);
    at = buffer.writeInt32BE(batches.length, at);
    for (const batch of batches) {
      const bodyBytes = bodyBytesOf(batch);
      at = buffer.writeInt32BE(batch.partition, at);
      at = buffer.writeInt32BE(recordBatchOverheadBytes + bodyBytes, at);
      const packed = compressed.get(batch);
      at = writeBatch(buffer, at, batch, header, bodyBytes, (from) =>
        packed === undefined ? writeRecords(buffer, from, batch) : from + packed.copy(buffer, from),
      );
    }
  }
  if (at !== size) throw new Error(`produce request encoding wrote ${at} bytes, measured ${size}`);
  return buffer;
}
