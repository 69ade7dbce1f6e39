import { describe, expect, it } from 'vitest';
import { kraftClusterId } from './kafka-node.js';

describe('kraftClusterId', () => {
  it('never starts with "-", which StorageTool would read as an option', () => {
    // 0xf8 encodes to '-' as the first base64url character; the next draw is taken instead.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = kraftClusterId(() => draws.shift() ?? Buffer.alloc(16));
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
  });

  it('gives 22 base64url characters', () => {
    for (let i = 0; i < 200; i++) expect(kraftClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
