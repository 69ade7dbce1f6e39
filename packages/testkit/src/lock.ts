import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delay, TimeoutError } from '@cascade/core';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryAcquire(lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir);
    await writeFile(join(lockDir, 'pid'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Held: steal it if its owner died (a download killed half-way).
  const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => ''));
  if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
    await rm(lockDir, { recursive: true, force: true });
    return tryAcquire(lockDir);
  }
  return false;
}

/**
 * Runs `action` while holding an inter-process lock (a folder created atomically with `mkdir`),
 * so two test runs starting together download an artifact once. A lock left by a dead process is
 * taken over.
 */
export async function withDirectoryLock<T>(
  lockDir: string,
  timeoutMs: number,
  action: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!(await tryAcquire(lockDir))) {
    if (Date.now() > deadline) throw new TimeoutError(`Waiting for the lock ${lockDir}`, timeoutMs);
    await delay(250);
  }
  try {
    return await action();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
