import { meanOf, sameQuality } from '../datasets/same-quality.js';

/** One point of the PGR curve: the share of calls sent to the strong model and what it buys. */
export interface PgrPoint {
  /** Share of prompts routed to the strong model, 0..1. */
  strongShare: number;
  /** Mean quality of the routed answers. */
  quality: number;
  /** Performance gap recovered: (quality - weak) / (strong - weak). */
  pgr: number;
}

export interface TwoModelMetrics {
  n: number;
  weakQuality: number;
  strongQuality: number;
  /** Mean PGR over the whole 0..100% range of strong calls (trapezoid over every prompt count). */
  apgr: number;
  /** Smallest share of strong calls reaching PGR 50% / 80% (1 when never reached). */
  cpt50: number;
  cpt80: number;
  /** The curve, sampled at `samples + 1` evenly spaced shares. */
  curve: PgrPoint[];
}

/**
 * PGR curve of a router that sends the prompts with the highest `score` (e.g. predicted quality gain of
 * the strong model) to the strong model. Tied scores are split evenly: inside a group of equal scores,
 * routing part of the group yields the group's mean gain per prompt (what random tie-breaking gives in
 * expectation), so a constant score is exactly the random router (APGR 0.5).
 */
export function twoModelMetrics(score: readonly number[], weak: readonly number[], strong: readonly number[], samples = 100): TwoModelMetrics {
  const n = score.length;
  const order = Array.from(score, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  // Compensated sums: means of the same quality are equal to the last bit at any n (left to right, 1e-12 apart at 1M).
  const qW = meanOf(weak), qS = meanOf(strong);
  // Of the same quality (to float rounding): no gap, PGR 0 everywhere (not a residue's 10^13).
  const gap = sameQuality(qS, qW) ? 0 : qS - qW;
  // gain[k]: total quality gained by routing the top k prompts to the strong model.
  const gain = new Float64Array(n + 1);
  for (let s = 0; s < n; ) {
    let e = s;
    let g = 0;
    while (e < n && score[order[e]!] === score[order[s]!]) {
      g += strong[order[e]!]! - weak[order[e]!]!;
      e++;
    }
    const per = g / (e - s);
    for (let k = s; k < e; k++) gain[k + 1] = gain[k]! + per;
    s = e;
  }
  const pgrAt = (k: number) => (gap === 0 ? 0 : gain[k]! / n / gap);
  let area = 0;
  for (let k = 0; k < n; k++) area += (pgrAt(k) + pgrAt(k + 1)) / 2;
  const cpt = (target: number) => {
    for (let k = 0; k <= n; k++) if (pgrAt(k) >= target - 1e-12) return k / n;
    return 1;
  };
  const curve: PgrPoint[] = [];
  for (let i = 0; i <= samples; i++) {
    const k = Math.round((i / samples) * n);
    curve.push({ strongShare: k / n, quality: qW + gain[k]! / n, pgr: pgrAt(k) });
  }
  return { n, weakQuality: qW, strongQuality: qS, apgr: n ? area / n : 0, cpt50: cpt(0.5), cpt80: cpt(0.8), curve };
}
