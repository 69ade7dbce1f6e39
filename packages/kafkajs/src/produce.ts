/**
 * The seam's `Produce` on kafkajs: one `sendBatch()` per request, with every record's partition
 * decided by Cascade (kafkajs' partitioner only echoes it).
 * @module
 */

import {
  OutboundRecord,
  PartialProduceFailure,
  type Produce,
  type ProduceBatch,
  type ProduceOptions,
  type ProduceResult,
  TransportError,
  type WireRecord,
} from '@cascade/transport';
import {
  CompressionTypes,
  type RecordMetadata as KafkajsRecordMetadata,
  type Message,
  type ProducerBatch,
} from 'kafkajs';
import { toTransportError, transportName } from './errors.js';
import { cascadeEncodesProduceRequests } from './patches.js';
import {
  BatchAlreadyStoredError,
  forgetProduceTrace,
  type ProduceTrace,
  produceTraceOf,
} from './produce-trace.js';

/** What the sink needs of a kafkajs producer or transaction. */
export interface BatchSender {
  sendBatch(batch: ProducerBatch): Promise<KafkajsRecordMetadata[]>;
}

/** kafkajs partitioner that keeps the partition Cascade chose. */
export const explicitPartitioner = () => (args: { message: Message }) => args.message.partition ?? 0;

/**
 * The records as kafkajs messages: themselves. Cascade's encoder (`record-batch.ts`) writes them;
 * should kafkajs' encoder write them instead (the patch is not in place, or a record is not an
 * `OutboundRecord`), a batch with a timestamp kafkajs would take for "none" (0, as kafkajs
 * tests `timestamp || now`) is copied with string timestamps.
 */
function asMessages(records: readonly WireRecord[]): Message[] {
  for (const record of records) {
    if (record.timestamp === 0 && !(record instanceof OutboundRecord && cascadeEncodesProduceRequests())) {
      return records.map((r) => ({ ...r, timestamp: String(r.timestamp) }));
    }
  }
  return records as unknown as Message[];
}

/** Whether `error` (or an error it wraps, as kafkajs' retrier does) is {@link BatchAlreadyStoredError}. */
function isAlreadyStored(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof BatchAlreadyStoredError) return true;
    const like = current as { originalError?: unknown; cause?: unknown };
    current = like.originalError ?? like.cause;
  }
  return false;
}

function missingError(batch: ProduceBatch, cause?: unknown): TransportError {
  return new TransportError(
    `the leader of partition ${batch.partition} of ${batch.topic} moved while kafkajs sent the request, and no broker stored this batch. It is sent again`,
    {
      kind: 'protocol',
      kafkaType: 'NOT_LEADER_OR_FOLLOWER',
      retriable: true,
      transport: transportName,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

const compressionOf = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
} as const;

/**
 * The sink on a kafkajs producer or transaction: one `sendBatch()` per call. It reports per
 * batch: when kafkajs splits a call across brokers (its metadata knows a leader moved) and one
 * part fails, the batches a broker stored are reported stored ({@link PartialProduceFailure}), as
 * the broker requests' tracing saw them (`produce-trace.ts`), so the accumulator never sends them again;
 * kafkajs rolled back the sequence numbers of the failed part, so resending that part keeps
 * its sequence numbers and the broker drops a copy it already has.
 */
export function kafkajsProduce(
  target: () => BatchSender,
  onLeadersMoved?: (topics: readonly string[]) => void,
): Produce {
  /** The stored batches of a call, and whether kafkajs needed more than one broker request for it. */
  const inspect = (batches: readonly ProduceBatch[]): { stored: ProduceResult[]; moved: boolean } => {
    const stored: ProduceResult[] = [];
    let request: number | undefined;
    let moved = false;
    for (const batch of batches) {
      const first = batch.records[0];
      const trace = first === undefined ? undefined : produceTraceOf(first);
      if (trace === undefined) continue;
      if (trace.requests > 1 || (request !== undefined && trace.request !== request)) moved = true;
      request = trace.request;
      if (trace.stored !== undefined) {
        stored.push({ topic: batch.topic, partition: batch.partition, ...trace.stored });
      }
    }
    if (moved && onLeadersMoved !== undefined) onLeadersMoved([...new Set(batches.map((b) => b.topic))]);
    return { stored, moved };
  };
  return async (
    batches: readonly ProduceBatch[],
    options: ProduceOptions,
  ): Promise<readonly ProduceResult[]> => {
    const { acks, timeoutMs } = options;
    const compression = compressionOf[options.compression];
    // A wire record is a kafkajs message already (key, value, headers, timestamp in epoch ms,
    // which kafkajs takes as a number too, and the partition the accumulator placed it in).
    const byTopic = new Map<string, Message[]>();
    for (const batch of batches) {
      const first = batch.records[0];
      if (first !== undefined) forgetProduceTrace(first);
      const records = asMessages(batch.records);
      const messages = byTopic.get(batch.topic);
      if (messages === undefined) byTopic.set(batch.topic, records);
      else byTopic.set(batch.topic, messages.concat(records));
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    let results: KafkajsRecordMetadata[];
    try {
      results = await target().sendBatch({ topicMessages, acks, timeout: timeoutMs, compression });
    } catch (error) {
      // kafkajs gives up as soon as one broker request fails, while others may still be in
      // flight: wait for them, or a batch stored a moment later would be sent again.
      const inFlight = batches
        .map((b) => (b.records[0] === undefined ? undefined : produceTraceOf(b.records[0])))
        .filter((t): t is ProduceTrace => t !== undefined && t.stored === undefined);
      if (inFlight.length > 0) {
        await Promise.all(inFlight.map((t) => t.settled));
        // ...and for kafkajs to take back the sequence numbers of those that failed.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const { stored } = inspect(batches);
      const failed = isAlreadyStored(error)
        ? missingError(batches[0] as ProduceBatch, error)
        : toTransportError(error);
      if (stored.length === 0) throw failed;
      throw new PartialProduceFailure(stored, failed);
    }
    inspect(batches);
    if (acks === 0) {
      return batches.map((b) => ({
        topic: b.topic,
        partition: b.partition,
        baseOffset: '-1',
        logAppendTime: '-1',
      }));
    }
    const out: ProduceResult[] = results.map((r) => ({
      topic: r.topicName,
      partition: r.partition,
      baseOffset: r.baseOffset ?? r.offset ?? '-1',
      logAppendTime: r.logAppendTime ?? '-1',
    }));
    // kafkajs answers without a partition whose leader moved to a broker that had answered
    // already in the same call: that batch was never stored.
    const missing = batches.find((b) => !out.some((r) => r.topic === b.topic && r.partition === b.partition));
    if (missing !== undefined) throw new PartialProduceFailure(out, missingError(missing));
    return out;
  };
}
