// docs/core.md quotes this file.
import {
  ConfigError,
  createLogger,
  isRetriable,
  Lifecycle,
  type LogMeta,
  requireInteger,
  TimeoutError,
} from '@cascade/core';

/** Shows the core helpers: a redacting logger, typed errors, and an idempotent lifecycle. */
export async function run(): Promise<{ lines: string[]; retriable: boolean[]; states: string[] }> {
  const lines: string[] = [];
  const logger = createLogger((level, message, meta: LogMeta) =>
    lines.push(`${level} ${message} ${JSON.stringify(meta)}`),
  );
  logger
    .child({ component: 'billing' })
    .info('connecting', { sasl: { username: 'svc', password: 'hunter2' } });

  let lingerError: unknown;
  try {
    requireInteger('producer.lingerMs', -5, 0);
  } catch (error) {
    lingerError = error;
  }
  const timeout = new Error('send failed', { cause: new TimeoutError('Producing to orders', 30_000) });
  const retriable = [isRetriable(lingerError), isRetriable(timeout), lingerError instanceof ConfigError];

  const lifecycle = new Lifecycle('worker');
  const states = [lifecycle.state];
  await lifecycle.start(async () => {});
  states.push(lifecycle.state);
  await Promise.all([lifecycle.close(async () => {}), lifecycle.close(async () => {})]);
  states.push(lifecycle.state);
  return { lines, retriable, states };
}
