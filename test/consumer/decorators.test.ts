// Decorated handler classes on the real broker, compiled under both TypeScript decorator modes:
// standard ECMAScript decorators and experimentalDecorators (NestJS). The fixture is compiled
// with the TypeScript API because Vite's transform does not lower decorators.
import { fileURLToPath } from 'node:url';
import { type Consumer, startHandlers } from '@cascade/consumer';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadDecoratorFixture } from '../support/decorators.js';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import type { defineBilling } from './fixtures/billing-handler.js';
import { committed, produce } from './helpers.js';

const source = fileURLToPath(new URL('./fixtures/billing-handler.ts', import.meta.url));

async function load(experimentalDecorators: boolean): Promise<typeof defineBilling> {
  const fixture = new URL('./fixtures/billing-handler.ts', import.meta.url);
  return (
    await loadDecoratorFixture<{ defineBilling: typeof defineBilling }>(fixture, experimentalDecorators)
  ).defineBilling;
}

describe.each([
  ['standard ECMAScript decorators', false],
  ['experimentalDecorators', true],
])('decorated handler classes (%s)', (_mode, experimental) => {
  it('starts a consumer per @Handler group and routes each topic to its method', async () => {
    const defineBilling = await load(experimental);
    const kafka = kafkaClient();
    const orders = uniqueName('orders');
    const refunds = uniqueName('refunds');
    const groupId = uniqueName('billing');
    await createTopic(kafka, orders, 2);
    await createTopic(kafka, refunds);
    await produce(
      kafka,
      orders,
      [1, 2, 3].map((id) => ({ key: `c${id}`, value: JSON.stringify({ id }) })),
    );
    await produce(kafka, refunds, [{ value: JSON.stringify({ id: 9 }) }]);
    const Billing = defineBilling(orders, refunds, groupId);
    const billing = new Billing();
    await using running = await startHandlers([billing], {
      kafka: { brokers: cluster().brokers },
      groupId: 'unused-default',
      fromBeginning: true,
    });
    expect(running.consumers.map((c: Consumer) => c.groupId)).toEqual([groupId]);
    await waitFor(
      () => billing.billed.length === 3 && billing.refunded.length === 1,
      () => `3 orders and 1 refund, got ${billing.billed} / ${billing.refunded}`,
    );
    await running.stop();
    expect([...billing.billed].sort()).toEqual([1, 2, 3]);
    expect(billing.refunded).toEqual([9]);
    expect(await committed(kafka, groupId, refunds)).toEqual({ 0: '1' });
  });
});

describe('decorator types', () => {
  it('type-check the handler class under experimentalDecorators as well as standard decorators', () => {
    const configPath = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
    const diagnostics: string[] = [];
    for (const experimentalDecorators of [false, true]) {
      const config = ts.getParsedCommandLineOfConfigFile(
        configPath,
        { experimentalDecorators, noEmit: true },
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => diagnostics.push(String(d.messageText)) },
      );
      if (config === undefined) throw new Error(`cannot read ${configPath}: ${diagnostics.join('; ')}`);
      const program = ts.createProgram([source], config.options);
      for (const d of ts.getPreEmitDiagnostics(program)) {
        diagnostics.push(
          `${experimentalDecorators ? 'experimental' : 'standard'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
        );
      }
    }
    expect(diagnostics).toEqual([]);
  });
});
