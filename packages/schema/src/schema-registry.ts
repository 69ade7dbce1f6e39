/**
 * A client of the Confluent-compatible schema registry REST API: bounded caches, one request in
 * flight per key, retries with backoff on outages, and no side effects beyond registering a
 * schema version (it never writes a subject's compatibility config).
 * @module
 */

import type { Logger } from '@cascade/core';
import {
  InvalidSchemaError,
  RegistryRequestError,
  SchemaIncompatibleError,
  SchemaNotFoundError,
} from './errors.js';
import { abortable } from './internal/abortable.js';
import { LoadingCache } from './internal/lru-cache.js';
import {
  compatibilityMessages,
  errorBody,
  parseReferences,
  parseSchemaType,
  parseSubjectVersion,
} from './internal/registry-responses.js';
import { type RegistryReply, RegistryTransport } from './internal/registry-transport.js';
import {
  type ResolvedSchemaRegistryOptions,
  resolveSchemaRegistryOptions,
  type SchemaRegistryOptions,
} from './options.js';

/** A reference from one schema to a named type registered under another subject. */
export interface SchemaReference {
  /** The full name of the referenced type, e.g. `com.acme.Address`. */
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

/** A schema as the registry stores it. */
export interface SchemaDefinition {
  /** The schema text (Avro JSON). */
  readonly schema: string;
  /** @default 'AVRO' */
  readonly schemaType?: 'AVRO' | 'JSON' | 'PROTOBUF';
  /** @default [] */
  readonly references?: readonly SchemaReference[];
}

/** A schema registered under a subject. */
export interface SubjectVersion extends SchemaDefinition {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
}

/** The registry's verdict on a schema against a subject. */
export interface CompatibilityResult {
  readonly compatible: boolean;
  /**
   * The registry's reasons when incompatible (Apicurio gives none on this endpoint), with any
   * credentials the registry echoed removed.
   */
  readonly messages: readonly string[];
}

/** Options every registry call accepts. */
export interface RegistryCallOptions {
  /**
   * Stops waiting (and, for calls that are not shared, the HTTP request and retries): the call
   * rejects with `AbortedError`. A load shared with other callers keeps running for them.
   * @default undefined
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link SchemaRegistry.getOrRegisterId}. */
export interface GetIdOptions extends RegistryCallOptions {
  /** Register the schema when the subject does not have it yet. @default true */
  readonly autoRegister?: boolean;
}

/**
 * A schema registry client. Create one per registry and share it between serdes: its caches and
 * its one-request-per-key guarantee are per client.
 *
 * @example
 * ```ts
 * const registry = new SchemaRegistry({
 *   url: 'https://registry.internal:8081',
 *   auth: { username: 'svc-orders', password: process.env.REGISTRY_PASSWORD ?? '' },
 * });
 * const id = await registry.getOrRegisterId('orders-value', { schema: JSON.stringify(orderSchema) });
 * ```
 */
export class SchemaRegistry {
  readonly #options: ResolvedSchemaRegistryOptions;
  readonly #transport: RegistryTransport;
  readonly #logger: Logger;
  readonly #byId: LoadingCache<number, SchemaDefinition>;
  readonly #versions: LoadingCache<string, SubjectVersion>;
  readonly #ids: LoadingCache<string, number>;
  readonly #latestInFlight = new Map<string, Promise<SubjectVersion>>();

  constructor(options: SchemaRegistryOptions) {
    this.#options = resolveSchemaRegistryOptions(options);
    const { cacheCapacity } = this.#options;
    this.#logger = this.#options.logger.child({ registry: this.#options.displayUrl });
    this.#transport = new RegistryTransport(this.#options, this.#logger);
    this.#byId = new LoadingCache(cacheCapacity);
    this.#versions = new LoadingCache(cacheCapacity);
    this.#ids = new LoadingCache(cacheCapacity);
  }

  /** The registry base URL, without credentials. */
  get url(): string {
    return this.#options.displayUrl;
  }

  /**
   * The schema with global id `id` (cached). Throws {@link SchemaNotFoundError} when the registry
   * does not know the id.
   */
  getSchemaById(id: number, options: RegistryCallOptions = {}): Promise<SchemaDefinition> {
    return abortable(
      this.#byId.get(id, () => this.#fetchSchemaById(id)),
      options.signal,
      'fetch a schema by id',
    );
  }

  /**
   * Version `version` of `subject`, or its latest version with `'latest'` (numbered versions are
   * cached; `'latest'` asks the registry every time). Throws {@link SchemaNotFoundError}.
   */
  getSubjectVersion(
    subject: string,
    version: number | 'latest',
    options: RegistryCallOptions = {},
  ): Promise<SubjectVersion> {
    return abortable(this.#subjectVersion(subject, version), options.signal, 'fetch a subject version');
  }

  #subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    if (version === 'latest') {
      // Not cached (the latest version changes), but one request at a time per subject.
      let pending = this.#latestInFlight.get(subject);
      if (pending === undefined) {
        pending = this.#fetchVersion(subject, 'latest').finally(() => this.#latestInFlight.delete(subject));
        this.#latestInFlight.set(subject, pending);
      }
      return pending;
    }
    return this.#versions.get(JSON.stringify([subject, version]), () => this.#fetchVersion(subject, version));
  }

  /** The id and version of `definition` under `subject`, or `undefined` when not registered there. */
  async lookupSchema(
    subject: string,
    definition: SchemaDefinition,
    options: RegistryCallOptions = {},
  ): Promise<SubjectVersion | undefined> {
    const path = `subjects/${enc(subject)}`;
    const reply = await this.#transport.request(
      'look up a schema',
      'POST',
      path,
      body(definition),
      options.signal,
    );
    if (reply.status === 404) return undefined;
    this.#expectOk(reply, 'look up a schema', subject);
    return parseSubjectVersion(reply.json, subject, this.url, definition);
  }

  /**
   * Whether `definition` is compatible with the latest version of `subject` under the subject's
   * compatibility level. A subject that does not exist yet accepts anything.
   */
  async checkCompatibility(
    subject: string,
    definition: SchemaDefinition,
    options: RegistryCallOptions = {},
  ): Promise<CompatibilityResult> {
    const path = `compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`;
    const reply = await this.#transport.request(
      'check compatibility',
      'POST',
      path,
      body(definition),
      options.signal,
    );
    if (reply.status === 404) return { compatible: true, messages: [] };
    this.#expectOk(reply, 'check compatibility', subject);
    const json = reply.json as { is_compatible?: unknown };
    return { compatible: json.is_compatible === true, messages: compatibilityMessages(reply.json) };
  }

  /**
   * Registers `definition` under `subject` and returns its id. Only the schema version is
   * written: never the subject's compatibility config. Throws {@link SchemaIncompatibleError}
   * when the registry refuses it as incompatible, {@link InvalidSchemaError} when invalid.
   */
  async register(
    subject: string,
    definition: SchemaDefinition,
    options: RegistryCallOptions = {},
  ): Promise<number> {
    const path = `subjects/${enc(subject)}/versions`;
    const reply = await this.#transport.request(
      'register a schema',
      'POST',
      path,
      body(definition),
      options.signal,
    );
    this.#expectOk(reply, 'register a schema', subject);
    const id = (reply.json as { id?: unknown }).id;
    if (typeof id !== 'number') throw this.#unexpected('register a schema', reply);
    this.#logger.debug('registered schema', { subject, schemaId: id });
    return id;
  }

  /**
   * The id of `definition` under `subject`: looked up, else (with `autoRegister`) checked for
   * compatibility and registered. Cached per (subject, schema); concurrent first calls share one
   * round of requests. Throws {@link SchemaIncompatibleError}, or {@link SchemaNotFoundError}
   * when not registered and `autoRegister` is off.
   */
  getOrRegisterId(
    subject: string,
    definition: SchemaDefinition,
    options: GetIdOptions = {},
  ): Promise<number> {
    const autoRegister = options.autoRegister ?? true;
    const key = JSON.stringify([
      subject,
      definition.schemaType ?? 'AVRO',
      definition.schema,
      definition.references ?? [],
      autoRegister,
    ]);
    const shared = this.#ids.get(key, () => this.#resolveId(subject, definition, autoRegister));
    return abortable(shared, options.signal, 'get or register a schema id');
  }

  /**
   * `running` from construction (a registry client needs no start: it connects on first use),
   * `stopped` after {@link close}.
   */
  get state(): 'running' | 'stopped' {
    return this.#transport.closed ? 'stopped' : 'running';
  }

  /**
   * Closes the client's connections. Idempotent. Registry requests after it (cache misses of the
   * serdes built on it included) reject with `ClosedError`; cached schemas and ids still serve.
   */
  close(): Promise<void> {
    this.#transport.close();
    return Promise.resolve();
  }

  /** `using registry = new SchemaRegistry(...)` closes its connections at the end of the scope. */
  [Symbol.dispose](): void {
    this.#transport.close();
  }

  /** `await using registry = new SchemaRegistry(...)` closes its connections at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #resolveId(subject: string, definition: SchemaDefinition, autoRegister: boolean): Promise<number> {
    const found = await this.lookupSchema(subject, definition);
    if (found !== undefined) return found.id;
    if (!autoRegister) {
      throw new SchemaNotFoundError(
        `The schema is not registered under subject ${subject} in ${this.url}, and autoRegister is off. Register it first (CI, or cascade tooling), or turn autoRegister on.`,
        { subject },
      );
    }
    const verdict = await this.checkCompatibility(subject, definition);
    if (!verdict.compatible) throw new SchemaIncompatibleError(subject, verdict.messages);
    return this.register(subject, definition);
  }

  async #fetchSchemaById(id: number): Promise<SchemaDefinition> {
    const reply = await this.#transport.request('fetch a schema by id', 'GET', `schemas/ids/${id}`);
    if (reply.status === 404) {
      throw new SchemaNotFoundError(
        `Schema id ${id} not found in registry ${this.url}. Was the subject deleted?`,
        {
          schemaId: id,
        },
      );
    }
    this.#expectOk(reply, 'fetch a schema by id');
    const json = reply.json as { schema?: unknown; schemaType?: unknown; references?: unknown };
    if (typeof json.schema !== 'string') throw this.#unexpected('fetch a schema by id', reply);
    return {
      schema: json.schema,
      schemaType: parseSchemaType(json.schemaType),
      references: parseReferences(json.references),
    };
  }

  async #fetchVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const reply = await this.#transport.request(
      'fetch a subject version',
      'GET',
      `subjects/${enc(subject)}/versions/${version}`,
    );
    if (reply.status === 404) {
      throw new SchemaNotFoundError(
        `Subject ${subject} has no version ${version} in registry ${this.url}. Register the schema first.`,
        { subject },
      );
    }
    this.#expectOk(reply, 'fetch a subject version', subject);
    return parseSubjectVersion(reply.json, subject, this.url);
  }

  #expectOk(reply: RegistryReply, operation: string, subject?: string): void {
    if (reply.status >= 200 && reply.status < 300) return;
    const { code, message } = errorBody(reply.json);
    if (reply.status === 409)
      throw new SchemaIncompatibleError(subject ?? '', message === '' ? [] : [message]);
    if (reply.status === 422 && (code === 42201 || code === 422)) {
      throw new InvalidSchemaError(
        `Registry ${this.url} refused the schema for subject ${subject ?? '?'} as invalid: ${message}. Fix the schema.`,
        { subject },
      );
    }
    throw new RegistryRequestError(this.url, operation, reply.status, code, message);
  }

  #unexpected(operation: string, reply: RegistryReply): RegistryRequestError {
    return new RegistryRequestError(this.url, operation, reply.status, undefined, 'unexpected response body');
  }
}

function enc(subject: string): string {
  return encodeURIComponent(subject);
}

function body(definition: SchemaDefinition): string {
  const out: Record<string, unknown> = { schema: definition.schema };
  if (definition.schemaType !== undefined && definition.schemaType !== 'AVRO')
    out.schemaType = definition.schemaType;
  if (definition.references !== undefined && definition.references.length > 0) {
    out.schemaType = definition.schemaType ?? 'AVRO';
    out.references = definition.references;
  }
  return JSON.stringify(out);
}
