/** Command-line flags and sample summaries shared by the micro-benchmarks (router, routing, SSE, cascade). */

const args = process.argv.slice(2);

/** True when `--name` is on the command line. */
export const flag = (name: string): boolean => args.includes(`--${name}`);

/** `--name N` as a positive integer, else `fallback`. */
export function option(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

/** p50, p99 and mean of samples, in microseconds. */
export interface Summary {
  p50: number;
  p99: number;
  mean: number;
}

/** Summarizes samples taken in nanoseconds, in microseconds. */
export function summarize(samplesNs: Float64Array): Summary {
  const sorted = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1_000;
  return { p50: at(0.5), p99: at(0.99), mean: sum / sorted.length / 1_000 };
}

/** Times `fn` `iterations` times (awaiting each call) after `warmup` calls; a summary in microseconds. */
export async function timeCalls(fn: () => unknown, warmup: number, iterations: number): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return summarize(samples);
}
