/**
 * Names of the `node:diagnostics_channel` tracing channels Cascade publishes on, so tracing and
 * metrics (OpenTelemetry, Prometheus) plug in from outside without a dependency in Cascade.
 * Each name is `cascade:<package>:<operation>`.
 *
 * @example
 * ```ts
 * import { tracingChannel } from 'node:diagnostics_channel';
 * import { DiagnosticChannels } from '@cascade/core';
 * tracingChannel(DiagnosticChannels.producerSend).subscribe({
 *   start: (ctx) => console.log('sending', ctx),
 *   asyncEnd: (ctx) => console.log('sent', ctx),
 * });
 * ```
 * @module
 */

import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel';

/** The tracing channels of Cascade, by operation. */
export const DiagnosticChannels = {
  producerSend: 'cascade:producer:send',
  producerTransaction: 'cascade:producer:transaction',
  consumerHandle: 'cascade:consumer:handle',
  consumerCommit: 'cascade:consumer:commit',
  schemaSerialize: 'cascade:schema:serialize',
  schemaDeserialize: 'cascade:schema:deserialize',
  schemaRegistryRequest: 'cascade:schema:registry-request',
  sagaTransition: 'cascade:saga:transition',
} as const;

/** One of {@link DiagnosticChannels}. */
export type DiagnosticChannelName = (typeof DiagnosticChannels)[keyof typeof DiagnosticChannels];

const channels = new Map<DiagnosticChannelName, TracingChannel<object, object>>();

/** The tracing channel for `name`, created once and shared. */
export function cascadeChannel<TContext extends object>(
  name: DiagnosticChannelName,
): TracingChannel<TContext, TContext> {
  let channel = channels.get(name);
  if (channel === undefined) {
    channel = tracingChannel<object, object>(name);
    channels.set(name, channel);
  }
  return channel as TracingChannel<TContext, TContext>;
}
