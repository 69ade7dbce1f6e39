/**
 * The accumulator's sink on kafkajs: one `sendBatch()` per request, with every record's
 * partition decided by Cascade (kafkajs' partitioner only echoes it).
 * @module
 */

import type {
  CompressionTypes,
  RecordMetadata as KafkajsRecordMetadata,
  Message,
  ProducerBatch,
} from 'kafkajs';
import type { Sink, SinkBatch, SinkResult, WireRecord } from '../accumulator.js';
import { cascadeEncodesProduceRequests } from './kafkajs-patches.js';
import { OutboundRecord } from './record-batch.js';

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

export function kafkajsSink(
  target: () => BatchSender,
  acks: -1 | 0 | 1,
  timeoutMs: number,
  compression: CompressionTypes,
): Sink {
  return async (batches: readonly SinkBatch[]): Promise<readonly SinkResult[]> => {
    // A wire record is a kafkajs message already (key, value, headers, timestamp in epoch ms,
    // which kafkajs takes as a number too, and the partition the accumulator placed it in).
    const byTopic = new Map<string, Message[]>();
    for (const batch of batches) {
      const records = asMessages(batch.records);
      const messages = byTopic.get(batch.topic);
      if (messages === undefined) byTopic.set(batch.topic, records);
      else byTopic.set(batch.topic, messages.concat(records));
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const results = await target().sendBatch({ topicMessages, acks, timeout: timeoutMs, compression });
    return results.map((r) => ({
      topic: r.topicName,
      partition: r.partition,
      baseOffset: r.baseOffset ?? r.offset ?? '-1',
      logAppendTime: r.logAppendTime ?? '-1',
    }));
  };
}
