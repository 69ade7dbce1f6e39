#!/usr/bin/env node
// The public API of every published package, as API Extractor reports it (api/<package>.api.md).
// The reports are committed: a change to a package's public surface shows up as a diff of its
// report, to be reviewed with the change.
//
//   node scripts/api-report.mjs            check: fail when a report differs from the built API
//                                          (`npm test` runs it after building)
//   node scripts/api-report.mjs --update   write the reports anew
//
// Reads each package's built declarations (dist/index.d.ts, and dist/internal.d.ts for a package
// that exports `./internal`): build first (`npm run build`).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const update = process.argv.includes('--update');
const reportFolder = join(root, 'api');
mkdirSync(reportFolder, { recursive: true });

/** Published packages (not private) and the entry points their `exports` name. */
function entryPoints() {
  const out = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const manifestPath = join(root, 'packages', dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private === true) continue;
    for (const subpath of Object.keys(manifest.exports ?? {})) {
      if (subpath === './package.json') continue;
      const name = subpath === '.' ? 'index' : subpath.slice(2);
      out.push({
        dir,
        packageName: manifest.name,
        entry: join(root, 'packages', dir, 'dist', `${name}.d.ts`),
        report: subpath === '.' ? `${dir}.api.md` : `${dir}-${name}.api.md`,
      });
    }
  }
  return out;
}

let failed = 0;
for (const { dir, packageName, entry, report } of entryPoints()) {
  if (!existsSync(entry)) {
    process.stderr.write(`${entry} is missing: build first (npm run build).\n`);
    failed++;
    continue;
  }
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: join(root, 'packages', dir),
      mainEntryPointFilePath: entry,
      compiler: { tsconfigFilePath: join(root, 'packages', dir, 'tsconfig.build.json') },
      apiReport: {
        enabled: true,
        reportFolder,
        reportTempFolder: join(root, 'reports', 'api'),
        reportFileName: report.replace(/\.api\.md$/, ''),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'none' },
          // A public signature naming a type the entry point does not export.
          'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
    configObjectFullPath: join(root, 'packages', dir, 'api-extractor.json'),
    packageJsonFullPath: join(root, 'packages', dir, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false });
  if (!result.succeeded || (!update && result.apiReportChanged)) {
    failed++;
    process.stderr.write(
      `${packageName}: its public API differs from api/${report}. Review the change and run \`npm run api:update\` to record it.\n`,
    );
  } else {
    process.stdout.write(
      `${packageName}: api/${report} ${update && result.apiReportChanged ? 'updated' : 'up to date'}\n`,
    );
  }
}
process.exit(failed === 0 ? 0 : 1);
