#!/usr/bin/env node
// Packs every published package (packages/*) into tarballs, from a copy: the workspace's files
// are never touched, so tests and type checks running meanwhile keep resolving the
// `@cascade/source` condition. Each copy is packed by `npm pack` with the package's own
// prepack/postpack (scripts/publish-manifest.mjs), so a tarball is what `npm pack -w
// packages/<name>` or `npm publish -w packages/<name>` would make. Build first (`npm run build`).
//
// Usage: node scripts/pack.mjs [--out <dir>] [--json]
//   --out   where the tarballs go (default: ./tarballs); publish them with `npm publish <tarball>`
//   --json  print npm's pack report (one entry per package, with its files) instead of the names
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The folders under packages/ that hold a published (non-private) package. */
export function publishedPackageDirs() {
  return readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'package.json')))
    .map((entry) => entry.name)
    .filter(
      (name) =>
        JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).private !== true,
    )
    .sort();
}

/**
 * Copies each package (its package.json, README, LICENSE and the top-level entries its `files`
 * names) under `<staging>/packages/<name>`, with scripts/publish-manifest.mjs and the LICENSE at
 * the places its prepack looks for them, then runs one `npm pack` over the copies.
 * @returns npm's `--json` report, one entry per package, and where the tarballs are.
 */
export async function packAll(outDir) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const staging = mkdtempSync(join(tmpdir(), 'cascade-pack-'));
  try {
    mkdirSync(join(staging, 'scripts'));
    cpSync(join(root, 'scripts', 'publish-manifest.mjs'), join(staging, 'scripts', 'publish-manifest.mjs'));
    cpSync(join(root, 'LICENSE'), join(staging, 'LICENSE'));
    const dirs = publishedPackageDirs();
    const manifests = new Map();
    for (const name of dirs) {
      const from = join(root, 'packages', name);
      const to = join(staging, 'packages', name);
      mkdirSync(to, { recursive: true });
      const manifestText = readFileSync(join(from, 'package.json'), 'utf8');
      manifests.set(name, manifestText);
      const entries = new Set(['package.json', 'README.md', 'LICENSE']);
      for (const pattern of JSON.parse(manifestText).files ?? []) {
        if (!pattern.startsWith('!')) entries.add(pattern.split('/')[0]);
      }
      for (const entry of entries) {
        if (existsSync(join(from, entry))) cpSync(join(from, entry), join(to, entry), { recursive: true });
      }
    }
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--json', '--pack-destination', out, ...dirs.map((name) => `./packages/${name}`)],
      { cwd: staging, maxBuffer: 64 * 1024 * 1024 },
    );
    // postpack must have put each copy's manifest back: otherwise `npm publish` from a folder
    // would leave the workspace without its source condition.
    for (const [name, text] of manifests) {
      if (readFileSync(join(staging, 'packages', name, 'package.json'), 'utf8') !== text) {
        throw new Error(`postpack did not restore packages/${name}/package.json`);
      }
    }
    return { report: JSON.parse(stdout), outDir: out };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? args[outIndex + 1] : 'tarballs';
  if (outDir === undefined) throw new Error('--out needs a folder');
  const { report, outDir: out } = await packAll(outDir);
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else for (const entry of report) process.stdout.write(`${join(out, entry.filename)}\n`);
}
