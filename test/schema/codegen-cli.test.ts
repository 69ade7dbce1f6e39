// The cascade-avro-codegen bin, built and run as a user would: on a directory of .avsc files
// (with namespaces and cross-file references), its output must compile, agree with InferAvro,
// and reject wrong values.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'packages/schema/bin/cascade-avro-codegen.js');
const fixtures = join(root, 'packages/schema/test/fixtures/codegen');
let out: string;

beforeAll(() => {
  // The bin runs the compiled CLI: build the package (and core) first.
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/schema/tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'pipe',
    },
  );
  out = mkdtempSync(join(tmpdir(), 'cascade-codegen-'));
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
}

function typeCheck(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
    skipLibCheck: true,
    paths: {
      '@cascade/schema': [join(root, 'packages/schema/src/index.ts')],
      '@cascade/core': [join(root, 'packages/core/src/index.ts')],
    },
    allowImportingTsExtensions: false,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('cascade-avro-codegen', () => {
  it('writes one module per .avsc file found in a directory, and the output type-checks', () => {
    const result = run(fixtures, '--out', out);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['address.ts', 'events.ts', 'order.ts']);
    expect(result.stdout.trim().split('\n')).toHaveLength(3);

    const usage = join(out, 'usage.ts');
    writeFileSync(
      usage,
      `import type { InferAvro } from '@cascade/schema';
import { addressSchema, type ComAcmeCommonAddress } from './address.js';
import type { Events } from './events.js';
import type { Order } from './order.js';

const order: Order = {
  id: '5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab',
  placedAt: new Date(),
  total: '10.00',
  shipTo: { street: 'Main 1', country: 'DE' },
  lines: [{ sku: 'A', quantity: 2n }],
  payment: { 'com.acme.payments.Cash': { currency: 'EUR' } },
  checksum: Buffer.alloc(32),
};
const event: Events = { 'com.acme.orders.Order': order };
// The generated interface and InferAvro of the generated schema literal agree, both ways.
const inferred: InferAvro<typeof addressSchema> = order.shipTo;
const back: ComAcmeCommonAddress = inferred;
// @ts-expect-error quantity is a bigint
const wrongLong: Order = { ...order, lines: [{ sku: 'A', quantity: 2 }] };
// @ts-expect-error not a Country
const wrongEnum: ComAcmeCommonAddress = { street: 'x', country: 'XX' };
// @ts-expect-error an ambiguous union is wrapped by the record's full name
const unwrapped: Order = { ...order, payment: { currency: 'EUR' } };
export { back, event, unwrapped, wrongEnum, wrongLong };
`,
    );
    expect(typeCheck([usage])).toEqual([]);
  });

  it('exits 2 with the usage on missing arguments, and 1 naming the file on an unknown type', () => {
    const usage = run(fixtures);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('Usage: cascade-avro-codegen');
    const broken = run(join(fixtures, 'order.avsc'), '--out', join(out, 'broken'));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('order.avsc: unknown type name com.acme.common.Address');
  });
});
