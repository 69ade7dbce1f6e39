import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { JavaNotFoundError } from './errors.js';

/** A Java installation found on this machine. */
export interface JavaInstallation {
  /** The `java` executable. */
  readonly executable: string;
  /** The Java home folder (the parent of `bin/`). */
  readonly home: string;
  /** The feature version: 17, 21, 25... */
  readonly version: number;
}

/** Where to look for Java, most preferred first. */
export interface JavaSearch {
  /** Use exactly this Java home, and nothing else. */
  readonly javaHome?: string | undefined;
  /** The environment to read `CASCADE_JAVA_HOME`, `JAVA_HOME` and `PATH` from. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

const systemJvmFolders = [
  '/usr/lib/jvm',
  '/usr/local/lib/jvm',
  '/opt/java',
  '/Library/Java/JavaVirtualMachines',
];

/** Reads the feature version of a Java home from its `release` file (`JAVA_VERSION="21.0.4"`). */
export function readJavaVersion(home: string): number | undefined {
  try {
    const release = readFileSync(join(home, 'release'), 'utf8');
    const match = /^JAVA_VERSION="(\d+)(?:\.(\d+))?/m.exec(release);
    if (!match) return undefined;
    // Java 8 and older report "1.8.0"; they are too old for anything here anyway.
    return match[1] === '1' ? Number(match[2]) : Number(match[1]);
  } catch {
    return undefined;
  }
}

function candidateHomes(search: JavaSearch): string[] {
  if (search.javaHome !== undefined) return [search.javaHome];
  const homes: string[] = [];
  for (const variable of ['CASCADE_JAVA_HOME', 'JAVA_HOME']) {
    const value = search.env[variable];
    if (value) homes.push(value);
  }
  for (const folder of (search.env.PATH ?? '').split(delimiter)) {
    const java = join(folder, 'java');
    if (folder && existsSync(java)) {
      try {
        homes.push(dirname(dirname(realpathSync(java))));
      } catch {
        // A dangling link: not a Java.
      }
    }
  }
  for (const root of systemJvmFolders) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root).sort().reverse();
    } catch {
      continue;
    }
    for (const entry of entries) {
      homes.push(join(root, entry));
      homes.push(join(root, entry, 'Contents', 'Home'));
    }
  }
  return [...new Set(homes)];
}

/**
 * Finds a Java installation of at least `minVersion`, preferring (in order) `javaHome`,
 * `CASCADE_JAVA_HOME`, `JAVA_HOME`, the `java` on `PATH`, then the system JVM folders.
 * @throws {JavaNotFoundError} when none qualifies.
 */
export function findJava(component: string, minVersion: number, search: JavaSearch): JavaInstallation {
  const looked: string[] = [];
  for (const home of candidateHomes(search)) {
    const executable = join(home, 'bin', 'java');
    if (!existsSync(executable)) continue;
    const version = readJavaVersion(home);
    looked.push(version === undefined ? home : `${home} (Java ${version})`);
    if (version !== undefined && version >= minVersion) return { executable, home, version };
  }
  throw new JavaNotFoundError(component, minVersion, looked);
}
