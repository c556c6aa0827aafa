import { setFlagsFromString } from 'node:v8';

/** What `tuneHeapForGateway` sets when not told otherwise: grow the old generation by 25% over the live heap. */
export const GATEWAY_HEAP_GROWING_PERCENT = 25;

/**
 * Tunes V8's heap for a gateway process: a request's objects live through its upstream call (tens of ms),
 * long enough to be promoted out of the young generation, so under load the old generation fills with
 * promoted garbage and V8's default growth lets it reach several times the live heap before a full GC.
 * `--heap-growing-percent` makes V8 collect it sooner (measured on the benchmark's load: RSS under load
 * 151-155 -> 131-136 MB median, after a 512-stream burst 169-199 -> 137-147 MB, CPU per request within the
 * run-to-run noise; docs/benchmarks.md). Takes effect when called at startup, before the load; V8 reads the flag
 * at each heap-limit computation. `percent` 0 leaves V8's default, and so does a `--heap-growing-percent` given
 * to node on its command line (the operator's choice wins). Returns the percent applied (0 when none).
 *
 * The young generation's size cannot be changed at runtime: the server passes `GATEWAY_NODE_FLAGS`
 * (`--max-semi-space-size=8 --v8-pool-size=2`) to node when it starts (young-generation.ts).
 */
export function tuneHeapForGateway(percent: number = GATEWAY_HEAP_GROWING_PERCENT): number {
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) throw new RangeError(`heap growing percent must be an integer 0-1000, got ${percent}`);
  // A value given to node itself (`node --heap-growing-percent=N`) is the operator's: leave it.
  if (process.execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) return 0;
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
