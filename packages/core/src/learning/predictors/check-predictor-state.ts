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

/** `length`, and every entry a finite number: a weight of text, `null` or an object would predict NaN (or concatenate). */
function numbers(path: string, a: unknown, expected: number, what: string): void {
  length(path, a, expected, what);
  (a as unknown[]).forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw mismatch(`${path}.${i}`, `${JSON.stringify(v)?.slice(0, 40) ?? String(v)} is not a finite number`);
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
      if (!Array.isArray(s.mean)) throw mismatch(`${path}.mean`, 'mean is not an array');
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
      length(`${path}.prior`, s.prior, s.outputs, 'prior (one per output)');
      if (!Array.isArray(s.vectors)) throw mismatch(`${path}.vectors`, 'vectors is not an array');
      length(`${path}.quality`, s.quality, s.vectors.length, 'quality (one row per training vector)');
      s.quality.forEach((r, i) => length(`${path}.quality.${i}`, r, s.outputs, 'a quality row'));
      return s.outputs;
    }
    case 'task': {
      block(`${path}.block`, s.block, dim);
      if (!Array.isArray(s.tasks)) throw mismatch(`${path}.tasks`, 'tasks is not an array');
      length(`${path}.quality`, s.quality, s.tasks.length, 'quality (one row per task)');
      const outputs = s.quality[0]?.length ?? 0;
      length(`${path}.centroids`, s.centroids, s.tasks.length, 'centroids (one per task)');
      s.quality.forEach((r, i) => length(`${path}.quality.${i}`, r, outputs, 'a quality row'));
      return outputs;
    }
    case 'guarded':
      block(`${path}.block`, s.block, dim);
      return checkPredictorState(s.inner, dim, `${path}.inner`);
    case 'ensemble':
    case 'bag':
    case 'stack': {
      if (!Array.isArray(s.members) || s.members.length === 0) throw mismatch(`${path}.members`, 'no members');
      const outputs = s.members.map((m, i) => checkPredictorState(m, dim, `${path}.members.${i}`));
      outputs.forEach((o, i) => size(`${path}.members.${i}`, o, outputs[0]!, 'the number of outputs'));
      return outputs[0]!;
    }
    default:
      // `loadPredictor` names an unknown kind.
      return -1;
  }
}
