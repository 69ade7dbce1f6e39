/**
 * The serde contract every Cascade producer, consumer and saga takes its types from.
 * @module
 */

/** One header value as Kafka carries it: bytes, or a string (sent as UTF-8). */
export type HeaderValue = Buffer | string;

/** Record headers. A key may repeat in Kafka; repeated values arrive as an array. */
export type Headers = Record<string, HeaderValue | HeaderValue[] | undefined>;

/** Where the bytes being (de)serialized come from or go to. */
export interface SerdeContext {
  /** The topic of the record. */
  readonly topic: string;
  /** The record's headers. A serializer may add to them (e.g. a schema id header). */
  readonly headers: Headers;
  /** Whether the key (true) or the value (false) is being (de)serialized. */
  readonly isKey: boolean;
  /** The partition, when known (on the consumer side). */
  readonly partition?: number;
  /** The offset, when known (on the consumer side), as Kafka's decimal string. */
  readonly offset?: string;
}

/**
 * Turns values of type `T` into bytes and back. Either side may be synchronous or asynchronous
 * (a registry-backed serde looks schemas up on first use).
 */
export interface Serde<T> {
  serialize(value: T, context: SerdeContext): Buffer | Promise<Buffer>;
  deserialize(bytes: Buffer, context: SerdeContext): T | Promise<T>;
}

/** The type a serde (de)serializes: `SerdeType<typeof orderSerde>`. */
export type SerdeType<S> = S extends Serde<infer T> ? T : never;
