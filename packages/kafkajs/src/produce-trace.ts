/**
 * What became of each of Cascade's batches inside one kafkajs `sendBatch()`.
 *
 * kafkajs groups a `sendBatch()` by its own view of the partition leaders and sends one broker
 * request per leader (`producer/sendMessages.js`). Before each broker request it gives every
 * partition its next idempotence sequence numbers, and takes them back only if that broker
 * request throws. When one broker request fails for good, `sendBatch()` rejects and the other
 * requests' results are lost to the caller, although those brokers stored their batches and
 * kafkajs kept their sequence numbers: sending such a batch again gives it the next sequence
 * numbers, and the broker stores it a second time (issue #15's duplicate).
 *
 * {@link patchKafkajsProduceTracing} wraps kafkajs' `Broker.prototype.produce` for requests made
 * of Cascade's records only ({@link OutboundRecord}) and notes, per batch (keyed by its first
 * record: one batch per partition is in flight at a time), which broker requests carried it and
 * whether one of them resolved — the exact condition under which kafkajs keeps the sequence
 * numbers, so "stored" here is "must never be sent again". It also refuses a broker request that
 * would carry a batch already stored in the same `sendBatch()` (kafkajs, retrying the failed
 * part after a leader moved, regroups by its new metadata and can put a stored partition into
 * another broker's request): the request then fails before it is sent, and kafkajs rolls its
 * sequence numbers back.
 * @module
 */

import { OutboundRecord } from '@cascade/transport';
import { loadKafkajsModule } from './patches.js';
import type { ProduceArgs } from './record-batch.js';
import { hasShape } from './shape.js';

/** What the broker requests of one `sendBatch()` did with one batch. */
export interface ProduceTrace {
  /** The serial of the last broker request that carried the batch. */
  request: number;
  /** How many broker requests carried it since {@link forgetProduceTrace}. */
  requests: number;
  /** Settles (never rejects) once the last broker request that carried it has. */
  settled: Promise<unknown>;
  /** Set once a broker request carrying the batch resolved: the broker stored it. */
  stored?: { readonly baseOffset: string; readonly logAppendTime: string };
}

/**
 * The error a broker request gets when it would carry a batch that another broker stored in the
 * same `sendBatch()`. Not retriable for kafkajs, so the call ends and the accumulator decides.
 */
export class BatchAlreadyStoredError extends Error {
  override readonly name = 'CascadeBatchAlreadyStored';
  readonly retriable = false;
}

const traces = new WeakMap<object, ProduceTrace>();
let requestSerial = 0;
let tracing = false;

/** What broker requests did with the batch whose first record is `first`. */
export function produceTraceOf(first: object): ProduceTrace | undefined {
  return traces.get(first);
}

/** Forgets what earlier sends did with the batch whose first record is `first`. */
export function forgetProduceTrace(first: object): void {
  traces.delete(first);
}

/** Whether the per-batch tracing is in place (see {@link patchKafkajsProduceTracing}). */
export function tracesProduceRequests(): boolean {
  return tracing;
}

interface ProducePartitionResponse {
  readonly partition: number;
  readonly baseOffset?: string;
  readonly logAppendTime?: string;
}

interface ProduceResponse {
  readonly topics?: readonly {
    readonly topicName: string;
    readonly partitions: readonly ProducePartitionResponse[];
  }[];
}

type Produce = (this: unknown, args: ProduceArgs) => Promise<unknown>;

const tracingPatched = Symbol.for('cascade.kafkajs.produce-tracing-patch');

/** The first record of each partition of a request made of Cascade's records only, else undefined. */
function batchesOf(args: ProduceArgs): Map<string, object> | undefined {
  const firsts = new Map<string, object>();
  for (const topic of args.topicData) {
    for (const partition of topic.partitions) {
      const first = partition.messages[0];
      // A Cascade producer's kafkajs producer sends Cascade's records only: the first tells.
      if (!(first instanceof OutboundRecord)) return undefined;
      firsts.set(`${partition.partition}\u0000${topic.topic}`, first);
    }
  }
  return firsts;
}

function traced(produce: Produce, broker: unknown, args: ProduceArgs): Promise<unknown> {
  const firsts = batchesOf(args);
  if (firsts === undefined) return produce.call(broker, args);
  for (const first of firsts.values()) {
    if (traces.get(first)?.stored !== undefined) {
      return Promise.reject(
        new BatchAlreadyStoredError(
          'kafkajs would send a batch again that a broker stored in the same sendBatch(); the producer retries the rest.',
        ),
      );
    }
  }
  requestSerial += 1;
  const request = requestSerial;
  const sent = produce.call(broker, args);
  const settled = sent.then(
    () => undefined,
    () => undefined,
  );
  for (const first of firsts.values()) {
    const seen = traces.get(first);
    if (seen === undefined) traces.set(first, { request, requests: 1, settled });
    else {
      seen.request = request;
      seen.requests += 1;
      seen.settled = settled;
    }
  }
  return sent.then((response) => {
    // Resolved: kafkajs keeps this request's sequence numbers, every batch in it is stored.
    const byPartition = new Map<string, ProducePartitionResponse>();
    for (const topic of (response as ProduceResponse | undefined)?.topics ?? []) {
      for (const p of topic.partitions) byPartition.set(`${p.partition}\u0000${topic.topicName}`, p);
    }
    for (const [key, first] of firsts) {
      const trace = traces.get(first);
      if (trace === undefined) continue;
      const answer = byPartition.get(key);
      trace.stored = { baseOffset: answer?.baseOffset ?? '-1', logAppendTime: answer?.logAppendTime ?? '-1' };
    }
    return response;
  });
}

/**
 * Wraps kafkajs' `Broker.prototype.produce` so the producer's sink learns, per batch, what the
 * broker requests of a `sendBatch()` stored (see the module comment). Requests holding any
 * record that is not Cascade's pass through untouched. Idempotent. Returns whether the patch is
 * in place (false if kafkajs' layout changed: the sink then treats a failed call as failed for
 * every batch, as before).
 */
export function patchKafkajsProduceTracing(): boolean {
  if (tracing) return true;
  const Broker = loadKafkajsModule<{ prototype: Record<string | symbol, unknown> }>('broker/index.js');
  const proto = Broker?.prototype;
  const produce = proto?.produce;
  if (proto === undefined || typeof produce !== 'function' || !hasShape(Broker, { methods: ['produce'] })) {
    return false;
  }
  if (proto[tracingPatched] !== true) {
    Object.defineProperty(proto, 'produce', {
      configurable: true,
      writable: true,
      value: function produceTraced(this: unknown, args: ProduceArgs): Promise<unknown> {
        return traced(produce as Produce, this, args);
      },
    });
    Object.defineProperty(proto, tracingPatched, { value: true });
  }
  tracing = true;
  return true;
}
