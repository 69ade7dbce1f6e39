// The closed error-code lists: every error class of a package takes its code from its own
// package's list, no code belongs to two packages, and docs/errors.md lists exactly the codes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumerErrorCodes } from '@cascade/consumer';
import { CoreErrorCodes } from '@cascade/core';
import { ProducerErrorCodes } from '@cascade/producer';
import { SagaErrorCodes } from '@cascade/saga';
import { SchemaErrorCodes } from '@cascade/schema';
import { TestkitErrorCodes } from '@cascade/testkit';
import { TransportErrorCodes } from '@cascade/transport';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

const lists = {
  core: ['CoreErrorCodes', CoreErrorCodes],
  transport: ['TransportErrorCodes', TransportErrorCodes],
  schema: ['SchemaErrorCodes', SchemaErrorCodes],
  producer: ['ProducerErrorCodes', ProducerErrorCodes],
  consumer: ['ConsumerErrorCodes', ConsumerErrorCodes],
  saga: ['SagaErrorCodes', SagaErrorCodes],
  testkit: ['TestkitErrorCodes', TestkitErrorCodes],
} as const satisfies Record<string, readonly [string, Readonly<Record<string, string>>]>;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('error codes', () => {
  it.each(Object.entries(lists))(
    "are %s's own: every `readonly code` names a key of its list",
    (pkg, [name, codes]) => {
      const found: string[] = [];
      for (const file of sources(join(root, 'packages', pkg, 'src'))) {
        for (const [, expression] of readFileSync(file, 'utf8').matchAll(/^\s+readonly code = ([^;]+);/gm)) {
          found.push(expression as string);
          const [list, key] = (expression as string).split('.');
          expect(list, `${file}: ${expression}`).toBe(name);
          expect(Object.keys(codes), `${file}: ${expression}`).toContain(key);
        }
      }
      expect(found.length).toBeGreaterThan(0);
    },
  );

  it('belong to one package each, and are all prefixed CASCADE_', () => {
    const all = Object.values(lists).flatMap(([, codes]) => Object.values(codes));
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^CASCADE_[A-Z_]+$/);
  });

  it('are listed in docs/errors.md, each under its package, and nothing else is', () => {
    const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    const sections = doc.split(/^## /m).slice(1);
    const listed = new Map<string, string[]>();
    for (const section of sections) {
      const pkg = /^@cascade\/(\w+)/.exec(section)?.[1];
      if (pkg === undefined) continue;
      listed.set(
        pkg,
        [...section.matchAll(/^\| `(CASCADE_[A-Z_]+)` \|/gm)].map((m) => m[1] as string),
      );
    }
    for (const [pkg, [, codes]] of Object.entries(lists)) {
      expect(listed.get(pkg)?.sort(), pkg).toEqual(Object.values(codes).sort());
    }
    expect([...listed.keys()].sort()).toEqual(Object.keys(lists).sort());
  });
});
