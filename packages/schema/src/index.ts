/**
 * `@cascade/schema`: typed serdes, and Avro through a Confluent-compatible schema registry.
 * @module
 */

export type { Headers, HeaderValue, Serde, SerdeContext, SerdeType } from './types.js';
