import { describe, expect, it } from 'vitest';
import { classDecorator, MethodMarks } from './decorators.js';
import { ConfigError } from './errors.js';

describe('dual-mode decorator helpers', () => {
  it('record marks under both calling conventions and collect them through base classes', () => {
    const marks = new MethodMarks<string>();
    class Base {
      inherited(): void {}
    }
    class Child extends Base {
      standard(): void {}
      experimental(): void {}
    }
    const standard = marks.decorator<() => void>('@Standard', 'from standard decorators');
    const experimental = marks.decorator<() => void>('@Experimental', 'from experimentalDecorators');
    standard(Child.prototype.standard, { kind: 'method', name: 'standard' } as ClassMethodDecoratorContext);
    experimental(Child.prototype, 'experimental', {
      value: Child.prototype.experimental,
    } as TypedPropertyDescriptor<() => void>);
    standard(Base.prototype.inherited, { kind: 'method', name: 'inherited' } as ClassMethodDecoratorContext);

    expect(marks.collect(Child)).toEqual([
      { key: 'standard', mark: 'from standard decorators' },
      { key: 'experimental', mark: 'from experimentalDecorators' },
      { key: 'inherited', mark: 'from standard decorators' },
    ]);
    expect(marks.collect(class Unmarked {})).toEqual([]);
  });

  it('refuse to decorate anything but a method, naming the decorator', () => {
    const decorator = new MethodMarks<string>().decorator<() => void>('@Command(reserve)', 'x');
    const onField = () =>
      decorator(
        undefined as unknown as () => void,
        { kind: 'field', name: 'stock' } as unknown as ClassMethodDecoratorContext,
      );
    expect(onField).toThrowError(ConfigError);
    expect(onField).toThrow('Invalid option @Command(reserve): must decorate a method, not the field stock.');
  });

  it('hand the decorated class to a class decorator in both modes', () => {
    const seen: unknown[] = [];
    const decorator = classDecorator((ctor) => seen.push(ctor));
    class Service {}
    decorator(Service, { kind: 'class', name: 'Service' } as ClassDecoratorContext<typeof Service>);
    decorator(Service);
    expect(seen).toEqual([Service, Service]);
  });
});
