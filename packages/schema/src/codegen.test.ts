import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateAvroTypes } from './codegen.js';
import { InvalidSchemaError } from './errors.js';

const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../test/fixtures/codegen/${path}`, import.meta.url), 'utf8'));

describe('generateAvroTypes', () => {
  it('writes an interface per record, literal unions for enums, and imports names from other files', () => {
    const [address, order] = generateAvroTypes([
      { module: 'address', schema: fixture('common/address.avsc') },
      { module: 'order', schema: fixture('order.avsc') },
    ]);
    expect(address?.source).toContain(
      '/** A postal address. */\nexport interface Address {\n  street: string;\n  zip?: null | string;\n  country: Country;\n}',
    );
    expect(address?.source).toContain(`export type Country = "DE" | "FR" | "US";`);
    expect(order?.fileName).toBe('order.ts');
    expect(order?.source).toContain(`import type { Address } from './address.js';`);
    expect(order?.source).toContain(
      [
        'export interface Order {',
        '  /** The order id. */',
        '  id: string;',
        '  placedAt: Date;',
        '  total: string;',
        '  shipTo: Address;',
        '  billTo?: null | Address;',
        '  lines: Array<Line>;',
        '  payment: { "com.acme.orders.Card": Card } | { "com.acme.payments.Cash": Cash };',
        '  checksum: Sha256;',
        '  "shipped-on"?: null | string;',
        '}',
      ].join('\n'),
    );
    expect(order?.source).toContain(
      'export interface Line {\n  sku: string;\n  quantity: bigint;\n  attributes?: Record<string, string>;\n}',
    );
    expect(order?.source).toContain('export type Sha256 = Buffer;');
    expect(order?.source).toContain('export const orderSchema = {');
  });

  it('qualifies names that collide across namespaces and types a top-level union', () => {
    const modules = generateAvroTypes([
      { module: 'address', schema: fixture('common/address.avsc') },
      { module: 'order', schema: fixture('order.avsc') },
      { module: 'events', schema: fixture('events.avsc') },
    ]);
    const events = modules[2]?.source ?? '';
    expect(modules[0]?.source).toContain('export interface ComAcmeCommonAddress {');
    expect(events).toContain('export interface ComAcmeLegacyAddress {\n  line: string;\n}');
    expect(events).toContain(
      'export type Events = null | { "com.acme.orders.Order": Order } | { "com.acme.legacy.Address": ComAcmeLegacyAddress };',
    );
    expect(events).toContain(`import type { Order } from './order.js';`);
  });

  it('refuses an unknown name and a duplicate definition with InvalidSchemaError', () => {
    expect(() => generateAvroTypes([{ module: 'order', schema: fixture('order.avsc') }])).toThrow(
      /order\.avsc: unknown type name com\.acme\.common\.Address/,
    );
    const address = fixture('common/address.avsc');
    expect(() =>
      generateAvroTypes([
        { module: 'a', schema: address },
        { module: 'b', schema: address },
      ]),
    ).toThrow(InvalidSchemaError);
  });
});
