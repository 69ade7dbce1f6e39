import { describe, expect, it } from 'vitest';
import { defineSaga } from './definition.js';
import { DuplicateSagaDefinitionError, SagaErrorCodes, UnknownSagaError } from './errors.js';
import { SagaRegistry } from './registry.js';

const version = (v: number) =>
  defineSaga<{ id: string }>('place-order', { version: v })
    .step('a', { run: () => v })
    .build();

describe('saga registry', () => {
  it('starts new sagas on the newest version and finds old versions for sagas in flight', () => {
    const registry = new SagaRegistry([version(1), version(3), version(2)]);
    expect(registry.latest('place-order').version).toBe(3);
    expect(registry.get('place-order', 1).version).toBe(1);
    expect(registry.list()).toEqual([{ name: 'place-order', versions: [1, 2, 3] }]);
  });

  it('refuses a version registered twice and names unknown sagas and versions', () => {
    expect(() => new SagaRegistry([version(1), version(1)])).toThrowError(DuplicateSagaDefinitionError);
    const registry = new SagaRegistry([version(1)]);
    const unknown = (() => {
      try {
        registry.get('place-order', 7, 'saga-9');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(unknown).toBeInstanceOf(UnknownSagaError);
    expect((unknown as UnknownSagaError).code).toBe(SagaErrorCodes.UnknownSaga);
    expect((unknown as Error).message).toBe(
      'No definition is registered for saga "place-order" version 7 (saga id saga-9); registered versions: 1. Register it with the coordinator; keep old versions registered until their sagas finish.',
    );
    expect((unknown as UnknownSagaError).registeredVersions).toEqual([1]);
    expect(() => registry.latest('refund')).toThrowError(UnknownSagaError);
    expect(new DuplicateSagaDefinitionError('x', 1).code).toBe(SagaErrorCodes.DuplicateDefinition);
  });

  it('names the registered versions when a version is not registered, oldest first', () => {
    const registry = new SagaRegistry([version(3), version(1)]);
    let error: unknown;
    try {
      registry.get('place-order', 2);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnknownSagaError);
    expect((error as UnknownSagaError).registeredVersions).toEqual([1, 3]);
    expect((error as Error).message).toContain('version 2; registered versions: 1, 3.');
    let unknownName: unknown;
    try {
      registry.get('refund', 1);
    } catch (caught) {
      unknownName = caught;
    }
    expect((unknownName as UnknownSagaError).registeredVersions).toEqual([]);
    expect((unknownName as Error).message).not.toContain('registered versions');
  });
});
