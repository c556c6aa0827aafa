/**
 * Whether two mean qualities are the same, allowing for float rounding: means of the same values summed in another
 * order, or of other values with the same mean (0.1 x 200 against 0.2 x 100 + 0 x 100), differ in the last bits.
 * Such a residue is not a gap between a weaker and a stronger model: taken as one it picks the weak model by rounding
 * and divides PGR by it (an APGR of 10^13). The means compared are compensated sums (`meanOf`, `CompensatedSum`), whose
 * error does not grow with the number of prompts: the example's means are equal to the last bit at 200 prompts and at a
 * million (summed left to right they differ by 2.6e-16 and 2.2e-12). The tolerance is relative, 1e-12 of the larger
 * magnitude (and absolute below 1), far above the rounding of such a mean and far below any gap a dataset can show.
 */
export function sameQuality(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * A running sum with Neumaier's compensation: the rounding error of each addition is kept apart and added back, so the
 * total is the exact sum rounded once (up to a few ulps), whatever the number of terms and their order. A plain
 * left-to-right sum of n terms drifts by up to n ulps (0.1 a million times: 1.3e-6 off).
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;
  /** Count of the terms added. */
  count = 0;

  add(v: number): this {
    const t = this.sum + v;
    this.compensation += Math.abs(this.sum) >= Math.abs(v) ? this.sum - t + v : v - t + this.sum;
    this.sum = t;
    this.count++;
    return this;
  }

  get value(): number {
    return this.sum + this.compensation;
  }

  /** The mean of the terms added (NaN when none was). */
  get mean(): number {
    return this.value / this.count;
  }
}

/** The mean of `values` by a compensated sum (NaN when empty). */
export function meanOf(values: Iterable<number>): number {
  const s = new CompensatedSum();
  for (const v of values) s.add(v);
  return s.mean;
}
