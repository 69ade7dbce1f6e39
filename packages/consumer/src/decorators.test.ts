// The decorators under both TypeScript decorator modes. The fixture is compiled here with the
// TypeScript API, once with standard ECMAScript decorators and once with experimentalDecorators
// (as NestJS apps compile), and the emitted JavaScript is run against the real decorators.
import { json } from '@cascade/schema';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { Handler, handlerInfo, Subscribe, subscriptionsOf } from './decorators.js';
import { DecoratorError } from './errors.js';
import type { HandlerContext, Message } from './types.js';

const fixture = `
class Audited {
  @Subscribe('audit', { value: json() })
  async audit(message) { this.seen.push('audit:' + message.value); }
}

@Handler({ groupId: 'billing' })
export class Payments extends Audited {
  seen = [];

  @Subscribe('orders', { value: json(), concurrency: 'key', retry: { maximumAttempts: 5 } })
  async onOrder(message) { this.seen.push('order:' + message.value.id); }

  @Subscribe(/^invoices\\./, { value: json() })
  @Subscribe(['refunds', 'chargebacks'], { value: json() })
  async onMoney(message) { this.seen.push('money:' + message.topic); }

  helper() { return 'not a handler'; }
}

export function undecoratedMethods() {
  @Handler()
  class Empty { run() {} }
  return Empty;
}

export function decoratedField() {
  class Bad {
    @Subscribe('x', { value: json() })
    field = 1;
  }
  return Bad;
}
`;

type Exports = {
  Payments: new () => { seen: string[] };
  undecoratedMethods: () => unknown;
  decoratedField: () => unknown;
};

function compile(experimentalDecorators: boolean): Exports {
  const { outputText } = ts.transpileModule(fixture, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      experimentalDecorators,
      useDefineForClassFields: true,
    },
  });
  const exports = {} as Exports;
  new Function('exports', 'Handler', 'Subscribe', 'json', outputText)(exports, Handler, Subscribe, json);
  return exports;
}

const message = (topic: string, value: unknown) => ({ topic, value }) as unknown as Message<unknown, unknown>;
const context = {} as HandlerContext;

describe.each([
  ['standard ECMAScript decorators', false],
  ['experimentalDecorators', true],
])('decorators under %s', (_mode, experimental) => {
  const { Payments, undecoratedMethods, decoratedField } = compile(experimental);

  it('records every @Subscribe method, inherited ones included, with its options and group', () => {
    const instance = new Payments();
    const info = handlerInfo(instance);
    expect(info?.options).toEqual({ groupId: 'billing' });
    const subscriptions = subscriptionsOf(instance);
    const described = subscriptions.map((s) => ({
      topic: s.topic,
      topics: s.topics,
      pattern: s.pattern?.source,
      concurrency: s.concurrency,
      maximumAttempts: s.retry?.maximumAttempts,
    }));
    expect(described).toEqual(
      expect.arrayContaining([
        { topic: 'orders', topics: undefined, pattern: undefined, concurrency: 'key', maximumAttempts: 5 },
        {
          topic: undefined,
          topics: ['refunds', 'chargebacks'],
          pattern: undefined,
          concurrency: undefined,
          maximumAttempts: undefined,
        },
        {
          topic: undefined,
          topics: undefined,
          pattern: '^invoices\\.',
          concurrency: undefined,
          maximumAttempts: undefined,
        },
        {
          topic: 'audit',
          topics: undefined,
          pattern: undefined,
          concurrency: undefined,
          maximumAttempts: undefined,
        },
      ]),
    );
    expect(subscriptions).toHaveLength(4);
  });

  it('calls the methods with this bound to the instance', async () => {
    const instance = new Payments();
    const byTopic = new Map(subscriptionsOf(instance).map((s) => [s.topic ?? s.topics?.[0] ?? 'pattern', s]));
    await byTopic.get('orders')?.handler?.(message('orders', { id: 7 }), context);
    await byTopic.get('refunds')?.handler?.(message('refunds', {}), context);
    await byTopic.get('audit')?.handler?.(message('audit', 'x'), context);
    expect(instance.seen).toEqual(['order:7', 'money:refunds', 'audit:x']);
  });

  it('refuses a @Handler class without @Subscribe methods', () => {
    expect(() => undecoratedMethods()).toThrow(DecoratorError);
  });

  it('refuses @Subscribe on something that is not a method', () => {
    const error = (() => {
      try {
        new (decoratedField() as new () => unknown)();
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DecoratorError);
    expect((error as DecoratorError).code).toBe('CASCADE_CONSUMER_DECORATOR');
  });
});

describe('subscriptionsOf', () => {
  it('refuses an instance of an undecorated class with a typed error', () => {
    class Plain {}
    expect(() => subscriptionsOf(new Plain())).toThrow(/not a @Handler class/);
  });
});
