import { sigmoid } from './types.js';

/** A small dense logistic regression: `sigmoid(bias + weights . x)`. */
export interface DenseLogistic {
  weights: number[];
  bias: number;
}

/**
 * Fits a dense logistic regression by Newton's method (IRLS) with an L2 penalty `l2` on the weights
 * (not the bias). Meant for few features (a stacker's inputs): cost O(iterations * n * d^2 + d^3).
 * Rows whose label is NaN are skipped; labels may be soft (in [0,1]).
 */
export function fitDenseLogistic(x: readonly ArrayLike<number>[], y: readonly number[], l2: number, iterations = 25): DenseLogistic {
  const d = x[0]?.length ?? 0;
  const D = d + 1; // last slot: bias
  const beta = new Float64Array(D);
  const rows = x.flatMap((_, i) => (Number.isNaN(y[i]!) ? [] : [i]));
  if (rows.length === 0) return { weights: new Array<number>(d).fill(0), bias: 0 };
  let mean = 0;
  for (const i of rows) mean += y[i]!;
  mean = Math.min(1 - 1e-3, Math.max(1e-3, mean / rows.length));
  beta[d] = Math.log(mean / (1 - mean));
  const H = new Float64Array(D * D);
  const g = new Float64Array(D);
  const xi = new Float64Array(D);
  for (let it = 0; it < iterations; it++) {
    H.fill(0);
    g.fill(0);
    for (const i of rows) {
      const r = x[i]!;
      for (let j = 0; j < d; j++) xi[j] = r[j]!;
      xi[d] = 1;
      let z = 0;
      for (let j = 0; j < D; j++) z += beta[j]! * xi[j]!;
      const p = sigmoid(z);
      const w = Math.max(1e-6, p * (1 - p));
      const res = p - y[i]!;
      for (let j = 0; j < D; j++) {
        g[j]! += res * xi[j]!;
        const a = w * xi[j]!;
        for (let k = j; k < D; k++) H[j * D + k]! += a * xi[k]!;
      }
    }
    for (let j = 0; j < D; j++) for (let k = 0; k < j; k++) H[j * D + k] = H[k * D + j]!;
    for (let j = 0; j < d; j++) {
      g[j]! += l2 * beta[j]!;
      H[j * D + j]! += l2;
    }
    H[d * D + d]! += 1e-9;
    const step = solve(H, g, D);
    let moved = 0;
    for (let j = 0; j < D; j++) {
      beta[j]! -= step[j]!;
      moved = Math.max(moved, Math.abs(step[j]!));
    }
    if (moved < 1e-7) break;
  }
  return { weights: Array.from(beta.subarray(0, d)), bias: beta[d]! };
}

/** Mean log-loss of a dense logistic regression on rows with a known label. */
export function denseLogLoss(m: DenseLogistic, x: readonly ArrayLike<number>[], y: readonly number[]): number {
  let loss = 0, n = 0;
  x.forEach((r, i) => {
    const t = y[i]!;
    if (Number.isNaN(t)) return;
    const p = Math.min(1 - 1e-7, Math.max(1e-7, denseLogisticPredict(m, r)));
    loss -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    n++;
  });
  return n ? loss / n : 0;
}

export function denseLogisticPredict(m: DenseLogistic, x: ArrayLike<number>): number {
  let z = m.bias;
  for (let j = 0; j < m.weights.length; j++) z += m.weights[j]! * x[j]!;
  return sigmoid(z);
}

/** Solves A s = b (A symmetric positive definite, row-major n x n) by Gaussian elimination with pivoting. */
function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(A);
  const s = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) [a[c * n + k], a[p * n + k]] = [a[p * n + k]!, a[c * n + k]!];
      [s[c], s[p]] = [s[p]!, s[c]!];
    }
    const piv = a[c * n + c]!;
    if (Math.abs(piv) < 1e-12) continue;
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / piv;
      if (f === 0) continue;
      for (let k = c; k < n; k++) a[r * n + k]! -= f * a[c * n + k]!;
      s[r]! -= f * s[c]!;
    }
  }
  const out = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let v = s[r]!;
    for (let k = r + 1; k < n; k++) v -= a[r * n + k]! * out[k]!;
    const piv = a[r * n + r]!;
    out[r] = Math.abs(piv) < 1e-12 ? 0 : v / piv;
  }
  return out;
}
