/**
 * `@cascade/kafkajs/internal`: what Cascade's own tests and benchmarks reach below the seam
 * (a kafkajs client built like Cascade's, the patches). Not part of the public API: it changes
 * without notice.
 * @module
 */

export { createKafkaClient, kafkajsLogCreator, toKafkajsRetry } from './client.js';
export { toTransportError } from './errors.js';
export { reportDeclinedPatch } from './patch-report.js';
export {
  patchKafkajsNegativeTimeout,
  patchKafkajsProduceEncoding,
  patchKafkajsStuckRequests,
} from './patches.js';
