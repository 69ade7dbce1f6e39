import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { delay, type Logger } from '@cascade/core';
import { tail } from './artifacts.js';

const watchdogScript = fileURLToPath(new URL('../scripts/watchdog.mjs', import.meta.url));

/** How a supervised process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A long-running child process (a JVM) in its own process group, logging to a file. */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;

  constructor(name: string, child: ChildProcess, logFile: string) {
    this.name = name;
    this.#child = child;
    this.logFile = logFile;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  /** The process id (and process group id). */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** How the process ended, or `undefined` while it runs. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /** Resolves when the process has exited. */
  get exited(): Promise<ProcessExit> {
    return this.#exited;
  }

  /** The last lines of the process's log. */
  logTail(lines = 30): string {
    try {
      return tail(readFileSync(this.logFile, 'utf8'), lines);
    } catch {
      return '(no log written)';
    }
  }

  /**
   * Stops the whole process group: SIGTERM, then SIGKILL if it is still running after `graceMs`.
   * Resolves once it has exited.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#exit) return;
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    await this.#awaitExit();
    clearTimeout(timer);
  }

  /** Kills the process group at once, like a crash. */
  async kill(): Promise<void> {
    if (this.#exit) return;
    this.#signal('SIGKILL');
    await this.#awaitExit();
  }

  /** Waits for the exit; the child is unref'd, so hold the event loop open meanwhile. */
  async #awaitExit(): Promise<void> {
    this.#child.ref();
    try {
      await this.#exited;
    } finally {
      this.#child.unref();
    }
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

/**
 * Owns the processes and folders of one cluster. A detached watchdog process removes them if this
 * process dies without calling {@link Supervisor.dispose} (SIGKILL, a crash).
 */
export class Supervisor {
  /** A private folder for this cluster's data and logs; removed on dispose. */
  readonly runDir: string;
  readonly #logger: Logger;
  readonly #stateFile: string;
  readonly #watchdog: ChildProcess;
  readonly #groups = new Set<number>();
  readonly #dirs = new Set<string>();

  private constructor(runDir: string, logger: Logger) {
    this.runDir = runDir;
    this.#logger = logger;
    this.#stateFile = `${runDir}.watchdog.json`;
    this.#dirs.add(runDir);
    this.#writeState();
    this.#watchdog = spawn(process.execPath, [watchdogScript, String(process.pid), this.#stateFile], {
      detached: true,
      stdio: 'ignore',
    });
    this.#watchdog.unref();
  }

  /** Creates a supervisor with a fresh run folder under the OS temp folder. */
  static async create(logger: Logger): Promise<Supervisor> {
    return new Supervisor(await mkdtemp(join(tmpdir(), 'cascade-cluster-')), logger);
  }

  /**
   * Starts `command` in its own process group with stdout and stderr going to `logFile`.
   * The process does not keep this Node process alive.
   */
  spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
  ): ManagedProcess {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      child.unref();
      if (child.pid === undefined) throw new Error(`Could not start ${command}`);
      this.#groups.add(child.pid);
      this.#writeState();
      const managed = new ManagedProcess(name, child, options.logFile);
      void managed.exited.then(() => {
        this.#groups.delete(child.pid ?? -1);
        this.#writeState();
      });
      this.#logger.debug('Started process', { name, pid: child.pid });
      return managed;
    } finally {
      closeSync(fd);
    }
  }

  /** Stops the watchdog and removes the run folder. Call after stopping every process. */
  async dispose(): Promise<void> {
    for (const group of this.#groups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await rm(this.runDir, { recursive: true, force: true });
    await rm(this.#stateFile, { force: true });
    this.#watchdog.kill('SIGTERM');
  }

  #writeState(): void {
    writeFileSync(this.#stateFile, JSON.stringify({ groups: [...this.#groups], dirs: [...this.#dirs] }));
  }
}

/**
 * Polls `probe` until it returns true, the process exits, or `timeoutMs` passes.
 * @returns `'ready'`, `'exited'` or `'timeout'`.
 */
export async function waitUntilReady(
  process: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.exit) return 'exited';
    if (await probe().catch(() => false)) return 'ready';
    if (process.exit) return 'exited';
    await delay(intervalMs);
  }
  return 'timeout';
}
