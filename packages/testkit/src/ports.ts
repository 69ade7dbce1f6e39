import { createServer } from 'node:net';
import { PortInUseError } from './errors.js';

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago, chosen by the kernel. */
export function freePort(): Promise<number> {
  return listenOnce(0);
}

/**
 * Returns `port` if it is free on 127.0.0.1, a kernel-chosen free port if `port` is undefined.
 * @throws {PortInUseError} when an explicitly requested port is taken.
 */
export async function claimPort(what: string, port: number | undefined): Promise<number> {
  if (port === undefined) return freePort();
  try {
    return await listenOnce(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError(what, port, { cause: error });
    throw error;
  }
}

/**
 * Claims several ports at once, each distinct: `[what, wanted, port]` entries; an entry that is
 * not wanted yields 0.
 */
export async function claimPorts(
  entries: ReadonlyArray<readonly [what: string, wanted: boolean, port: number | undefined]>,
): Promise<number[]> {
  const taken = new Set<number>();
  const result: number[] = [];
  for (const [what, wanted, port] of entries) {
    let claimed = wanted ? await claimPort(what, port) : 0;
    while (wanted && port === undefined && taken.has(claimed)) claimed = await freePort();
    if (wanted && taken.has(claimed)) throw new PortInUseError(what, claimed);
    taken.add(claimed);
    result.push(claimed);
  }
  return result;
}
