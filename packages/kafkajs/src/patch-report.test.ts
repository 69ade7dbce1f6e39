import type { Logger } from '@cascade/core';
import { afterEach, describe, expect, it } from 'vitest';
import { reportDeclinedPatch, resetDeclinedPatchReports } from './patch-report.js';

function recorder(): { logger: Logger; lines: Array<[string, string, unknown]> } {
  const lines: Array<[string, string, unknown]> = [];
  const logger: Logger = {
    debug: (m, meta) => void lines.push(['debug', m, meta]),
    info: (m, meta) => void lines.push(['info', m, meta]),
    warn: (m, meta) => void lines.push(['warn', m, meta]),
    error: (m, meta) => void lines.push(['error', m, meta]),
    child: () => logger,
  };
  return { logger, lines };
}

describe('reportDeclinedPatch', () => {
  afterEach(() => resetDeclinedPatchReports());

  it('warns once per process, naming the patch and what is lost, and says nothing for an applied patch', () => {
    const { logger, lines } = recorder();
    reportDeclinedPatch(logger, 'produce-tracing', true, 'duplicates');
    expect(lines).toEqual([]);
    reportDeclinedPatch(logger, 'produce-tracing', false, 'a stored batch may be sent again.');
    reportDeclinedPatch(logger, 'produce-tracing', false, 'a stored batch may be sent again.');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.[0]).toBe('warn');
    expect(lines[0]?.[1]).toContain('a stored batch may be sent again.');
    expect(lines[0]?.[2]).toEqual({ patch: 'produce-tracing' });
    reportDeclinedPatch(logger, 'fetch-failover', false, 'fetches stop.');
    expect(lines.map((line) => (line[2] as { patch: string }).patch)).toEqual([
      'produce-tracing',
      'fetch-failover',
    ]);
  });
});
