// No TimeoutNegativeWarning (tulios/kafkajs#1751) reaches stderr from a program that uses
// Cascade, on the Node this runs on (>= 24 prints it for kafkajs without the fix).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { cluster, uniqueName } from '../support/kafka.js';

const run = promisify(execFile);

it("prints no TimeoutNegativeWarning from kafkajs in a producer's whole life", async () => {
  const child = fileURLToPath(new URL('./warning-child.ts', import.meta.url));
  const { stdout, stderr } = await run(
    process.execPath,
    ['--conditions=@cascade/source', '--import', 'tsx', child],
    {
      env: { ...process.env, KAFKA_BROKERS: cluster().brokers.join(','), TOPIC: uniqueName('warnings') },
      timeout: 60_000,
    },
  );
  expect(stdout).toBe('done\n');
  expect(stderr).not.toContain('TimeoutNegativeWarning');
  expect(stderr).toBe('');
});
