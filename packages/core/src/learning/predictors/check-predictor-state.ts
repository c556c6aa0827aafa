import { LLMError } from '../../errors/llm-error.js';
import type { PredictorState, SparseWeights, TwoLayerState } from './types.js';

function mismatch(path: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `Router model ${path}: ${message}`, param: path });
}

function size(path: string, got: unknown, expected: number, what: string): void {
  if (got !== expected) throw mismatch(path, `${what} is ${JSON.stringify(got)}, expected ${expected}`);
}

function inputSize(path: string, got: unknown, dim: number): void {
  if (got !== dim) throw mismatch(path, `the predictor takes ${JSON.stringify(got)} input features but the artifact's features have ${dim} (trained with other features?)`);
}

function length(path: string, a: unknown, expected: number, what: string): void {
  if (!Array.isArray(a)) throw mismatch(path, `${what} is not an array`);
  if (a.length !== expected) throw mismatch(path, `${what} has ${a.length} values, expected ${expected}`);
}

/** One finite number: text, `null` or an object would predict NaN (or concatenate). Throws an LLMError naming `path`. */
export function finite(path: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw mismatch(path, `${JSON.stringify(v)?.slice(0, 40) ?? String(v)} is not a finite number`);
}

/**
 * `length`, and every entry a finite number (or `null` where `nullable`: a value the artifact marks unknown): a weight
 * of text, `null` or an object would predict NaN (or concatenate). Throws an `invalid_request` LLMError naming the
 * entry (`cost.intercept.0`). `expected` undefined: any length.
 */
export function numbers(path: string, a: unknown, expected: number | undefined, what: string, nullable = false): void {
  length(path, a, expected ?? (Array.isArray(a) ? a.length : 0), what);
  (a as unknown[]).forEach((v, i) => {
    if (!(nullable && v === null)) finite(`${path}.${i}`, v);
  });
}

/** Sparse unit vectors stored as `[indices, values]` (centroids, knn's training vectors): whole indices, finite values. */
function sparseVectors(path: string, list: unknown, expected: number, what: string): void {
  length(path, list, expected, what);
  (list as unknown[]).forEach((v, i) => {
    if (!Array.isArray(v) || v.length !== 2 || !Array.isArray(v[0])) throw mismatch(`${path}.${i}`, 'expected [indices, values]');
    (v[0] as unknown[]).forEach((k, j) => {
      if (!Number.isInteger(k) || (k as number) < 0) throw mismatch(`${path}.${i}.0.${j}`, `index ${JSON.stringify(k)?.slice(0, 40)} is not a whole number >= 0`);
    });
    numbers(`${path}.${i}.1`, v[1], v[0].length, 'values (one per index)');
  });
}

function weights(path: string, w: SparseWeights, dim: number, cols: number): void {
  size(`${path}.cols`, w?.cols, cols, 'the number of weight columns');
  if (!Array.isArray(w.rows)) throw mismatch(`${path}.rows`, 'rows is not an array');
  length(`${path}.values`, w.values, w.rows.length, 'values (one per entry of rows)');
  w.rows.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= dim) throw mismatch(`${path}.rows.${i}`, `row ${JSON.stringify(r)} is outside the ${dim} input features`);
    numbers(`${path}.values.${i}`, w.values[i], cols, 'a weight row');
  });
}

function block(path: string, b: [number, number], dim: number): void {
  if (!Array.isArray(b) || !Number.isInteger(b[0]) || !Number.isInteger(b[1]) || b[0] < 0 || b[1] < b[0] || b[1] > dim) {
    throw mismatch(path, `feature block ${JSON.stringify(b)} is not inside the ${dim} input features`);
  }
}

function twoLayer(path: string, s: TwoLayerState, dim: number): number {
  inputSize(`${path}.dim`, s.dim, dim);
  weights(`${path}.w1`, s.w1, dim, s.hidden);
  numbers(`${path}.b1`, s.b1, s.hidden, 'b1');
  numbers(`${path}.w2`, s.w2, s.hidden * s.outputs, 'w2 (hidden x outputs)');
  numbers(`${path}.b2`, s.b2, s.outputs, 'b2');
  return s.outputs;
}

/**
 * Checks that a predictor's state fits `dim` input features (what the artifact's feature spec produces)
 * and that its parts agree on the number of outputs. Returns the number of outputs. Throws an
 * `invalid_request` LLMError naming the mismatching field (`predictor.bias`, `predictor.members.0.dim`, ...):
 * a damaged or mismatched artifact would otherwise predict NaN or read its weights shifted.
 */
export function checkPredictorState(s: PredictorState, dim: number, path = 'predictor'): number {
  switch (s?.kind) {
    case 'prior':
      numbers(`${path}.mean`, s.mean, undefined, 'mean');
      return s.mean.length;
    case 'logistic':
      inputSize(`${path}.dim`, s.dim, dim);
      numbers(`${path}.bias`, s.bias, s.outputs, 'bias (one per output)');
      weights(`${path}.weights`, s.weights, dim, s.outputs);
      return s.outputs;
    case 'mf':
    case 'mlp':
      return twoLayer(path, s, dim);
    case 'gain':
      inputSize(`${path}.dim`, s.dim, dim);
      numbers(`${path}.bias`, s.bias, s.weights?.cols ?? -1, 'bias (one per class)');
      weights(`${path}.weights`, s.weights, dim, s.weights.cols);
      return 2;
    case 'gain-mlp':
      twoLayer(`${path}.net`, s.net, dim);
      return 2;
    case 'knn': {
      block(`${path}.block`, s.block, dim);
      numbers(`${path}.prior`, s.prior, s.outputs, 'prior (one per output)');
      if (!Array.isArray(s.vectors)) throw mismatch(`${path}.vectors`, 'vectors is not an array');
      sparseVectors(`${path}.vectors`, s.vectors, s.vectors.length, 'vectors');
      length(`${path}.quality`, s.quality, s.vectors.length, 'quality (one row per training vector)');
      // null: an outcome the training data lacked.
      s.quality.forEach((r, i) => numbers(`${path}.quality.${i}`, r, s.outputs, 'a quality row', true));
      return s.outputs;
    }
    case 'task': {
      block(`${path}.block`, s.block, dim);
      if (!Array.isArray(s.tasks)) throw mismatch(`${path}.tasks`, 'tasks is not an array');
      length(`${path}.quality`, s.quality, s.tasks.length, 'quality (one row per task)');
      const outputs = s.quality[0]?.length ?? 0;
      sparseVectors(`${path}.centroids`, s.centroids, s.tasks.length, 'centroids (one per task)');
      s.quality.forEach((r, i) => numbers(`${path}.quality.${i}`, r, outputs, 'a quality row'));
      finite(`${path}.temperature`, s.temperature);
      if (s.temperature <= 0) throw mismatch(`${path}.temperature`, `${s.temperature} is not > 0`);
      return outputs;
    }
    case 'guarded': {
      block(`${path}.block`, s.block, dim);
      const outputs = checkPredictorState(s.inner, dim, `${path}.inner`);
      // An unknown inner kind (-1) is named by `loadPredictor`.
      if (outputs >= 0) numbers(`${path}.prior`, s.prior, outputs, 'prior (one per output)');
      finite(`${path}.low`, s.low);
      finite(`${path}.high`, s.high);
      sparseVectors(`${path}.centroids`, s.centroids, Array.isArray(s.centroids) ? s.centroids.length : 0, 'centroids');
      return outputs;
    }
    case 'ensemble':
    case 'bag':
    case 'stack': {
      if (!Array.isArray(s.members) || s.members.length === 0) throw mismatch(`${path}.members`, 'no members');
      const outputs = s.members.map((m, i) => checkPredictorState(m, dim, `${path}.members.${i}`));
      outputs.forEach((o, i) => size(`${path}.members.${i}`, o, outputs[0]!, 'the number of outputs'));
      if (s.kind === 'stack' && outputs[0]! >= 0) {
        length(`${path}.meta`, s.meta, outputs[0]!, 'meta (one model per output)');
        s.meta.forEach((m, i) => {
          numbers(`${path}.meta.${i}.weights`, m?.weights, s.members.length * outputs[0]!, 'the meta weights (members x outputs)');
          finite(`${path}.meta.${i}.bias`, m.bias);
        });
      }
      return outputs[0]!;
    }
    default:
      // `loadPredictor` names an unknown kind.
      return -1;
  }
}
