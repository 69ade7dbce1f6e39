import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { patchKafkajsCoordinatorRediscovery, patchKafkajsFetchFailover } from './group-patch.js';
import {
  patchKafkajsAllTopicsMetadata,
  patchKafkajsNegativeTimeout,
  patchKafkajsProduceEncoding,
  patchKafkajsStuckRequests,
} from './patches.js';
import { patchKafkajsProduceTracing } from './produce-trace.js';
import { hasShape, missingMember } from './shape.js';

/** Written as kafkajs writes its classes: fields assigned in the constructor. */
class Queue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  constructor() {
    this.pending = [];
    this.inflight = new Map();
  }
  drain(): void {
    this.pending.length = 0;
  }
}

describe('a patch checks every member it relies on', () => {
  it('finds prototype methods and the fields the class assigns', () => {
    expect(hasShape(Queue, { methods: ['drain'], fields: ['pending', 'inflight'] })).toBe(true);
  });

  it.each([
    [{ methods: ['flush'] }, 'method flush'],
    [{ fields: ['throttledUntil'] }, 'field throttledUntil'],
    // A field name that is only a prefix of one the class has is not that field.
    [{ fields: ['pend'] }, 'field pend'],
    [{ methods: ['drain'], fields: ['pending', 'inflight', 'requestTimeout'] }, 'field requestTimeout'],
  ])('names what a class lacks: %j', (shape, missing) => {
    expect(missingMember(Queue, shape)).toBe(missing);
    expect(hasShape(Queue, shape)).toBe(false);
  });

  it('declines anything that is not a class', () => {
    expect(missingMember(undefined, { methods: [] })).toBe('the class itself');
    expect(hasShape({ prototype: {} }, {})).toBe(false);
  });

  it('finds every member each patch relies on in kafkajs 2.2.4 (so every patch applies)', () => {
    const version = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
    expect(version).toBe('2.2.4');
    expect({
      negativeTimeout: patchKafkajsNegativeTimeout(),
      stuckRequests: patchKafkajsStuckRequests(),
      produceEncoding: patchKafkajsProduceEncoding(),
      allTopicsMetadata: patchKafkajsAllTopicsMetadata(),
      produceTracing: patchKafkajsProduceTracing(),
      coordinatorRediscovery: patchKafkajsCoordinatorRediscovery(),
      fetchFailover: patchKafkajsFetchFailover(),
    }).toEqual({
      negativeTimeout: true,
      stuckRequests: true,
      produceEncoding: true,
      allTopicsMetadata: true,
      produceTracing: true,
      coordinatorRediscovery: true,
      fetchFailover: true,
    });
  });
});
