// The testkit's watchdog: a tiny detached process that outlives the test process only long
// enough to clean up after it. If the process that started the cluster dies (even by SIGKILL,
// when no exit handler runs), the watchdog kills the JVM process groups it was told about and
// removes the data folders. A clean stop() kills the watchdog itself after cleaning up.
//
// Usage: node watchdog.mjs <parentPid> <stateFile>
// The state file is JSON: { "groups": [pgid, ...], "dirs": ["/tmp/...", ...] }, rewritten by the
// testkit whenever it starts a process or creates a folder.
import { readFileSync, rmSync } from 'node:fs';

const parentPid = Number(process.argv[2]);
const stateFile = process.argv[3];

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function readState() {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return { groups: [], dirs: [] };
  }
}

function cleanUp() {
  const state = readState();
  for (const group of state.groups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of state.dirs) rmSync(dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

const timer = setInterval(() => {
  if (!alive(parentPid)) {
    clearInterval(timer);
    cleanUp();
    process.exit(0);
  }
}, 300);
