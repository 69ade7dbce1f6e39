/**
 * Targeted changes to kafkajs 2.2.4, each applied once per process by `createKafkaClient`, each
 * idempotent and each reporting `false` (leaving kafkajs as it is) if kafkajs' layout changed:
 *
 * - {@link patchKafkajsNegativeTimeout}: no `TimeoutNegativeWarning` under Node >= 24
 *   (tulios/kafkajs#1751).
 * - {@link patchKafkajsStuckRequests}: requests in flight on a closing connection still time out.
 * - {@link patchKafkajsProduceEncoding}: Cascade's producer encodes its own Produce requests.
 *
 * `TimeoutNegativeWarning`, the cause: `RequestQueue.scheduleCheckPendingRequests()` computes
 * `scheduleAt = this.throttledUntil - Date.now()` and, when no request is pending, passes it to
 * `setTimeout` unchanged. `throttledUntil` is `-1` until a broker throttles the client, so the
 * delay is about `-Date.now()`: Node 24 warns on every negative delay (and then uses 1 ms).
 * The fix replaces that one method with the same logic and a delay clamped at 0, which is what
 * Node did with the negative value anyway, so behaviour is unchanged and the warning is gone;
 * nothing else about `process` warnings is touched.
 * @module
 */

import { createRequire } from 'node:module';
import { OutboundRecord } from '@cascade/transport';
import { encodeProduceRequest, type ProduceArgs } from './record-batch.js';
import { type ClassShape, hasShape } from './shape.js';

/** A module of kafkajs' own (`kafkajs/src/...`), or undefined if kafkajs' layout changed. */
export function loadKafkajsModule<T>(path: string): T | undefined {
  try {
    return createRequire(import.meta.url)(`kafkajs/src/${path}`) as T;
  } catch {
    return undefined;
  }
}

/**
 * Replaces one method of kafkajs' `RequestQueue.prototype`, once per process (`marker` says it is
 * done). `shape` is what the replacement relies on (the replaced method among them). Returns
 * whether the replacement is in place.
 */
function replaceRequestQueueMethod(
  shape: ClassShape,
  name: string,
  marker: symbol,
  method: (this: never) => void,
  also: () => boolean = () => true,
): boolean {
  const RequestQueue = loadKafkajsModule<{ prototype: Record<string | symbol, unknown> }>(
    'network/requestQueue/index.js',
  );
  const proto = RequestQueue?.prototype;
  if (proto === undefined || !hasShape(RequestQueue, shape) || !also()) return false;
  if (proto[marker] === true) return true;
  Object.defineProperty(proto, name, { configurable: true, writable: true, value: method });
  Object.defineProperty(proto, marker, { value: true });
  return true;
}

interface RequestQueueLike {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

interface InflightRequest {
  readonly sentAt: number;
  readonly requestTimeout: number;
  timeoutRequest(): void;
}

interface TimeoutCheckingQueue {
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: NodeJS.Timeout | undefined;
  inflight: Map<number, InflightRequest>;
  isConnected(): boolean;
  destroy(): void;
}

const stuckRequestsPatched = Symbol.for('cascade.kafkajs.stuck-requests-patch');

/**
 * Patches kafkajs' `RequestQueue` so requests in flight on a closing connection still time out.
 *
 * Cause (kafkajs 2.2.4, `RequestQueue.scheduleRequestTimeoutCheck`): the interval that times out
 * requests destroys itself as soon as its connection is not connected. A connection being
 * closed (status `disconnecting`, e.g. kafkajs dropping a broker after an error) while a request
 * is in flight stops timing that request out; if the broker then goes away without answering
 * (a restart), the connection's `onEnd` sees "not connected" and does not reject it either, and
 * `disconnect()` waits for it forever: the request's promise — a produce, an offset commit —
 * never settles. Seen as a service stuck after a broker restart (test/e2e/chaos.test.ts).
 * The fix keeps the same interval and logic, and stops it only once nothing is in flight.
 * Idempotent. Returns whether the patch is in place.
 */
export function patchKafkajsStuckRequests(): boolean {
  return replaceRequestQueueMethod(
    {
      methods: ['destroy', 'scheduleRequestTimeoutCheck'],
      // isConnected is a function the constructor assigns, not a method.
      fields: [
        'enforceRequestTimeout',
        'requestTimeout',
        'requestTimeoutIntervalId',
        'inflight',
        'isConnected',
      ],
    },
    'scheduleRequestTimeoutCheck',
    stuckRequestsPatched,
    function scheduleRequestTimeoutCheck(this: TimeoutCheckingQueue): void {
      if (!this.enforceRequestTimeout) return;
      this.destroy();
      this.requestTimeoutIntervalId = setInterval(
        () => {
          for (const request of [...this.inflight.values()]) {
            if (Date.now() - request.sentAt > request.requestTimeout) request.timeoutRequest();
          }
          if (!this.isConnected() && this.inflight.size === 0) this.destroy();
        },
        Math.min(this.requestTimeout, 100),
      );
    },
    () =>
      hasShape(loadKafkajsModule('network/requestQueue/socketRequest.js'), {
        methods: ['timeoutRequest'],
        fields: ['sentAt', 'requestTimeout'],
      }),
  );
}

/** kafkajs' interval for re-checking pending requests (`CHECK_PENDING_REQUESTS_INTERVAL`). */
const checkPendingRequestsIntervalMs = 10;
const patched = Symbol.for('cascade.kafkajs.timeout-negative-patch');

/**
 * Patches kafkajs' `RequestQueue` so it never passes a negative delay to `setTimeout`.
 * Idempotent. Returns whether the patch is in place (false if kafkajs' layout changed).
 */
export function patchKafkajsNegativeTimeout(): boolean {
  return replaceRequestQueueMethod(
    {
      methods: ['checkPendingRequests', 'scheduleCheckPendingRequests'],
      fields: ['throttledUntil', 'throttleCheckTimeoutId', 'pending'],
    },
    'scheduleCheckPendingRequests',
    patched,
    function scheduleCheckPendingRequests(this: RequestQueueLike): void {
      let scheduleAt = this.throttledUntil - Date.now();
      if (!this.throttleCheckTimeoutId) {
        if (this.pending.length > 0) {
          scheduleAt = scheduleAt > 0 ? scheduleAt : checkPendingRequestsIntervalMs;
        }
        this.throttleCheckTimeoutId = setTimeout(
          () => {
            this.throttleCheckTimeoutId = null;
            this.checkPendingRequests();
          },
          Math.max(0, scheduleAt),
        );
      }
    },
  );
}

interface ProduceProtocol {
  request: { apiVersion: number; encode: () => Promise<unknown> };
  response: unknown;
}

type ProduceFactory = (args: ProduceArgs & { compression?: number }) => ProduceProtocol;

interface ProduceDefinition {
  protocol: ((options: { version: number }) => ProduceFactory) & { [producePatched]?: true };
}

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
}

const producePatched = Symbol.for('cascade.kafkajs.produce-encoder-patch');

/** Whether every message of the request was built by Cascade's producer. */
function isCascadeRequest(args: ProduceArgs): boolean {
  for (const topic of args.topicData) {
    for (const partition of topic.partitions) {
      for (const message of partition.messages) {
        if (!(message instanceof OutboundRecord)) return false;
      }
    }
  }
  return true;
}

/**
 * Has kafkajs encode Cascade's Produce requests with Cascade's encoder
 * (`record-batch.ts`): same bytes, about a third of the CPU time. Only requests whose
 * every record is an {@link OutboundRecord} take it; anything else — a raw kafkajs producer in
 * the same process, a Produce version before 3 — keeps kafkajs' encoder. Response handling,
 * retries, idempotence sequence numbers and transactions stay kafkajs'. Idempotent. Returns
 * whether the patch is in place (false if kafkajs' layout changed: its own encoder is used).
 */
export function patchKafkajsProduceEncoding(): boolean {
  if (produceEncodingPatched) return true;
  const Produce = loadKafkajsModule<{ requests: { Produce: ProduceDefinition } }>(
    'protocol/requests/index.js',
  )?.requests.Produce;
  const Encoder = loadKafkajsModule<new (initialSize?: number) => KafkajsEncoder>('protocol/encoder.js');
  const lookupCodec = loadKafkajsModule<{ lookupCodec: (type: number) => KafkajsCodec | null }>(
    'protocol/message/compression/index.js',
  )?.lookupCodec;
  if (
    typeof Produce?.protocol !== 'function' ||
    Encoder === undefined ||
    !hasShape(Encoder, { fields: ['buf', 'offset'] }) ||
    typeof lookupCodec !== 'function'
  ) {
    return false;
  }
  if (Produce.protocol[producePatched] === true) {
    produceEncodingPatched = true;
    return true;
  }
  const original = Produce.protocol;
  const patchedProtocol = ({ version }: { version: number }): ProduceFactory => {
    const factory = original({ version });
    if (version < 3) return factory;
    return (args) => {
      const built = factory(args);
      // The request kafkajs built must be the one this encoder replaces (an encode() to swap).
      if (typeof built?.request?.encode === 'function' && isCascadeRequest(args)) {
        const compression = args.compression ?? 0;
        built.request.encode = async () => {
          const encoder = new Encoder(0);
          encoder.buf = await encodeProduceRequest(args, compression, async (records) => {
            const codec = lookupCodec(compression);
            if (codec === null) throw new Error(`kafkajs has no codec for compression type ${compression}`);
            return codec.compress({ buffer: records });
          });
          encoder.offset = encoder.buf.length;
          return encoder;
        };
      }
      return built;
    };
  };
  Object.defineProperty(patchedProtocol, producePatched, { value: true });
  Produce.protocol = patchedProtocol;
  produceEncodingPatched = true;
  return true;
}

let produceEncodingPatched = false;

/** Whether Cascade's Produce encoder is in place (see {@link patchKafkajsProduceEncoding}). */
export function cascadeEncodesProduceRequests(): boolean {
  return produceEncodingPatched;
}

interface MetadataResponse {
  decode(raw: Buffer): Promise<unknown>;
  parse(data: unknown): Promise<unknown>;
}

interface MetadataData {
  readonly topicMetadata?: readonly {
    readonly partitionMetadata?: readonly { readonly partitionErrorCode?: number }[];
  }[];
}

type MetadataFactory = (args: { topics?: readonly string[] }) => { response: MetadataResponse };

interface MetadataDefinition {
  protocol: ((options: { version: number }) => MetadataFactory) & { [allTopicsPatched]?: true };
}

const allTopicsPatched = Symbol.for('cascade.kafkajs.all-topics-metadata-patch');

/**
 * Patches kafkajs so a partition without a leader in a topic nobody asked for does not fail the
 * client. kafkajs asks for the metadata of *all* topics whenever it has no topic of interest yet
 * (it encodes an empty topic list as null): an idempotent producer's start does, to find a
 * broker for its producer id. Its Metadata parser throws on the first partition error, so one
 * offline partition anywhere in the cluster (`LEADER_NOT_AVAILABLE`, its only replica's broker
 * down) failed every producer start. In answers to such all-topics requests only, partition
 * errors are cleared (the partition keeps leader -1, which kafkajs treats as unknown, and a
 * client that uses the topic asks for it by name and sees the error then); topic-level errors
 * and requests that name topics are unchanged. Idempotent. Returns whether the patch is in place.
 */
export function patchKafkajsAllTopicsMetadata(): boolean {
  const Metadata = loadKafkajsModule<{ requests: { Metadata: MetadataDefinition } }>(
    'protocol/requests/index.js',
  )?.requests.Metadata;
  if (typeof Metadata?.protocol !== 'function') return false;
  if (Metadata.protocol[allTopicsPatched] === true) return true;
  const original = Metadata.protocol;
  const patchedProtocol = ({ version }: { version: number }): MetadataFactory => {
    const factory = original({ version });
    return (args) => {
      const built = factory(args);
      if (args.topics !== undefined && args.topics.length > 0) return built;
      const response = built?.response;
      // Only a response with kafkajs' decode/parse pair is wrapped.
      if (typeof response?.decode !== 'function' || typeof response.parse !== 'function') return built;
      built.response = {
        decode: (raw) => response.decode(raw),
        parse: (data) => {
          for (const topic of (data as MetadataData).topicMetadata ?? []) {
            for (const partition of topic.partitionMetadata ?? []) {
              if (partition.partitionErrorCode !== 0) {
                (partition as { partitionErrorCode?: number }).partitionErrorCode = 0;
              }
            }
          }
          return response.parse(data);
        },
      };
      return built;
    };
  };
  Object.defineProperty(patchedProtocol, allTopicsPatched, { value: true });
  Metadata.protocol = patchedProtocol;
  return true;
}
