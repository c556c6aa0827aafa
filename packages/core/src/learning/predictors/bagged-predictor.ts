import { LLMError } from '../../errors/llm-error.js';
import { fnv1a } from '../datasets/split-examples.js';
import type { SparseVector } from '../features/sparse-vector.js';
import type { PredictorKind, PredictorState, QualityPredictor } from './types.js';

/**
 * Largest bag `trainPredictors` accepts (`--bag`). A bagged artifact holds every member, and `router train`
 * writes it as one JSON string (at most 2^29 - 24 characters on Node 20): one default mlp member on a
 * realistic vocabulary is ~17.5 M characters and a GSM8K stack member ~8.9 M, so 10 members stay well inside
 * the limit (and the averaged prediction costs K times one member's).
 */
export const MAX_BAG = 10;

/**
 * Seed of member `b` of a bag trained with `seed`: member 0 keeps the seed itself (so a bag contains
 * the single predictor the same seed trains), the others get a hash of (seed, b). Deterministic.
 */
export function bagMemberSeed(seed: number, b: number): number {
  return b === 0 ? seed : fnv1a(`bag:${seed}:${b}`);
}

/**
 * Bagging across seeds: K predictors of one kind, trained on the same prompts with different seeds
 * (initialization, example order), and their predicted probabilities averaged per model. It reports
 * the members' kind, so a bagged `logistic` stays `logistic` in reports and selection.
 */
export class BaggedPredictor implements QualityPredictor {
  readonly outputs: number;
  private readonly tmp: Float64Array;

  constructor(readonly members: readonly QualityPredictor[]) {
    const first = members[0];
    if (!first) throw new LLMError({ code: 'invalid_request', message: 'A bag needs at least one member', param: 'predictor.members' });
    for (const [i, m] of members.entries()) {
      if (m.kind !== first.kind) throw new LLMError({ code: 'invalid_request', message: `Bag member ${i} is ${m.kind}, expected ${first.kind}`, param: `predictor.members.${i}` });
      if (m.outputs !== first.outputs) throw new LLMError({ code: 'invalid_request', message: `Bag member ${i} has ${m.outputs} outputs, expected ${first.outputs}`, param: `predictor.members.${i}` });
    }
    this.outputs = first.outputs;
    this.tmp = new Float64Array(this.outputs);
  }

  get kind(): PredictorKind {
    return this.members[0]!.kind;
  }

  predict(x: SparseVector, out = new Float64Array(this.outputs)): Float64Array {
    out.fill(0);
    for (const m of this.members) {
      m.predict(x, this.tmp);
      for (let k = 0; k < this.outputs; k++) out[k]! += this.tmp[k]!;
    }
    for (let k = 0; k < this.outputs; k++) out[k]! /= this.members.length;
    return out;
  }

  toJSON(): PredictorState {
    return { kind: 'bag', members: this.members.map((m) => m.toJSON()) };
  }
}
