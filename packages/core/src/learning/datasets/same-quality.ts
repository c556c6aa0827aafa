/**
 * Whether two mean qualities are the same, allowing for float rounding: means of the same values summed in another
 * order, or of other values with the same mean (0.1 x 200 against 0.2 x 100 + 0 x 100), differ in the last bits.
 * Such a residue (~1e-17) is not a gap between a weaker and a stronger model: taken as one it picks the weak model by
 * rounding and divides PGR by it (an APGR of 10^13). The tolerance is relative, 1e-12 of the larger magnitude (and
 * absolute below 1), far above the rounding of any mean of realistic size and far below any gap a dataset can show.
 */
export function sameQuality(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}
