import { describe, expect, it } from 'vitest';
import { beginConflict } from './state.js';

describe('a second begin of a saga id', () => {
  const state = { saga: 'order', input: { id: 'o-1', lines: [{ sku: 'A', qty: 2 }], note: null } };

  it('asks for the saga there is when it names the same saga and the same input as JSON, keys in any order', () => {
    expect(
      beginConflict(state, 'order', { note: null, lines: [{ qty: 2, sku: 'A' }], id: 'o-1' }),
    ).toBeUndefined();
    // What JSON drops, a begin record drops too.
    expect(beginConflict(state, 'order', { ...state.input, extra: undefined })).toBeUndefined();
    expect(beginConflict({ saga: 'order', input: undefined }, 'order', undefined)).toBeUndefined();
    expect(
      beginConflict(
        { saga: 'order', input: '2024-01-01T00:00:00.000Z' },
        'order',
        new Date(Date.UTC(2024, 0, 1)),
      ),
    ).toBeUndefined();
  });

  it('conflicts when the input differs, even only in an array order or a nested value', () => {
    expect(beginConflict(state, 'order', { ...state.input, id: 'o-2' })).toBe('input');
    expect(beginConflict(state, 'order', { ...state.input, lines: [{ sku: 'A', qty: 3 }] })).toBe('input');
    expect(beginConflict({ saga: 'order', input: [1, 2] }, 'order', [2, 1])).toBe('input');
    expect(beginConflict(state, 'order', { id: 'o-1' })).toBe('input');
  });

  it('conflicts when it names another saga', () => {
    expect(beginConflict(state, 'refund', state.input)).toBe('saga');
  });
});
