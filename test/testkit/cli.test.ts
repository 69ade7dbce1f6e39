// `cascade-dev up` stops its cluster when the process that started it ends, even when that
// process (npx, a shell) is killed without passing the signal on.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fetchMetadata } from '@cascade/testkit';
import { expect, it } from 'vitest';
import { waitFor } from '../support/kafka.js';

const fixture = fileURLToPath(new URL('./fixtures/cli-parent.ts', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function answers(bootstrap: string): Promise<boolean> {
  const [host = '', port = ''] = bootstrap.split(':');
  return fetchMetadata(host, Number(port), 1_000).then(
    () => true,
    () => false,
  );
}

it('stops the cluster and exits when its parent process is killed with SIGTERM', async () => {
  const parent = spawn(process.execPath, ['--import', 'tsx', '--conditions=@cascade/source', fixture], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  parent.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  let child = 0;
  let bootstrap = '';
  try {
    const lines = createInterface({ input: parent.stdout });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith('{')) child = (JSON.parse(line) as { child: number }).child;
        const brokers = /^KAFKA_BROKERS=(.+)$/.exec(line)?.[1];
        if (brokers !== undefined) {
          bootstrap = brokers.split(',')[0] ?? '';
          resolve();
        }
      });
      parent.once('exit', (code) => reject(new Error(`the parent exited with ${code}: ${stderr.join('')}`)));
    });
    expect(await answers(bootstrap)).toBe(true);
    parent.kill('SIGTERM');
    await waitFor(
      () => !alive(child),
      () => `cascade-dev (pid ${child}) to exit after its parent was killed`,
      30_000,
    );
    expect(await answers(bootstrap)).toBe(false);
  } finally {
    parent.kill('SIGKILL');
    if (child !== 0 && alive(child)) process.kill(child, 'SIGKILL');
  }
}, 120_000);
