/** A (mean cost, mean quality) operating point. */
export interface CostQualityPoint {
  cost: number;
  quality: number;
  /** What produced it: a model name, `lambda=...`, `random`, ... */
  label?: string;
}

/**
 * Upper-left, non-decreasing convex hull of operating points: the best quality reachable at each cost
 * by choosing (or randomly mixing) the points. Sorted by cost.
 */
export function nonDecreasingHull(points: readonly CostQualityPoint[]): CostQualityPoint[] {
  const sorted = [...points].filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.quality)).sort((a, b) => a.cost - b.cost || b.quality - a.quality);
  // Keep only points that improve quality (non-decreasing curve).
  const rising: CostQualityPoint[] = [];
  for (const p of sorted) if (rising.length === 0 || p.quality > rising[rising.length - 1]!.quality) rising.push(p);
  const hull: CostQualityPoint[] = [];
  for (const p of rising) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2]!, b = hull[hull.length - 1]!;
      // Drop b when it lies on or below the segment a -> p.
      if ((b.quality - a.quality) * (p.cost - a.cost) <= (p.quality - a.quality) * (b.cost - a.cost)) hull.pop();
      else break;
    }
    hull.push(p);
  }
  return hull;
}

/** Quality of a hull at `cost`: linear between points, flat after the last, -Infinity before the first. */
export function hullQualityAt(hull: readonly CostQualityPoint[], cost: number): number {
  if (hull.length === 0 || cost < hull[0]!.cost - 1e-15) return -Infinity;
  for (let i = 1; i < hull.length; i++) {
    const a = hull[i - 1]!, b = hull[i]!;
    if (cost <= b.cost) return b.cost === a.cost ? b.quality : a.quality + ((cost - a.cost) / (b.cost - a.cost)) * (b.quality - a.quality);
  }
  return hull[hull.length - 1]!.quality;
}

/**
 * AIQ (RouterBench): the area under the non-decreasing hull over [minCost, maxCost], divided by the
 * range, so it is an average quality. Before the hull's first point the router reaches nothing (0).
 * Exact: the hull is piecewise linear, so each piece is a trapezoid.
 */
export function aiq(hull: readonly CostQualityPoint[], minCost: number, maxCost: number): number {
  if (!(maxCost > minCost)) return hull.length ? reached(hull, minCost) : 0;
  // Breakpoints of the curve inside the range, with the range's ends; between two, quality is linear.
  const xs = [minCost, ...hull.map((p) => p.cost).filter((c) => c > minCost && c < maxCost), maxCost];
  let s = 0;
  for (let i = 1; i < xs.length; i++) {
    const a = xs[i - 1]!, b = xs[i]!;
    if (b <= a) continue;
    // Just inside the piece at both ends: a jump at a breakpoint (the hull's first point) belongs to one side.
    s += ((b - a) * (qualityFrom(hull, a) + qualityTo(hull, b))) / 2;
  }
  return s / (maxCost - minCost);
}

/** Hull quality at `cost`, 0 before its first point (what the router reaches there: nothing). */
function reached(hull: readonly CostQualityPoint[], cost: number): number {
  const q = hullQualityAt(hull, cost);
  return Number.isFinite(q) ? q : 0;
}

/** Quality on the piece starting at `cost` (the right limit). */
function qualityFrom(hull: readonly CostQualityPoint[], cost: number): number {
  return hull.length && cost >= hull[0]!.cost ? reached(hull, cost) : 0;
}

/** Quality on the piece ending at `cost` (the left limit): 0 up to and including the hull's first cost. */
function qualityTo(hull: readonly CostQualityPoint[], cost: number): number {
  return hull.length && cost > hull[0]!.cost ? reached(hull, cost) : 0;
}

/** Least cost at which the hull reaches `quality` (undefined when it never does). */
export function costToReach(hull: readonly CostQualityPoint[], quality: number): number | undefined {
  for (let i = 0; i < hull.length; i++) {
    const b = hull[i]!;
    if (b.quality >= quality - 1e-12) {
      if (i === 0) return b.cost;
      const a = hull[i - 1]!;
      return a.cost + ((quality - a.quality) / (b.quality - a.quality)) * (b.cost - a.cost);
    }
  }
  return undefined;
}

/**
 * Where the router's hull is at least the zero-router hull (within `tolerance`), over a grid of the
 * cost range [minCost, maxCost]: the share of grid points, and the worst gap (router - zero). Before a
 * hull's first point its quality is 0, as AIQ counts it.
 */
export function compareWithHull(router: readonly CostQualityPoint[], zero: readonly CostQualityPoint[], minCost: number, maxCost: number, tolerance = 0.005, steps = 200): { share: number; worstGap: number; worstAt: number } {
  let ok = 0, worst = Infinity, worstAt = minCost;
  for (let i = 0; i <= steps; i++) {
    const c = minCost + ((maxCost - minCost) * i) / steps;
    const g = reached(router, c) - reached(zero, c);
    if (!(g < -tolerance)) ok++;
    if (g < worst) {
      worst = g;
      worstAt = c;
    }
  }
  return { share: ok / (steps + 1), worstGap: worst, worstAt };
}
