import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the "@cascade/source" export condition),
// so tests need no build step and run against the code under edit.
const conditions = ['@cascade/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  // Vitest hands the SSR conditions to its workers as `node --conditions`. They must not name
  // `import`: Node adds `import` or `require` as each load asks, and a forced `import` made
  // CommonJS `require()`s pick ES module builds (pg's `require('pg-pool')` got a module
  // namespace where it extends a class).
  ssr: {
    resolve: {
      conditions: ['@cascade/source', 'node', 'development|production'],
      externalConditions: ['@cascade/source'],
    },
  },
  test: {
    // `.ci/run` gives its second leg (Node 22) a report of its own through CASCADE_VITEST_REPORT.
    reporters: [
      'default',
      ['json', { outputFile: process.env.CASCADE_VITEST_REPORT ?? 'reports/vitest.json' }],
    ],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/failover/**'],
          environment: 'node',
          globalSetup: ['test/setup/cluster.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          // Brokers killed on three-node clusters (each file starts its own): one file at a time,
          // after the other projects, so recovery times are not measured on a machine busy with
          // the rest of the suite.
          name: 'failover',
          include: ['test/failover/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 420_000,
          hookTimeout: 240_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
