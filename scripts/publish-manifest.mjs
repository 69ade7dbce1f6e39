#!/usr/bin/env node
// The prepack and postpack scripts of every published package (npm runs both in the package's
// folder, around `npm pack` and `npm publish`):
//
//   prepack   keeps the workspace's package.json in package.workspace.json and writes the
//             published one: without the `@cascade/source` export condition (it points at
//             src/*.ts for the workspace's own tests and type check) and without these two
//             scripts. Checks that the package's LICENSE is the repository's.
//   postpack  puts the workspace's package.json back, byte for byte.
//   restore   the same, by hand, after a pack that was interrupted between the two.
//
// A prepack that finds a package.workspace.json left by an interrupted pack restores it first,
// so a pack never publishes a half-edited manifest and the workspace heals on the next pack.
// `node scripts/pack.mjs` packs every package from a copy, leaving the workspace untouched.
//
// Publish the tarballs (`npm publish <file>.tgz`): `npm publish` from a package folder reads
// package.json again after postpack and sends that (the workspace's, with the condition) to the
// registry as the version's metadata; the tarball itself would be right. Deferring the restore
// to postpublish does not work: npm runs postpublish from the manifest it read again, the
// published one, which has no pack scripts.
//
// Usage: node ../../scripts/publish-manifest.mjs prepack|postpack|restore [packageDir]
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The export condition that resolves workspace packages to their TypeScript sources. */
export const sourceCondition = '@cascade/source';
/** Where prepack keeps the workspace's package.json until postpack. */
export const backupName = 'package.workspace.json';
const ownScripts = ['prepack', 'postpack'];

/** `exports` without the source condition, at any depth. */
export function stripSourceCondition(exports) {
  if (Array.isArray(exports)) return exports.map(stripSourceCondition);
  if (exports === null || typeof exports !== 'object') return exports;
  const out = {};
  for (const [key, value] of Object.entries(exports)) {
    if (key !== sourceCondition) out[key] = stripSourceCondition(value);
  }
  return out;
}

/** The package.json to publish, from the workspace's. */
export function publishManifest(manifest) {
  const out = { ...manifest };
  if (out.exports !== undefined) out.exports = stripSourceCondition(out.exports);
  if (out.scripts !== undefined) {
    const scripts = Object.fromEntries(
      Object.entries(out.scripts).filter(([name]) => !ownScripts.includes(name)),
    );
    if (Object.keys(scripts).length > 0) out.scripts = scripts;
    else delete out.scripts;
  }
  return out;
}

function restore(dir) {
  const backup = join(dir, backupName);
  if (!existsSync(backup)) return false;
  renameSync(backup, join(dir, 'package.json'));
  return true;
}

function checkLicense(dir) {
  const own = join(dir, 'LICENSE');
  if (!existsSync(own)) throw new Error(`${dir} has no LICENSE file: copy the repository's LICENSE into it.`);
  const root = resolve(dir, '..', '..', 'LICENSE');
  if (existsSync(root) && readFileSync(root, 'utf8') !== readFileSync(own, 'utf8')) {
    throw new Error(`${own} differs from ${root}: copy the repository's LICENSE into the package.`);
  }
}

function prepack(dir) {
  if (restore(dir)) {
    process.stderr.write(
      `publish-manifest: restored ${join(dir, 'package.json')} left by an interrupted pack\n`,
    );
  }
  checkLicense(dir);
  const path = join(dir, 'package.json');
  const text = readFileSync(path, 'utf8');
  const published = `${JSON.stringify(publishManifest(JSON.parse(text)), null, 2)}\n`;
  if (published === text) return; // already the published shape (a package unpacked from a tarball)
  writeFileSync(join(dir, backupName), text);
  writeFileSync(path, published);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, dirArgument] = process.argv.slice(2);
  const dir = resolve(dirArgument ?? process.cwd());
  if (command === 'prepack') prepack(dir);
  else if (command === 'postpack' || command === 'restore') restore(dir);
  else {
    process.stderr.write(
      `usage: node ${dirname(process.argv[1])}/publish-manifest.mjs prepack|postpack|restore [dir]\n`,
    );
    process.exitCode = 2;
  }
}
