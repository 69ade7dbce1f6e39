import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JavaNotFoundError } from './errors.js';
import { findJava, readJavaVersion } from './java.js';

const root = mkdtempSync(join(tmpdir(), 'cascade-java-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeJavaHome(name: string, version: string | undefined): string {
  const home = join(root, name);
  mkdirSync(join(home, 'bin'), { recursive: true });
  writeFileSync(join(home, 'bin', 'java'), '#!/bin/sh\n', { mode: 0o755 });
  if (version !== undefined)
    writeFileSync(join(home, 'release'), `IMPLEMENTOR="Test"\nJAVA_VERSION="${version}"\n`);
  return home;
}

describe('Java discovery', () => {
  it('reads feature versions from release files, old style included', () => {
    expect(readJavaVersion(fakeJavaHome('jdk17', '17.0.15'))).toBe(17);
    expect(readJavaVersion(fakeJavaHome('jdk25', '25'))).toBe(25);
    expect(readJavaVersion(fakeJavaHome('jdk8', '1.8.0_412'))).toBe(8);
    expect(readJavaVersion(fakeJavaHome('broken', undefined))).toBeUndefined();
  });

  it('prefers CASCADE_JAVA_HOME, then JAVA_HOME, skipping homes that are too old', () => {
    const old = fakeJavaHome('old', '17.0.1');
    const recent = fakeJavaHome('recent', '21.0.4');
    const env = { CASCADE_JAVA_HOME: old, JAVA_HOME: recent, PATH: '' };
    expect(findJava('Kafka', 17, { env }).home).toBe(old);
    expect(findJava('Apicurio', 21, { env })).toEqual({
      home: recent,
      executable: join(recent, 'bin', 'java'),
      version: 21,
    });
  });

  it('uses exactly the Java home it is given and says what it found when it is too old', () => {
    const old = fakeJavaHome('only', '17.0.2');
    try {
      findJava('Apicurio Registry 3.3.3', 21, { javaHome: old, env: {} });
      expect.unreachable('accepted Java 17 for a Java 21 component');
    } catch (error) {
      expect(error).toBeInstanceOf(JavaNotFoundError);
      expect((error as JavaNotFoundError).code).toBe('CASCADE_TESTKIT_JAVA_NOT_FOUND');
      expect((error as JavaNotFoundError).requiredVersion).toBe(21);
      expect((error as Error).message).toContain(`${old} (Java 17)`);
      expect((error as Error).message).toContain('Apicurio Registry 3.3.3 needs Java 21 or newer');
    }
  });
});
