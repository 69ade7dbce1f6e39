/**
 * The benchmark contract. A benchmark measures Cascade against a baseline (raw kafkajs, raw
 * avsc, ...) in the same run on the same cluster, and reports each case as a ratio.
 */

/** One measured case. `ratio` is `value / baseline`: above 1 is better when `higherIsBetter`. */
export interface BenchResult {
  readonly case: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: number;
  readonly ratio: number;
}

/** What a benchmark gets to run with. */
export interface BenchContext {
  readonly brokers: string[];
  readonly registryUrl: string;
  /** Progress lines (to stderr). */
  log(message: string): void;
}

/** A benchmark module's default export. */
export interface Benchmark {
  readonly name: string;
  /** One line: what is measured against what. */
  readonly description: string;
  run(context: BenchContext): Promise<BenchResult[]>;
}

/** Builds a result, computing the ratio. */
export function result(name: string, unit: string, value: number, baseline: number): BenchResult {
  return {
    case: name,
    unit,
    value: round(value),
    baseline: round(baseline),
    ratio: round(value / baseline, 3),
  };
}

/** Rounds to `digits` significant decimals (2 by default). */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Runs `body` and returns its wall time in seconds. */
export async function timed(body: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Renders results as a Markdown table. */
export function markdownTable(results: readonly BenchResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.case} | ${r.value.toLocaleString('en-US')} | ${r.baseline.toLocaleString('en-US')} | ${r.unit} | ${r.ratio}x |`,
  );
  return ['| case | value | baseline | unit | ratio |', '| --- | ---: | ---: | --- | ---: |', ...rows].join(
    '\n',
  );
}
