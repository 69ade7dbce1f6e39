import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { subjectName } from './subject-strategy.js';

describe('subjectName', () => {
  const context = { topic: 'orders', isKey: false, recordName: 'com.acme.Order' };
  it('follows Confluent naming for the three built-in strategies', () => {
    expect(subjectName('topic', context)).toBe('orders-value');
    expect(subjectName('topic', { ...context, isKey: true })).toBe('orders-key');
    expect(subjectName('record', context)).toBe('com.acme.Order');
    expect(subjectName('topic-record', context)).toBe('orders-com.acme.Order');
  });

  it('calls a function strategy and refuses an empty subject', () => {
    expect(subjectName(({ topic }) => `x.${topic}`, context)).toBe('x.orders');
    expect(() => subjectName(() => '', context)).toThrow(ConfigError);
    expect(() => subjectName('record', { ...context, recordName: undefined })).toThrow(/named schema/);
  });
});
