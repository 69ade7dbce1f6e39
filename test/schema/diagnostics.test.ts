// Tracing: registry requests, serialize and deserialize are published on the
// cascade:schema:* diagnostics channels, so OpenTelemetry or metrics can plug in from outside;
// the URLs published carry no credentials.
import { tracingChannel } from 'node:diagnostics_channel';
import { DiagnosticChannels } from '@cascade/core';
import { registryAvro, SchemaRegistry } from '@cascade/schema';
import { afterEach, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';

const unsubscribers: Array<() => void> = [];
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
});

function record(name: string): Array<{ event: string; context: Record<string, unknown> }> {
  const events: Array<{ event: string; context: Record<string, unknown> }> = [];
  const push = (event: string) => (context: object) =>
    events.push({ event, context: context as Record<string, unknown> });
  const handlers = {
    start: push('start'),
    end: push('end'),
    asyncStart: push('asyncStart'),
    asyncEnd: push('asyncEnd'),
    error: push('error'),
  };
  const channel = tracingChannel(name);
  channel.subscribe(handlers);
  unsubscribers.push(() => channel.unsubscribe(handlers));
  return events;
}

it('publishes registry requests, serialize and deserialize on the cascade:schema channels', async () => {
  const requests = record(DiagnosticChannels.schemaRegistryRequest);
  const serializes = record(DiagnosticChannels.schemaSerialize);
  const deserializes = record(DiagnosticChannels.schemaDeserialize);
  const url = cluster().registryUrl.replace('http://', 'http://svc:s3cret-NEVER@');
  const registry = new SchemaRegistry({ url });
  try {
    const serde = registryAvro({
      registry,
      schema: { type: 'record', name: 'T', fields: [{ name: 'n', type: 'int' }] },
    });
    const topic = uniqueName('traced');
    const bytes = await serde.serialize({ n: 1 }, { topic, headers: {}, isKey: false });
    await serde.deserialize(bytes, { topic, headers: {}, isKey: false });

    const operations = requests.filter((e) => e.event === 'start').map((e) => e.context.operation);
    expect(operations).toEqual([
      'look up a schema',
      'check compatibility',
      'register a schema',
      'fetch a schema by id',
    ]);
    expect(requests.filter((e) => e.event === 'asyncEnd')).toHaveLength(4);
    expect(JSON.stringify(requests.map((e) => e.context.url))).not.toContain('s3cret-NEVER');
    expect(serializes.filter((e) => e.event === 'start').map((e) => e.context)).toEqual([
      expect.objectContaining({ serde: 'registry-avro', topic, isKey: false }),
    ]);
    expect(deserializes.filter((e) => e.event === 'asyncEnd')).toHaveLength(1);
  } finally {
    await registry.close();
  }
});
