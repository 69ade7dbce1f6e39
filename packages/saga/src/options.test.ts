import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { createSagaCoordinator } from './coordinator.js';
import { defineSaga, replyType } from './definition.js';
import { checkSagaCoordinatorOptions, checkSagaParticipantOptions } from './options.js';
import { createSagaParticipant } from './participant.js';
import { tccCommandMap } from './tcc/decorators.js';
import { createTccGuard } from './tcc/guard.js';
import { postgresGuardStore } from './tcc/guard-postgres.js';
import { memoryGuardStore } from './tcc/guard-store.js';
import { httpTccParticipant } from './tcc/http-adapter.js';
import { tccHttpHandler } from './tcc/http-participant.js';
import { type TccHandlers, tccCommands } from './tcc/participant.js';
import { sagaTopics } from './topics.js';

const kafka = { brokers: ['127.0.0.1:1'] };
const saga = defineSaga<{ id: string }>('options-keys')
  .step('reserve', {
    participant: 'inventory',
    invoke: ({ input }) => ({ id: input.id }),
    reply: replyType<{ ok: boolean }>(),
  })
  .build();
const coordinator = { kafka, sagas: [saga] };
const participant = { kafka, participant: 'inventory', commands: {} };
const handlers: TccHandlers = { try: () => 1, confirm: () => 1, cancel: () => 1 };

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.unreachable('no ConfigError was thrown');
}

describe('createSagaCoordinator: option keys and paths', () => {
  const create = (input: unknown) => configError(() => createSagaCoordinator(input as never));

  it('refuses an unknown key, listing the options when none is close', () => {
    const error = create({ ...coordinator, brokers: ['h:1'] });
    expect(error.field).toBe('brokers');
    expect(error.message).toContain('unknown option. The options are: kafka, sagas, topics,');
  });

  it('suggests the key of a misspelt or differently cased one', () => {
    expect(create({ ...coordinator, partitionsConcurently: 2 }).message).toBe(
      'Invalid option partitionsConcurently: unknown option. Did you mean partitionsConcurrently?',
    );
    expect(create({ ...coordinator, groupID: 'g' }).message).toContain(
      '(option names are case-sensitive). Did you mean groupId?',
    );
    // The consumer's name for it is not the coordinator's.
    expect(create({ ...coordinator, partitionsConsumedConcurrently: 2 }).message).toContain(
      'Did you mean partitionsConcurrently?',
    );
  });

  it('names the options it passes on to its consumer and producers as the caller wrote them', () => {
    expect(create({ ...coordinator, partitionsConcurrently: 0 }).field).toBe('partitionsConcurrently');
    expect(create({ ...coordinator, partitionsConcurrently: 1.5 }).field).toBe('partitionsConcurrently');
    const session = create({ ...coordinator, sessionTimeoutMs: 2_000 });
    expect(session.field).toBe('sessionTimeoutMs');
    expect(session.message).toContain('heartbeat interval (3000 ms), got 2000');
    expect(create({ ...coordinator, groupId: '' }).field).toBe('groupId');
    expect(create({ ...coordinator, kafka: { brokers: [] } }).field).toBe('kafka.brokers');
    expect(create({ ...coordinator, kafka: { brokers: ['h:1'], requestTimeoutMS: 1 } }).field).toBe(
      'kafka.requestTimeoutMS',
    );
    expect(create({ ...coordinator, kafka: undefined }).field).toBe('kafka');
    // Its producers would refuse it as producer.deliveryTimeoutMs, which the caller cannot set.
    expect(create({ ...coordinator, kafka: { ...kafka, requestTimeoutMs: 119_999 } }).field).toBe(
      'kafka.requestTimeoutMs',
    );
    expect(() =>
      checkSagaCoordinatorOptions({ ...coordinator, kafka: { ...kafka, requestTimeoutMs: 119_998 } }),
    ).not.toThrow();
  });

  it('checks the nested circuitBreaker, kafka.sasl and topics options', () => {
    const breaker = create({ ...coordinator, circuitBreaker: { resetTimeout: 1 } });
    expect(breaker.field).toBe('circuitBreaker.resetTimeout');
    expect(breaker.message).toContain('Did you mean resetTimeoutMs?');
    expect(
      create({
        ...coordinator,
        kafka: { ...kafka, sasl: { mechanism: 'plain', username: 'u', pasword: 'p' } },
      }).field,
    ).toBe('kafka.sasl.pasword');
    expect(create({ ...coordinator, topics: { ...sagaTopics('x'), inboxx: 'y' } }).field).toBe(
      'topics.inboxx',
    );
    expect(create({ ...coordinator, topics: { inbox: 'a', log: '', commands: () => 'c' } }).field).toBe(
      'topics.log',
    );
  });

  it('refuses options that are not plain objects', () => {
    expect(create([coordinator]).field).toBe('options');
    expect(create({ ...coordinator, circuitBreaker: true }).field).toBe('circuitBreaker');
    expect(create({ ...coordinator, kafka: 'h:1' }).field).toBe('kafka');
    expect(create({ ...coordinator, sagas: saga }).field).toBe('sagas');
    expect(create({ ...coordinator, httpParticipants: new Map() }).field).toBe('httpParticipants');
  });

  it('accepts every option, known keys set to undefined, and a SagaTopics class', () => {
    class Topics {
      readonly inbox = 'i';
      readonly log = 'l';
      commands(name: string) {
        return `${name}.c`;
      }
    }
    expect(() =>
      checkSagaCoordinatorOptions({
        ...coordinator,
        topics: new Topics(),
        groupId: 'g',
        sessionTimeoutMs: 10_000,
        partitionsConcurrently: 4,
        restoreTimeoutMs: 1,
        circuitBreaker: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 10 },
        httpParticipants: {},
        onNeedsAttention: undefined,
        logger: undefined,
      } as never),
    ).not.toThrow();
    expect(() => checkSagaCoordinatorOptions({ ...coordinator, circuitBreaker: false })).not.toThrow();
  });
});

describe('createSagaParticipant: option keys and paths', () => {
  const create = (input: unknown) => configError(() => createSagaParticipant(input as never));

  it('refuses unknown and misspelt keys', () => {
    expect(create({ ...participant, retrys: 3 }).message).toBe(
      'Invalid option retrys: unknown option. Did you mean retry?',
    );
    // kafkajs' name of the option.
    expect(create({ ...participant, retry: { retries: 3 } }).message).toContain(
      'Did you mean maximumAttempts?',
    );
    expect(create({ ...participant, Commands: {} }).message).toContain('Did you mean commands?');
  });

  it('names nested and passed-on options as the caller wrote them', () => {
    expect(create({ ...participant, retry: { maximumAttempt: 2 } }).field).toBe('retry.maximumAttempt');
    expect(create({ ...participant, kafka: { brokers: ['nope'] } }).field).toBe('kafka.brokers[0]');
    expect(create({ ...participant, groupId: '' }).field).toBe('groupId');
    expect(create({ ...participant, participant: '' }).field).toBe('participant');
    expect(create({ ...participant, kafka: { ...kafka, requestTimeoutMs: 200_000 } }).field).toBe(
      'kafka.requestTimeoutMs',
    );
  });

  it('refuses options that are not plain objects', () => {
    expect(create('inventory').field).toBe('options');
    expect(create({ ...participant, retry: [] }).field).toBe('retry');
    expect(create({ ...participant, commands: undefined }).field).toBe('commands');
  });

  it('accepts every option', () => {
    expect(() =>
      checkSagaParticipantOptions({
        ...participant,
        topics: sagaTopics('x'),
        groupId: 'g',
        store: undefined,
        retry: { maximumAttempts: 2 },
        logger: undefined,
      } as never),
    ).not.toThrow();
  });
});

describe('TCC helpers: option keys', () => {
  const guard = createTccGuard({ store: memoryGuardStore() });

  it('refuse an unknown or misspelt key, naming the helper and the nearest key', () => {
    const commands = configError(() => tccCommands(handlers, { guard, intentFrist: true } as never));
    expect(commands.field).toBe('tccCommands.intentFrist');
    expect(commands.message).toContain('Did you mean intentFirst?');
    expect(configError(() => tccCommands(handlers, { guard, defaultTTLMs: 1 } as never)).message).toContain(
      '(option names are case-sensitive). Did you mean defaultTtlMs?',
    );
    expect(configError(() => tccCommandMap({ a: handlers }, { guard, resource: 'a' } as never)).field).toBe(
      'tccCommandMap.resource',
    );
    expect(configError(() => tccHttpHandler(handlers, { guard, basepath: '/p' } as never)).message).toContain(
      'Did you mean basePath?',
    );
    expect(
      configError(() => createTccGuard({ store: memoryGuardStore(), clok: Date.now } as never)).field,
    ).toBe('clok');
    expect(configError(() => httpTccParticipant({ url: 'http://p', timeout: 1 } as never)).field).toBe(
      'httpTccParticipant.timeout',
    );
    expect(configError(() => postgresGuardStore({ pool: {}, tabel: 't' } as never)).message).toContain(
      'Did you mean table?',
    );
  });

  it('refuse options that are not plain objects', () => {
    expect(configError(() => tccCommands(handlers, undefined as never)).field).toBe('tccCommands');
    expect(configError(() => createTccGuard(null as never)).field).toBe('options');
    expect(configError(() => httpTccParticipant('http://p' as never)).field).toBe('httpTccParticipant');
  });

  it('accept the options they document', () => {
    const commands = tccCommandMap(
      { a: handlers, b: handlers },
      { guard: createTccGuard({ store: memoryGuardStore() }), defaultTtlMs: 1_000, intentFirst: false },
    );
    expect(Object.keys(commands)).toEqual(['a', 'b']);
    expect(
      httpTccParticipant({
        url: 'http://p',
        timeoutMs: 1,
        headers: {},
        maxResponseBytes: 1,
        reservationUri: (tx, branch) => `http://p/${tx}/${branch}`,
      }).url,
    ).toBe('http://p');
  });
});
