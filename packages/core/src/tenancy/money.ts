/** Stores keep money as integer nano-dollars (1e-9 USD): sums stay exact; 2^53 nano-USD is about 9 million USD. */
export const NANO_PER_USD = 1_000_000_000;

/** Rounds to the nearest nano-dollar. */
export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

/** Rounds up, for reservations (never under-reserve). */
export function usdToNanoCeil(usd: number): number {
  return Math.ceil(usd * NANO_PER_USD - 1e-6);
}

export function nanoToUsd(nano: number): number {
  return nano / NANO_PER_USD;
}
