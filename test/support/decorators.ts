// Compiles a decorator fixture under one of TypeScript's two decorator modes and imports it.
// Vite's transform does not lower decorators, so tests of decorated classes compile their
// fixtures with the TypeScript API: standard ECMAScript decorators, or experimentalDecorators.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** Compiles `fixture` (a file URL) with or without `experimentalDecorators` and imports the result. */
export async function loadDecoratorFixture<T>(fixture: URL, experimentalDecorators: boolean): Promise<T> {
  const source = fileURLToPath(fixture);
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      experimentalDecorators,
      useDefineForClassFields: true,
    },
  });
  // Next to the test (a git-ignored .generated folder), so its imports resolve like the test's.
  const outDir = join(dirname(dirname(source)), '.generated');
  mkdirSync(outDir, { recursive: true });
  const file = join(
    outDir,
    `${basename(source, '.ts')}-${experimentalDecorators ? 'experimental' : 'standard'}.mjs`,
  );
  writeFileSync(file, outputText);
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as T;
}
