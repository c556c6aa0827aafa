import type { SparseVector } from '../features/sparse-vector.js';
import { Adam } from './adam.js';
import { RowGradient } from './row-gradient.js';

/**
 * Logits of a sparse linear layer into `out`: out[c] = b[c] + sum_k x.value[k] w[x.index[k] * cols + c],
 * with `cols = b.length` (row-major weights, one row per feature).
 */
export function linearForward(w: Float32Array, b: Float32Array, x: SparseVector, out: Float64Array): Float64Array {
  const cols = b.length;
  for (let c = 0; c < cols; c++) out[c] = b[c]!;
  const { index, value } = x;
  for (let k = 0; k < index.length; k++) {
    const base = index[k]! * cols, v = value[k]!;
    for (let c = 0; c < cols; c++) out[c]! += v * w[base + c]!;
  }
  return out;
}

/**
 * Mini-batch training state of a sparse linear layer (the `logistic` and `gain` predictors): Adam on
 * the weights (with L2) and on the biases (without), and the batch's summed gradients. `add` takes one
 * row's logit gradient `dz`; `step` applies the batch mean and clears.
 */
export class LinearGradient {
  private readonly adamW: Adam;
  private readonly adamB: Adam;
  private readonly gb: Float64Array;
  private readonly gw: RowGradient;
  private count = 0;

  constructor(w: Float32Array, b: Float32Array, dim: number, learningRate: number, l2: number) {
    this.adamW = new Adam(w, learningRate, l2);
    this.adamB = new Adam(b, learningRate);
    this.gb = new Float64Array(b.length);
    this.gw = new RowGradient(dim, b.length);
  }

  add(x: SparseVector, dz: Float64Array): void {
    for (let c = 0; c < this.gb.length; c++) this.gb[c]! += dz[c]!;
    for (let k = 0; k < x.index.length; k++) this.gw.addRow(x.index[k]!, x.value[k]!, dz);
    this.count++;
  }

  step(): void {
    const count = this.count;
    if (count === 0) return;
    this.adamW.tick();
    this.adamB.tick();
    this.gw.flush((j, g) => this.adamW.update(j, g / count));
    for (let c = 0; c < this.gb.length; c++) this.adamB.update(c, this.gb[c]! / count);
    this.gb.fill(0);
    this.count = 0;
  }
}

/** Copies of parameter arrays, for `QualityPredictor.snapshot`. */
export function snapshotArrays(...arrays: Float32Array[]): Float32Array[] {
  return arrays.map((a) => a.slice());
}

/** Writes a `snapshotArrays` result back into the same arrays, in the same order. */
export function restoreArrays(s: unknown, ...arrays: Float32Array[]): void {
  const saved = s as Float32Array[];
  arrays.forEach((a, i) => a.set(saved[i]!));
}
