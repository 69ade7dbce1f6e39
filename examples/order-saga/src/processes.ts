/**
 * The services as child processes: started from the compiled `dist/` (the demo) or from the
 * TypeScript sources through tsx (tests), each with its config in the environment and its
 * stderr in a log file; stopped gracefully, killed with SIGKILL, or restarted.
 * @module
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { configVariable, type ServiceConfig } from './config.js';
import { exitWithParentVariable } from './service.js';

/** The three services. */
export type ServiceName = 'order' | 'inventory' | 'payment';

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');

/** One service's process, restartable. */
export class ServiceProcess {
  #child: ChildProcess | undefined;
  readonly #log: WriteStream;
  /** How many times the process was started. */
  starts = 0;

  constructor(
    readonly name: ServiceName,
    readonly config: ServiceConfig,
    readonly logFile: string,
  ) {
    this.#log = createWriteStream(logFile, { flags: 'a' });
  }

  /** Starts the process and resolves when it says `ready` (rejects if it exits first). */
  async start(timeoutMs = 60_000): Promise<void> {
    const main = join(here, this.name, fromSource ? 'main.ts' : 'main.js');
    const args = fromSource ? ['--import', 'tsx', '--conditions=@cascade/source', main] : [main];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, [configVariable]: JSON.stringify(this.config), [exitWithParentVariable]: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.starts++;
    this.#log.write(
      `--- start ${this.starts} of ${this.name} (pid ${child.pid}) at ${new Date().toISOString()}\n`,
    );
    child.stderr?.pipe(this.#log, { end: false });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name} did not start within ${timeoutMs} ms (see ${this.logFile})`));
      }, timeoutMs);
      lines.on('line', (line) => {
        if (line.trim() !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${signal ?? code}) while starting (see ${this.logFile})`));
      });
    });
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined;
  }

  /** `kill -9`, and waits until it is gone. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** SIGTERM (the service drains and exits), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await this.#signal('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills (SIGKILL) and starts again. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** How many log lines of each `<message> <step>` the service wrote with `message` in `messages`. */
  countLogLines(messages: ReadonlySet<string>): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const { message, step } = JSON.parse(line) as { message?: string; step?: string };
        if (message === undefined || !messages.has(message)) continue;
        const key = `${message} ${step ?? ''}`.trim();
        counts[key] = (counts[key] ?? 0) + 1;
      } catch {
        // a partial line of a killed process
      }
    }
    return counts;
  }

  /** Closes the log file (after the process is gone). */
  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.#log.end(resolve));
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}
