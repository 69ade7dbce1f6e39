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
import type { Sink, SinkBatch, SinkResult } from '../accumulator.js';

/** What the sink needs of a kafkajs producer or transaction. */
export interface BatchSender {
  sendBatch(batch: ProducerBatch): Promise<KafkajsRecordMetadata[]>;
}

/** kafkajs partitioner that keeps the partition Cascade chose. */
export const explicitPartitioner = () => (args: { message: Message }) => args.message.partition ?? 0;

export function kafkajsSink(
  target: () => BatchSender,
  acks: -1 | 0 | 1,
  timeoutMs: number,
  compression: CompressionTypes,
): Sink {
  return async (batches: readonly SinkBatch[]): Promise<readonly SinkResult[]> => {
    const byTopic = new Map<string, Message[]>();
    for (const batch of batches) {
      let messages = byTopic.get(batch.topic);
      if (messages === undefined) {
        messages = [];
        byTopic.set(batch.topic, messages);
      }
      for (const record of batch.records) {
        messages.push({
          key: record.key,
          value: record.value,
          headers: record.headers,
          timestamp: String(record.timestamp),
          partition: batch.partition,
        });
      }
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
