/**
 * `cascade-avro-codegen <files or dirs...> --out <dir>`: writes a `.ts` module of types for each
 * `.avsc` file (directories are searched recursively). Exit code 0 on success, 1 when a schema is
 * invalid, 2 on bad usage.
 * @module
 */

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { type AvroSourceFile, generateAvroTypes } from './codegen.js';
import { messageOf } from './internal/codec.js';

/** Where the CLI writes (injectable for tests). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
}

const usage = 'Usage: cascade-avro-codegen <file.avsc | dir>... --out <dir>\n';

function findAvsc(path: string): string[] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .sort()
      .flatMap((entry) => findAvsc(join(path, entry)));
  }
  return path.endsWith('.avsc') ? [path] : [];
}

/** Runs the CLI with `args` (without `node` and the script) and returns the exit code. */
export function runCodegenCli(args: readonly string[], io: CliIo): number {
  const inputs: string[] = [];
  let outDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--out' || arg === '-o') outDir = args[++i];
    else if (arg.startsWith('--out=')) outDir = arg.slice('--out='.length);
    else if (arg === '--help' || arg === '-h') {
      io.out(usage);
      return 0;
    } else inputs.push(arg);
  }
  if (inputs.length === 0 || outDir === undefined || outDir === '') {
    io.err(usage);
    return 2;
  }
  const files: AvroSourceFile[] = [];
  const modules = new Map<string, string>();
  try {
    for (const input of inputs) {
      for (const path of findAvsc(resolve(io.cwd, input))) {
        const module = basename(path, '.avsc');
        const other = modules.get(module);
        if (other !== undefined)
          throw new Error(`${path} and ${other} would both generate ${module}.ts; rename one.`);
        modules.set(module, path);
        let schema: unknown;
        try {
          schema = JSON.parse(readFileSync(path, 'utf8'));
        } catch (error) {
          throw new Error(`${relative(io.cwd, path)} is not valid JSON: ${messageOf(error)}`);
        }
        files.push({ module, schema });
      }
    }
    if (files.length === 0) throw new Error(`no .avsc files found in ${inputs.join(', ')}.`);
    const generated = generateAvroTypes(files);
    const target = resolve(io.cwd, outDir);
    mkdirSync(target, { recursive: true });
    for (const module of generated) {
      writeFileSync(join(target, module.fileName), module.source);
      io.out(`wrote ${relative(io.cwd, join(target, module.fileName))}\n`);
    }
    return 0;
  } catch (error) {
    io.err(`cascade-avro-codegen: ${messageOf(error)}\n`);
    return 1;
  }
}

/** The entry point of the bin: runs with `process.argv` and sets the exit code. */
export function main(): void {
  process.exitCode = runCodegenCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    cwd: process.cwd(),
  });
}
