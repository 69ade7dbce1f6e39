/**
 * Versioned saga definitions. A saga records the name and version it started with; a coordinator
 * keeps every version that still has sagas in flight, starts each new saga on the version
 * `begin()` was given (which must be registered), and finishes old ones on the version they began
 * with — so a deploy never changes a saga mid-flight.
 * @module
 */

import type { SagaDefinition } from './definition.js';
import { DuplicateSagaDefinitionError, UnknownSagaError } from './errors.js';

/** The definitions a coordinator runs, by name and version. */
export class SagaRegistry {
  readonly #byName = new Map<string, Map<number, SagaDefinition>>();

  constructor(definitions: Iterable<SagaDefinition<unknown, unknown>> = []) {
    for (const definition of definitions) this.register(definition);
  }

  /** Adds a definition. @throws {DuplicateSagaDefinitionError} for a name and version seen before. */
  register(definition: SagaDefinition<unknown, unknown>): this {
    const untyped = definition as unknown as SagaDefinition;
    let versions = this.#byName.get(untyped.name);
    if (versions === undefined) {
      versions = new Map();
      this.#byName.set(untyped.name, versions);
    }
    if (versions.has(untyped.version)) throw new DuplicateSagaDefinitionError(untyped.name, untyped.version);
    versions.set(untyped.version, untyped);
    return this;
  }

  /** The newest version of a saga. @throws {UnknownSagaError} */
  latest(name: string): SagaDefinition {
    const versions = this.#byName.get(name);
    if (versions === undefined || versions.size === 0) throw new UnknownSagaError(name, undefined);
    const newest = Math.max(...versions.keys());
    return versions.get(newest) as SagaDefinition;
  }

  /**
   * Exactly this version of a saga.
   * @throws {UnknownSagaError} naming the versions of `name` that are registered.
   */
  get(name: string, version: number, sagaId?: string): SagaDefinition {
    const versions = this.#byName.get(name);
    const definition = versions?.get(version);
    if (definition === undefined) {
      const registeredVersions = [...(versions?.keys() ?? [])].sort((a, b) => a - b);
      throw new UnknownSagaError(name, version, sagaId, { registeredVersions });
    }
    return definition;
  }

  /**
   * The definition a `begin` record asks for: exactly `version` when it names one, else (a record
   * written before begins named their version) the newest.
   * @throws {UnknownSagaError}
   */
  forBegin(name: string, version: number | undefined, sagaId?: string): SagaDefinition {
    return version === undefined ? this.latest(name) : this.get(name, version, sagaId);
  }

  /** Every registered name and its versions, oldest first. */
  list(): Array<{ name: string; versions: number[] }> {
    return [...this.#byName].map(([name, versions]) => ({
      name,
      versions: [...versions.keys()].sort((a, b) => a - b),
    }));
  }
}
