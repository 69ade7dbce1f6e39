import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { Cancel, Confirm, TccParticipant, Try, tccCommandMap, tccParticipantFrom } from './decorators.js';
import { createTccGuard } from './guard.js';
import { memoryGuardStore } from './guard-store.js';
import type { TccContext } from './participant.js';

// Vite does not lower decorator syntax, so the decorators are applied by hand, in the calling
// convention of each TypeScript decorator mode.
type Mode = 'standard' | 'experimental';
function decorate(
  mode: Mode,
  ctor: abstract new (...args: never[]) => unknown,
  methods: Record<string, ReturnType<typeof Try>[]>,
  participant: ReturnType<typeof TccParticipant>,
): void {
  const proto = ctor.prototype as Record<string, () => unknown>;
  for (const [name, decorators] of Object.entries(methods)) {
    for (const decorator of decorators) {
      if (mode === 'standard')
        decorator(proto[name] as never, { kind: 'method', name } as ClassMethodDecoratorContext);
      else decorator(proto, name, { value: proto[name] as never });
    }
  }
  if (mode === 'standard') participant(ctor, { kind: 'class', name: ctor.name } as ClassDecoratorContext);
  else participant(ctor);
}

describe.each(['standard', 'experimental'] as const)('TCC participant decorators (%s)', (mode) => {
  it('collect the try, confirm and cancel of each resource and bind them to the instance', async () => {
    class Travel {
      prefix = 'travel';
      holdSeat(payload: unknown, context: TccContext) {
        return `${this.prefix} hold ${String(payload)} ${context.transaction}`;
      }
      bookSeat() {
        return `${this.prefix} book`;
      }
      freeSeat() {
        return `${this.prefix} free`;
      }
      holdRoom() {
        return 'hold room';
      }
      bookRoom() {
        return 'book room';
      }
      freeRoom() {
        return 'free room';
      }
    }
    decorate(
      mode,
      Travel,
      {
        holdSeat: [Try('seat')],
        bookSeat: [Confirm('seat')],
        freeSeat: [Cancel('seat')],
        holdRoom: [Try('room')],
        bookRoom: [Confirm('room')],
        freeRoom: [Cancel('room')],
      },
      TccParticipant('travel'),
    );
    const { participant, resources } = tccParticipantFrom(new Travel());
    expect(participant).toBe('travel');
    expect(Object.keys(resources).sort()).toEqual(['room', 'seat']);
    const context = { transaction: 't-1' } as TccContext;
    expect(resources.seat?.try('A1', context)).toBe('travel hold A1 t-1');
    expect(resources.seat?.confirm(undefined, context)).toBe('travel book');
    expect(resources.room?.cancel(undefined, context)).toBe('free room');

    const guard = createTccGuard({ store: memoryGuardStore() });
    const commands = tccCommandMap(resources, { guard });
    expect(Object.keys(commands).sort()).toEqual(['room', 'seat']);
    // Each resource is registered on the guard under its own name.
    expect(() => guard.register('seat', async () => {})).toThrowError(ConfigError);
  });

  it('refuse a resource without all three phases, two methods for a phase, and an empty class', () => {
    class Partial {
      hold() {}
      book() {}
    }
    expect(() =>
      decorate(mode, Partial, { hold: [Try('seat')], book: [Confirm('seat')] }, TccParticipant('partial')),
    ).toThrow('Invalid option @TccParticipant(partial): the resource seat has no @Cancel(seat) method');
    class Twice {
      a() {}
      b() {}
      c() {}
      d() {}
    }
    expect(() =>
      decorate(
        mode,
        Twice,
        { a: [Try('seat')], b: [Try('seat')], c: [Confirm('seat')], d: [Cancel('seat')] },
        TccParticipant('twice'),
      ),
    ).toThrow('two methods are @Try(seat)');
    class Empty {}
    expect(() => decorate(mode, Empty, {}, TccParticipant('empty'))).toThrowError(ConfigError);
  });
});

it('refuses an object whose class is not a @TccParticipant', () => {
  expect(() => tccParticipantFrom(new (class Plain {})())).toThrow(
    'Invalid option tccParticipantFrom: Plain is not a @TccParticipant class.',
  );
});
