/**
 * Subject name strategies: which registry subject a topic's keys or values are registered under.
 * @module
 */

import { ConfigError } from '@cascade/core';

/** What a subject name strategy is given. */
export interface SubjectNameContext {
  readonly topic: string;
  readonly isKey: boolean;
  /** The full name of the schema's top-level record (`com.acme.Order`), when it has one. */
  readonly recordName: string | undefined;
}

/** A custom strategy: returns the subject for a topic and side. */
export type SubjectNameFunction = (context: SubjectNameContext) => string;

/**
 * The built-in strategies, named like Confluent's:
 * - `'topic'` (TopicNameStrategy): `<topic>-key` / `<topic>-value`
 * - `'record'` (RecordNameStrategy): the record's full name, e.g. `com.acme.Order`
 * - `'topic-record'` (TopicRecordNameStrategy): `<topic>-<record full name>`
 */
export const SubjectNameStrategies = {
  topic: 'topic',
  record: 'record',
  topicRecord: 'topic-record',
} as const;

/** One of {@link SubjectNameStrategies}, or a function. */
export type SubjectNameStrategy =
  | (typeof SubjectNameStrategies)[keyof typeof SubjectNameStrategies]
  | SubjectNameFunction;

/**
 * The subject `strategy` gives for `context`. Throws when a record strategy is used without a
 * record name, or a function returns an empty subject.
 *
 * @example
 * ```ts
 * subjectName('topic', { topic: 'orders', isKey: false, recordName: 'com.acme.Order' }); // 'orders-value'
 * subjectName('topic-record', { topic: 'orders', isKey: false, recordName: 'com.acme.Order' }); // 'orders-com.acme.Order'
 * ```
 */
export function subjectName(strategy: SubjectNameStrategy, context: SubjectNameContext): string {
  if (typeof strategy === 'function') {
    const subject = strategy(context);
    if (typeof subject !== 'string' || subject === '') {
      throw new ConfigError(
        'subjectNameStrategy',
        `the strategy returned ${JSON.stringify(subject) ?? String(subject)} for topic ${context.topic}; expected a non-empty subject name.`,
      );
    }
    return subject;
  }
  if (strategy === 'topic') return `${context.topic}-${context.isKey ? 'key' : 'value'}`;
  if (context.recordName === undefined) {
    throw new ConfigError(
      'subjectNameStrategy',
      `the ${strategy} strategy needs a named schema (a record, enum or fixed).`,
    );
  }
  return strategy === 'record' ? context.recordName : `${context.topic}-${context.recordName}`;
}
