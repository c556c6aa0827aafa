/** Sums USD amounts in integer nano-dollars, so the total is exact (no 0.30000000000000004). */
export function sumUsd(amounts: readonly number[]): number {
  return amounts.reduce((nano, usd) => nano + Math.round(usd * 1e9), 0) / 1e9;
}

/** `$0`, or the amount to the nano-dollar without trailing zeros: `$0.000117`. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  return `$${usd.toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`;
}
