import { describe } from 'vitest';
import { guardRules } from '../../../../test/support/tcc-guard-rules.js';
import { memoryGuardStore } from './guard-store.js';

describe('the TCC guard on the memory store', () => {
  guardRules(async () => ({ store: memoryGuardStore(), close: async () => {} }), { concurrency: 20 });
});
