import type { SparseVector } from '../features/sparse-vector.js';
import { Adam } from './adam.js';
import { RowGradient } from './row-gradient.js';
import type { TwoLayerPredictor } from './two-layer-predictor.js';
import type { TrainingSet } from './types.js';

/**
 * Mini-batch training state of a `TwoLayerPredictor` (the `mlp`, `mf` and `gain-mlp` predictors): Adam
 * on both layers (L2 on the weights only) and the batch's summed gradients. Call `add` after
 * `net.forward(x, ...)` with that row's output-logit gradient `dz` (it backpropagates through `net.h`);
 * `step` applies the batch mean and clears.
 */
export class TwoLayerGradient {
  private readonly a1: Adam;
  private readonly ab1: Adam;
  private readonly a2: Adam;
  private readonly ab2: Adam;
  private readonly dh: Float64Array;
  private readonly gw1: RowGradient;
  private readonly gb1: Float64Array;
  private readonly gw2: Float64Array;
  private readonly gb2: Float64Array;
  private count = 0;

  constructor(
    private readonly net: TwoLayerPredictor,
    learningRate: number,
    l2: number,
  ) {
    const H = net.hidden, M = net.outputs;
    this.a1 = new Adam(net.w1, learningRate, l2);
    this.ab1 = new Adam(net.b1, learningRate);
    this.a2 = new Adam(net.w2, learningRate, l2);
    this.ab2 = new Adam(net.b2, learningRate);
    this.dh = new Float64Array(H);
    this.gw1 = new RowGradient(net.dim, H);
    this.gb1 = new Float64Array(H);
    this.gw2 = new Float64Array(H * M);
    this.gb2 = new Float64Array(M);
  }

  /**
   * Counts the row toward the batch mean and, unless `dz` is null (a row with nothing to learn),
   * adds its gradients.
   */
  add(x: SparseVector, dz: Float64Array | null): void {
    this.count++;
    if (!dz) return;
    const net = this.net, H = net.hidden, M = net.outputs, h = net.h, dh = this.dh;
    dh.fill(0);
    for (let j = 0; j < H; j++) {
      for (let m = 0; m < M; m++) {
        this.gw2[j * M + m]! += h[j]! * dz[m]!;
        dh[j]! += net.w2[j * M + m]! * dz[m]!;
      }
      if (net.activation === 'relu' && h[j]! <= 0) dh[j] = 0;
    }
    for (let m = 0; m < M; m++) this.gb2[m]! += dz[m]!;
    for (let j = 0; j < H; j++) this.gb1[j]! += dh[j]!;
    for (let k = 0; k < x.index.length; k++) this.gw1.addRow(x.index[k]!, x.value[k]!, dh);
  }

  step(): void {
    const count = this.count;
    if (count === 0) return;
    const H = this.net.hidden, M = this.net.outputs;
    this.a1.tick();
    this.ab1.tick();
    this.a2.tick();
    this.ab2.tick();
    this.gw1.flush((j, g) => this.a1.update(j, g / count));
    for (let j = 0; j < H; j++) this.ab1.update(j, this.gb1[j]! / count);
    for (let j = 0; j < H * M; j++) this.a2.update(j, this.gw2[j]! / count);
    for (let m = 0; m < M; m++) this.ab2.update(m, this.gb2[m]! / count);
    this.gb1.fill(0);
    this.gw2.fill(0);
    this.gb2.fill(0);
    this.count = 0;
  }
}

/**
 * Zeroes the first-layer rows of features absent from the training prompts: they never got a
 * gradient, so their random initial weights would only add noise to predictions (and size to the
 * artifact).
 */
export function zeroUnseenRows(net: TwoLayerPredictor, train: TrainingSet): void {
  const H = net.hidden;
  const seen = new Uint8Array(train.dim);
  for (const x of train.x) for (let k = 0; k < x.index.length; k++) seen[x.index[k]!] = 1;
  for (let r = 0; r < train.dim; r++) if (!seen[r]) net.w1.fill(0, r * H, (r + 1) * H);
}
