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
  /**
   * For cases measured in interleaved rounds: `ratio` is the median of the per-round ratios,
   * and these are their smallest and largest, and the number of rounds.
   */
  readonly ratioMin?: number;
  readonly ratioMax?: number;
  readonly rounds?: number;
}

/** What a benchmark gets to run with. */
export interface BenchContext {
  readonly brokers: string[];
  readonly registryUrl: string;
  /** The local cluster's data folder, when the benchmark started it (its logs are under it). */
  readonly dataDir?: string;
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

/**
 * A case measured in interleaved rounds (baseline and candidate alternating A/B, B/A): value and
 * baseline are the medians of each side's per-round rates, ratio the median of the per-round
 * ratios, with their min and max.
 */
export function roundsResult(
  name: string,
  unit: string,
  values: readonly number[],
  baselines: readonly number[],
): BenchResult {
  const ratios = values.map((v, i) => v / (baselines[i] ?? Number.NaN));
  return {
    case: name,
    unit,
    value: round(median(values)),
    baseline: round(median(baselines)),
    ratio: round(median(ratios), 3),
    ratioMin: round(Math.min(...ratios), 3),
    ratioMax: round(Math.max(...ratios), 3),
    rounds: ratios.length,
  };
}

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
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
      `| ${r.case} | ${r.value.toLocaleString('en-US')} | ${r.baseline.toLocaleString('en-US')} | ${r.unit} | ${r.ratio}x${r.rounds === undefined ? '' : ` (median of ${r.rounds} rounds; ${r.ratioMin}x–${r.ratioMax}x)`} |`,
  );
  return ['| case | value | baseline | unit | ratio |', '| --- | ---: | ---: | --- | ---: |', ...rows].join(
    '\n',
  );
}
