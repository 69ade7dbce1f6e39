/**
 * Records on their way to the broker, as the producer hands them to a transport.
 * @module
 */

/** A header value on the wire. */
export type WireHeaderValue = Buffer | string | (Buffer | string)[];

/** A record ready for the wire: serialized, with its size known. */
export interface WireRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, WireHeaderValue>;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly sizeBytes: number;
  /** Set by the producer when the record is placed in a partition. */
  partition?: number;
}

/**
 * A record built by Cascade's producer. A transport may recognise its own records by this class
 * (the kafkajs transport encodes only these with Cascade's Produce encoder).
 */
export class OutboundRecord implements WireRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: WireRecord['headers'];
  readonly timestamp: number;
  readonly sizeBytes: number;
  partition: number;

  constructor(
    key: Buffer | null,
    value: Buffer | null,
    headers: WireRecord['headers'],
    timestamp: number,
    sizeBytes: number,
  ) {
    this.key = key;
    this.value = value;
    this.headers = headers;
    this.timestamp = timestamp;
    this.sizeBytes = sizeBytes;
    this.partition = -1;
  }
}

/** The records of one partition for one Produce request. */
export interface ProduceBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly WireRecord[];
}

/** The broker's answer for one batch. */
export interface ProduceResult {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the batch's first record; `'-1'` when acks = 0. */
  readonly baseOffset: string;
  /** `'-1'` unless the topic uses LogAppendTime. */
  readonly logAppendTime: string;
}
