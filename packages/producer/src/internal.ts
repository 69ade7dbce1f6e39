/**
 * `@cascade/producer/internal`: what `@cascade/consumer` and `@cascade/saga` share with the
 * producer below its public API — the transport of a connection config, and the one table that
 * turns transport errors into Cascade errors. Not part of the public API: it changes without
 * notice.
 * @module
 */

export { type ErrorSite, toProducerError, toProducerFailure } from './internal/error-mapping.js';
export { transportClientOf } from './internal/transport-client.js';
