/**
 * The level a kafkajs log record gets in Cascade's logger. kafkajs 2.2.4 logs at error level
 * conditions it retries and recovers from: a fresh cluster alone gives a dozen error lines (the
 * group coordinator loading, a leader election after topic creation, a rebalance answering a
 * heartbeat). Here a retriable one-off is `debug`, a recovered condition worth knowing about is
 * `warn`, and `error` is kept for failures kafkajs gives up on. kafkajs lines that repeat a
 * line Cascade's own components log (crash and restart, rebalance, consumer start and stop,
 * pausing) are `debug` too. The table is {@link kafkajsLevelRules}; docs/core.md lists it.
 * @module
 */

import type { LogLevel } from '@cascade/core';
import { logLevel as KafkajsLogLevel } from 'kafkajs';
import { loadKafkajsModule } from './patches.js';

/** A kafkajs log record as its `logCreator` receives it. */
export interface KafkajsRecord {
  readonly namespace: string;
  readonly level: KafkajsLogLevel;
  readonly message: string;
  readonly meta: Readonly<Record<string, unknown>>;
}

/** One mapping: records `test` matches get `level` (`'drop'`: not logged at all). */
export interface KafkajsLevelRule {
  /** The kafkajs level the rule applies to. */
  readonly from: 'error' | 'warn' | 'info';
  readonly level: LogLevel | 'drop';
  /** What it is, and why it gets `level`. */
  readonly reason: string;
  readonly test: (record: KafkajsRecord) => boolean;
}

interface ProtocolErrorCode {
  readonly type: string;
  readonly message: string;
  readonly retriable: boolean;
}

const errorCodes =
  loadKafkajsModule<{ errorCodes: ProtocolErrorCode[] }>('protocol/error.js')?.errorCodes ?? [];

/**
 * Broker errors kafkajs recovers from although its table calls them not retriable: the group
 * protocol answers them by joining again (a member that must rejoin, a stale generation, a
 * member id to use), so the request that got them is never the end of anything.
 */
const rejoinTypes = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'MEMBER_ID_REQUIRED',
]);

/** The texts of broker errors that are retried or answered by a rejoin, from kafkajs' table. */
const routineErrorTexts = new Set(
  errorCodes.filter((e) => e.retriable || rejoinTypes.has(e.type)).map((e) => e.message),
);

/** Whether `text` is the text of a routine broker error. */
function isRoutineErrorText(text: unknown): boolean {
  return typeof text === 'string' && routineErrorTexts.has(text);
}

/** `Response Heartbeat(key: 12, version: 3)`: kafkajs' line for a broker's error answer. */
const responseLine = /^Response \w+\(key: \d+, version: \d+\)$/;

const startsWith =
  (...prefixes: string[]) =>
  (record: KafkajsRecord): boolean =>
    prefixes.some((prefix) => record.message.startsWith(prefix));

/** Records of kafkajs namespace `namespace` whose message is one of `messages` or starts with one ending in a space. */
const lineOf =
  (namespace: string, ...messages: string[]) =>
  (record: KafkajsRecord): boolean =>
    record.namespace === namespace &&
    messages.some((m) => (m.endsWith(' ') ? record.message.startsWith(m) : record.message === m));

/**
 * The mappings, first match wins; a record no rule matches keeps its kafkajs level. Messages are
 * kafkajs 2.2.4's (`node_modules/kafkajs/src`, `logger.error` / `logger.warn` / `logger.info`).
 */
export const kafkajsLevelRules: readonly KafkajsLevelRule[] = [
  {
    from: 'warn',
    level: 'drop',
    reason: 'Cascade retries batches itself; the idempotent producer keeps its guarantees.',
    test: startsWith('Limiting retries for the idempotent producer may invalidate EoS guarantees'),
  },
  {
    from: 'error',
    level: 'debug',
    reason:
      'A broker answered a request with a retriable error (the coordinator loading or not available, no leader yet, not the leader, a concurrent transaction, ...) or one the group protocol answers by rejoining (a rebalance, an unknown member, a stale generation): the request is retried.',
    test: (r) => responseLine.test(r.message) && isRoutineErrorText(r.meta.error),
  },
  {
    from: 'error',
    level: 'debug',
    reason:
      'A connection attempt failed; the broker pool retries it. A consumer that cannot reconnect crashes (which the Cascade consumer logs); producers and admins fail the call.',
    test: startsWith(
      'Connection error: ',
      'Connection timeout',
      'Failed to connect to seed broker, trying another broker from the list',
      'Failed to connect to broker, reconnecting',
    ),
  },
  {
    from: 'error',
    level: 'debug',
    reason:
      'A send failed on stale metadata or a retriable error; kafkajs refreshes metadata and retries it.',
    test: startsWith('Failed to send messages: '),
  },
  {
    from: 'error',
    level: 'debug',
    reason:
      'The consumer crashed and may restart: the Cascade consumer logs the crash itself, knowing whether it restarts (debug for a first routine restart, warn for others, error when it does not).',
    test: lineOf('Consumer', 'Crash: ', 'Restarting the consumer in '),
  },
  {
    from: 'error',
    level: 'debug',
    reason: 'A retriable broker error, retried (a seed broker or a send answering one).',
    test: (r) => isRoutineErrorText(r.message) && r.meta.retryCount !== undefined,
  },
  {
    from: 'error',
    level: 'warn',
    reason:
      'The coordinator dropped this member (a session timeout); it rejoins, and records not committed are read again.',
    test: lineOf('Runner', 'The coordinator is not aware of this member, re-joining the group'),
  },
  {
    from: 'error',
    level: 'warn',
    reason: "A partition's position was out of range; it is reset to the earliest or latest offset.",
    test: startsWith('Offset out of range, resetting to default offset'),
  },
  {
    from: 'warn',
    level: 'debug',
    reason: "A rebalance: the Cascade consumer logs it ('Group rebalancing: ...', info).",
    test: lineOf('Runner', 'The group is rebalancing, re-joining'),
  },
  {
    from: 'warn',
    level: 'debug',
    reason: 'An admin request got a retriable answer (not the controller, unknown topic) and is retried.',
    test: (r) => r.message.startsWith('Could not ') && r.meta.retryCount !== undefined,
  },
  {
    from: 'warn',
    level: 'debug',
    reason:
      "An assignment names partitions this member's metadata does not know yet (a new topic): it refreshes it.",
    test: startsWith('Consumer is not aware of all assigned partitions, refreshing metadata'),
  },
  {
    from: 'info',
    level: 'debug',
    reason:
      "The kafkajs consumer's start, stop and pauses: the Cascade consumer logs 'Consumer started' and 'Consumer stopped' once each (kafkajs logs 'Stopped' twice per stop, and again on each restart).",
    test: (r) =>
      lineOf('Consumer', 'Starting', 'Stopped')(r) ||
      lineOf('Runner', 'consumer not running, exiting')(r) ||
      lineOf('ConsumerGroup', 'Pausing fetching from ', 'Resuming fetching from ')(r),
  },
];

const fromNames: Partial<Record<KafkajsLogLevel, KafkajsLevelRule['from']>> = {
  [KafkajsLogLevel.ERROR]: 'error',
  [KafkajsLogLevel.WARN]: 'warn',
  [KafkajsLogLevel.INFO]: 'info',
};

/** The Cascade level of a kafkajs record, or `'drop'` when it is not logged. */
export function kafkajsLevelOf(record: KafkajsRecord): LogLevel | 'drop' {
  const from = fromNames[record.level];
  if (from === undefined) return 'debug';
  for (const rule of kafkajsLevelRules) if (rule.from === from && rule.test(record)) return rule.level;
  return from;
}
