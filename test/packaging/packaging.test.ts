// The packages as a user meets them: built, packed into tarballs (scripts/pack.mjs, which runs
// each package's prepack/postpack on a copy and leaves the workspace alone), installed from the
// tarballs into a fresh project outside the workspace (`npm install --offline`: only what the
// npm cache holds after `npm ci`), then type-checked with the workspace's tsc in every module and
// decorator mode, and run with node against the test cluster (test/packaging/fixture).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixture', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const packageDirs = [
  'core',
  'transport',
  'kafkajs',
  'schema',
  'producer',
  'consumer',
  'saga',
  'testkit',
] as const;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of child processes: npm's own `npm_*` variables (set under `npm test`) removed. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    const keep = ['npm_config_cache', 'npm_config_userconfig', 'npm_config_registry'].includes(lower);
    if ((keep || !lower.startsWith('npm_')) && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end (killed after `timeoutMs`), whatever its exit code. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? childEnv(),
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        const killed = error?.killed ? `\n[killed after ${options.timeoutMs} ms]` : '';
        resolvePromise({ code, stdout, stderr: `${stderr}${killed}` });
      },
    );
  });
}

function described(result: Run): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** Runs `tasks` with at most `limit` at a time (the machine has two cores). */
async function pool<T>(limit: number, tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task !== undefined) results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => path.split('\\').join('/'))
    .sort();
}

const readJson = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/**
 * The registry tarball URL of every package in the workspace's lock file that `names` need, with
 * their dependencies: installed by URL, so npm takes them from its cache and needs no metadata.
 */
function tarballUrls(names: readonly string[], registry: string): Record<string, string> {
  const lock = readJson(join(root, 'package-lock.json')).packages as Record<
    string,
    { version?: string; dependencies?: Record<string, string> }
  >;
  const urls: Record<string, string> = {};
  const pending = [...names];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (urls[name] !== undefined) continue;
    const entry = lock[`node_modules/${name}`];
    if (entry?.version === undefined) throw new Error(`${name} is not in the workspace's package-lock.json`);
    urls[name] = `${registry.replace(/\/$/, '')}/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    pending.push(...Object.keys(entry.dependencies ?? {}));
  }
  return urls;
}

interface PackEntry {
  readonly name: string;
  readonly filename: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

let work = '';
let app = '';
let packed: PackEntry[] = [];

beforeAll(async () => {
  const started = Date.now();
  work = mkdtempSync(join(tmpdir(), 'cascade-packaging-'));
  if (!relative(root, work).startsWith('..'))
    throw new Error(`${work} is inside the workspace; set TMPDIR elsewhere`);
  // dist must be fresh: a no-op after `npm ci` (whose prepare script builds), else an incremental build.
  const build = await run(
    process.execPath,
    [tsc, '-b', 'packages/saga/tsconfig.build.json', 'packages/testkit/tsconfig.build.json'],
    { cwd: root, timeoutMs: 150_000 },
  );
  if (build.code !== 0) throw new Error(`tsc -b failed: ${described(build)}`);

  const pack = await run(process.execPath, ['scripts/pack.mjs', '--out', join(work, 'tarballs'), '--json'], {
    cwd: root,
    timeoutMs: 60_000,
  });
  if (pack.code !== 0) throw new Error(`scripts/pack.mjs failed: ${described(pack)}`);
  packed = JSON.parse(pack.stdout) as PackEntry[];

  // A fresh project outside the workspace: nothing resolves from the workspace's node_modules.
  app = join(work, 'app');
  cpSync(fixture, app, { recursive: true });
  const registry = (
    await run('npm', ['config', 'get', 'registry'], { cwd: work, timeoutMs: 30_000 })
  ).stdout.trim();
  const thirdParty = new Set<string>();
  for (const dir of packageDirs) {
    const manifest = readJson(join(root, 'packages', dir, 'package.json'));
    for (const name of Object.keys((manifest.dependencies as Record<string, string> | undefined) ?? {})) {
      if (!name.startsWith('@cascade/')) thirdParty.add(name);
    }
  }
  // No @types/pg: the saga's declarations name no type of pg, and two of the checks turn
  // skipLibCheck off to prove it (a service without PostgreSQL installs neither pg nor its types).
  const devTypes = ['@types/node'];
  const urls = tarballUrls([...thirdParty, ...devTypes], registry || 'https://registry.npmjs.org/');
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify(
      {
        name: 'cascade-packaging-fixture',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(
          packed.map((entry) => [entry.name, `file:${join(work, 'tarballs', entry.filename)}`]),
        ),
        devDependencies: Object.fromEntries(devTypes.map((name) => [name, urls[name]])),
        // Pinned to the versions the workspace tested, as tarballs the npm cache holds.
        overrides: Object.fromEntries(Object.entries(urls).filter(([name]) => !devTypes.includes(name))),
      },
      null,
      2,
    )}\n`,
  );
  const install = await run(
    'npm',
    ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier'],
    { cwd: app, timeoutMs: 120_000 },
  );
  if (install.code !== 0) throw new Error(`npm install of the tarballs failed: ${described(install)}`);
  process.stderr.write(`[packaging] built, packed and installed in ${Date.now() - started} ms (${work})\n`);
});

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the published packages', () => {
  it('hold LICENSE, README, the built code and its sources, without tests, .tsbuildinfo or the source condition', () => {
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(packed.map((entry) => entry.name).sort()).toEqual(
      packageDirs.map((dir) => `@cascade/${dir}`).sort(),
    );
    for (const entry of packed) {
      const paths = entry.files.map((file) => file.path).sort();
      const installed = join(app, 'node_modules', entry.name);
      // What npm installed is what it packed.
      expect(files(installed), entry.name).toEqual(paths);
      expect(paths, entry.name).toEqual(
        expect.arrayContaining([
          'LICENSE',
          'README.md',
          'package.json',
          'dist/index.js',
          'dist/index.d.ts',
          'src/index.ts',
        ]),
      );
      expect(
        paths.filter((path) => /\.test\.|\.test-d\.|tsbuildinfo|(^|\/)package\.workspace\.json$/.test(path)),
        entry.name,
      ).toEqual([]);
      expect(
        paths.filter(
          (path) =>
            !/^(dist|src|bin|scripts)\//.test(path) &&
            !['LICENSE', 'README.md', 'package.json'].includes(path),
        ),
        entry.name,
      ).toEqual([]);
      // No output left over from a source that is gone.
      const orphans = paths
        .filter((path) => path.startsWith('dist/') && path.endsWith('.js'))
        .filter((path) => !paths.includes(`src/${path.slice('dist/'.length, -'.js'.length)}.ts`));
      expect(orphans, entry.name).toEqual([]);
      // The source maps and declaration maps point at sources in the package (why src/ is published).
      for (const map of paths.filter((path) => path.endsWith('.map'))) {
        const { sources } = readJson(join(installed, map)) as { sources: string[] };
        for (const source of sources) {
          expect(paths, `${entry.name}/${map}`).toContain(
            relative(installed, resolve(installed, dirname(map), source)),
          );
        }
      }
      expect(readFileSync(join(installed, 'LICENSE'), 'utf8'), entry.name).toBe(license);

      const manifestText = readFileSync(join(installed, 'package.json'), 'utf8');
      expect(manifestText, entry.name).not.toContain('@cascade/source');
      const manifest = JSON.parse(manifestText) as Record<string, unknown>;
      const dir = entry.name.slice('@cascade/'.length);
      expect(manifest, entry.name).toMatchObject({
        license: 'Apache-2.0',
        type: 'module',
        main: './dist/index.js',
        types: './dist/index.d.ts',
        exports: {
          '.': { types: './dist/index.d.ts', default: './dist/index.js' },
          './package.json': './package.json',
        },
        repository: {
          type: 'git',
          url: 'git+https://github.com/cascade-kafka/cascade.git',
          directory: `packages/${dir}`,
        },
        bugs: { url: 'https://github.com/cascade-kafka/cascade/issues' },
        homepage: `https://github.com/cascade-kafka/cascade/blob/main/docs/${dir}.md`,
        publishConfig: { access: 'public' },
      });
      expect(manifest.scripts, entry.name).toBeUndefined();
      expect((manifest.keywords as string[]).length, entry.name).toBeGreaterThan(2);
      // The workspace's manifest keeps the condition its tests resolve through.
      expect(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).toContain('@cascade/source');

      // Every package the built code imports is declared.
      const declared = new Set([
        ...Object.keys((manifest.dependencies as Record<string, string> | undefined) ?? {}),
        ...Object.keys((manifest.peerDependencies as Record<string, string> | undefined) ?? {}),
      ]);
      const imported = new Set<string>();
      for (const path of paths.filter((p) => p.endsWith('.js') || p.endsWith('.mjs'))) {
        // Static imports, import() and require() calls; comments and strings are not read.
        const { importedFiles } = ts.preProcessFile(readFileSync(join(installed, path), 'utf8'), true, true);
        for (const { fileName: specifier } of importedFiles) {
          if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
          const name = specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
          if (!builtinModules.includes(name)) imported.add(name);
        }
      }
      expect(
        [...imported].filter((name) => !declared.has(name)),
        `${entry.name} imports undeclared packages`,
      ).toEqual([]);
    }
  });

  it('make testcontainers an optional peer of the testkit, which npm does not install', () => {
    const manifest = readJson(join(app, 'node_modules', '@cascade', 'testkit', 'package.json'));
    expect(manifest.dependencies).not.toHaveProperty('testcontainers');
    expect(manifest.peerDependencies).toEqual({ testcontainers: '^11.9.0' });
    expect(manifest.peerDependenciesMeta).toEqual({ testcontainers: { optional: true } });
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('testcontainers');
    // The workspace keeps it, so the Docker path stays testable here.
    expect(readJson(join(root, 'packages', 'testkit', 'package.json')).devDependencies).toEqual({
      testcontainers: '^11.9.0',
    });
  });

  it('type-check a service in nodenext, bundler, commonjs and node10 projects, with standard and experimental decorators', async () => {
    // skipLibCheck is on (tsc --init's default), and off for nodenext and commonjs with standard
    // decorators: the packages' declarations themselves must check under a strict consumer's flags.
    const variants = ['nodenext', 'bundler', 'commonjs', 'node10'].flatMap((mode) =>
      [false, true].map((experimental) => ({
        mode,
        experimental,
        libCheck: !experimental && (mode === 'nodenext' || mode === 'commonjs'),
      })),
    );
    const results = await pool(
      2,
      variants.map(({ mode, experimental, libCheck }) => async () => {
        const name = `${mode}${experimental ? ' + experimentalDecorators' : ''}${libCheck ? ' + lib check' : ''}`;
        const args = [
          tsc,
          '-p',
          `tsconfig.${mode}.json`,
          '--noEmit',
          '--experimentalDecorators',
          String(experimental),
        ];
        if (libCheck) args.push('--skipLibCheck', 'false');
        return [name, await run(process.execPath, args, { cwd: app, timeoutMs: 60_000 })] as const;
      }),
    );
    const failures = results.filter(([, result]) => result.code !== 0 || result.stdout !== '');
    expect(failures.map(([variant, result]) => `${variant}: ${described(result)}`)).toEqual([]);
  });

  it('type-check the decorated service with TypeScript 5.9 and 7.0 too, in both decorator modes', async () => {
    // The workspace's TypeScript (6.x) checks every mode above; the oldest and newest lines a
    // service may use check nodenext with standard decorators and with experimentalDecorators.
    const versions = [
      ['typescript5', '5.9'],
      ['typescript7', '7.0'],
    ] as const;
    const results = await pool(
      2,
      versions.flatMap(([dir, version]) =>
        [false, true].map((experimental) => async () => {
          const bin = join(root, 'node_modules', dir, 'bin', 'tsc');
          const args = [
            bin,
            '-p',
            'tsconfig.nodenext.json',
            '--noEmit',
            '--experimentalDecorators',
            String(experimental),
          ];
          const name = `TypeScript ${version}${experimental ? ' + experimentalDecorators' : ''}`;
          return [name, await run(process.execPath, args, { cwd: app, timeoutMs: 120_000 })] as const;
        }),
      ),
    );
    const versionsSeen = await Promise.all(
      versions.map(async ([dir]) =>
        (
          await run(process.execPath, [join(root, 'node_modules', dir, 'bin', 'tsc'), '--version'], {
            cwd: app,
            timeoutMs: 30_000,
          })
        ).stdout.trim(),
      ),
    );
    expect(versionsSeen.map((v) => v.replace(/^Version (\d+\.\d+).*$/, '$1'))).toEqual(['5.9', '7.0']);
    const failures = results.filter(([, result]) => result.code !== 0 || result.stdout !== '');
    expect(failures.map(([variant, result]) => `${variant}: ${described(result)}`)).toEqual([]);
  });

  it('run the service against the cluster as an ES module and compiled to CommonJS', async () => {
    // ES module: nodenext, standard decorators. CommonJS: module commonjs, experimentalDecorators,
    // each @cascade package loaded with require() (require(esm), Node >= 22.12).
    const [esm, cjs] = await Promise.all([
      run(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], { cwd: app, timeoutMs: 60_000 }),
      run(process.execPath, [tsc, '-p', 'tsconfig.commonjs.json', '--experimentalDecorators'], {
        cwd: app,
        timeoutMs: 60_000,
      }),
    ]);
    expect(esm, described(esm)).toMatchObject({ code: 0, stdout: '' });
    expect(cjs, described(cjs)).toMatchObject({ code: 0, stdout: '' });
    writeFileSync(join(app, 'dist-cjs', 'package.json'), '{ "type": "commonjs" }\n');
    expect(readFileSync(join(app, 'dist-cjs', 'service.js'), 'utf8')).toContain(
      'require("@cascade/consumer")',
    );

    const { brokers, registryUrl } = cluster();
    const runs = await Promise.all(
      (['dist-esm', 'dist-cjs'] as const).map(async (dir) => {
        const prefix = uniqueName(`packaging-${dir}`);
        const result = await run(process.execPath, [join(dir, 'main.js')], {
          cwd: app,
          env: childEnv({
            KAFKA_BROKERS: brokers.join(','),
            SCHEMA_REGISTRY_URL: registryUrl,
            PREFIX: prefix,
          }),
          timeoutMs: 90_000,
        });
        return { dir, prefix, result };
      }),
    );
    for (const { dir, prefix, result } of runs) {
      expect(result.code, `${dir}: ${described(result)}`).toBe(0);
      const { service, testkit } = JSON.parse(result.stdout) as {
        service: {
          handlerGroups: string[];
          produced: Array<{ orderId: string }>;
          handled: Array<{ orderId: string }>;
          failedAttempts: number[];
          deadLetters: unknown[];
          sagas: unknown;
          inventory: { reserved: string[]; released: string[] };
        };
        testkit: Record<string, unknown>;
      };
      const placedAt = '2026-01-02T03:04:05.678Z';
      expect(service.handlerGroups, dir).toEqual([`${prefix}.billing`]);
      expect(
        service.produced.map((record) => record.orderId),
        dir,
      ).toEqual(['o-1', 'o-2', 'o-3']);
      // The Avro records read back, bigints and timestamps exact.
      expect(
        [...service.handled].sort((a, b) => a.orderId.localeCompare(b.orderId)),
        dir,
      ).toEqual([
        { orderId: 'o-1', placedAt, quantity: '2' },
        { orderId: 'o-3', placedAt, quantity: '9007199254740993' },
      ]);
      // Retried in place three times, then dead-lettered with the original record.
      expect(service.failedAttempts, dir).toEqual([1, 2, 3]);
      expect(service.deadLetters, dir).toEqual([
        {
          orderId: 'o-2',
          quantity: '0',
          attempts: '3',
          errorClass: 'Error',
          errorMessage: 'order o-2 has no items',
          originalTopic: `${prefix}.orders`,
        },
      ]);
      // The local step refused one saga: its reservation was compensated.
      expect(service.sagas, dir).toEqual({
        's-ok': { outcome: 'completed' },
        's-declined': { outcome: 'compensated', failureType: 'CardDeclined' },
      });
      expect([...service.inventory.reserved].sort(), dir).toEqual(['s-declined:s-declined', 's-ok:s-ok']);
      expect(service.inventory.released, dir).toEqual(['s-declined:s-declined']);
      // The testkit loads without testcontainers; the Docker path says what to install.
      expect(testkit, dir).toMatchObject({
        started: false,
        typed: true,
        code: 'CASCADE_TESTKIT_TESTCONTAINERS_MISSING',
        expectedCode: 'CASCADE_TESTKIT_TESTCONTAINERS_MISSING',
        retriable: false,
      });
      expect(testkit.message, dir).toContain('npm install --save-dev testcontainers');
    }

    // A CommonJS file of the ES-module project (.cts under nodenext) requires every package.
    const required = await run(
      process.execPath,
      ['-p', "JSON.stringify(require('./dist-esm/require-esm.cjs').loaded)"],
      { cwd: app, timeoutMs: 30_000 },
    );
    expect(required.code, described(required)).toBe(0);
    expect(JSON.parse(required.stdout)).toEqual({
      core: 'function',
      transport: 'function',
      kafkajs: 'object',
      schema: 'function',
      producer: 'function',
      consumer: 'function',
      saga: 'function',
      testkit: 'function',
    });
  });

  it("leave standard decorators in place with tsc --init's target esnext, which Node cannot run; ES2023 lowers them", async () => {
    const source = readFileSync(join(app, 'src', 'service.ts'), 'utf8');
    const emitted = async (target: ts.ScriptTarget, name: string): Promise<{ text: string; check: Run }> => {
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { target, module: ts.ModuleKind.ESNext, experimentalDecorators: false },
        fileName: 'service.ts',
      });
      const file = join(app, `${name}.mjs`);
      writeFileSync(file, outputText);
      return {
        text: outputText,
        check: await run(process.execPath, ['--check', file], { cwd: app, timeoutMs: 30_000 }),
      };
    };
    const esnext = await emitted(ts.ScriptTarget.ESNext, 'service-esnext');
    expect(esnext.text).toMatch(/^\s*@Handler\(\{ groupId \}\)$/m);
    expect(esnext.check.code).not.toBe(0);
    expect(esnext.check.stderr).toContain('SyntaxError: Invalid or unexpected token');
    const es2023 = await emitted(ts.ScriptTarget.ES2023, 'service-es2023');
    expect(es2023.text).not.toMatch(/^\s*@Handler/m);
    expect(es2023.check.code, described(es2023.check)).toBe(0);
  });
});
