import { LLMError } from '../../errors/llm-error.js';
import { CentroidIndex } from '../features/centroid-index.js';
import { BaggedPredictor } from './bagged-predictor.js';
import { EnsemblePredictor } from './ensemble-predictor.js';
import { GainMlpPredictor } from './gain-mlp-predictor.js';
import { GainPredictor } from './gain-predictor.js';
import { GuardedPredictor } from './guarded-predictor.js';
import { KnnPredictor } from './knn-predictor.js';
import { LogisticPredictor } from './logistic-predictor.js';
import { PriorPredictor } from './prior-predictor.js';
import { StackPredictor } from './stack-predictor.js';
import { TaskPriorPredictor } from './task-prior-predictor.js';
import { TwoLayerPredictor } from './two-layer-predictor.js';
import type { PredictorState, QualityPredictor } from './types.js';

/** Rebuilds a predictor from its `toJSON()` state. */
export function loadPredictor(state: PredictorState): QualityPredictor {
  switch (state?.kind) {
    case 'prior':
      return new PriorPredictor(state.mean);
    case 'logistic':
      return LogisticPredictor.fromJSON(state);
    case 'mf':
    case 'mlp':
      return TwoLayerPredictor.fromJSON(state);
    case 'knn':
      return KnnPredictor.fromJSON(state);
    case 'ensemble':
      return new EnsemblePredictor(state.members.map(loadPredictor));
    case 'bag':
      return new BaggedPredictor(state.members.map(loadPredictor));
    case 'task':
      return TaskPriorPredictor.fromJSON(state);
    case 'guarded': {
      const inner = loadPredictor(state.inner);
      if (state.prior.length !== inner.outputs) throw new LLMError({ code: 'invalid_request', message: `Guard prior has ${state.prior.length} values, expected ${inner.outputs}`, param: 'predictor.prior' });
      return new GuardedPredictor(inner, new CentroidIndex(state.block, state.centroids), state.prior, state.low, state.high);
    }
    case 'stack':
      return loadStack(state);
    case 'gain':
      return GainPredictor.fromJSON(state);
    case 'gain-mlp':
      return GainMlpPredictor.fromJSON(state);
    default:
      throw new LLMError({ code: 'invalid_request', message: `Unknown predictor kind ${JSON.stringify((state as { kind?: unknown })?.kind)}`, param: 'predictor.kind' });
  }
}

function loadStack(state: Extract<PredictorState, { kind: 'stack' }>): StackPredictor {
  const members = state.members.map(loadPredictor);
  const outputs = state.meta.length;
  for (const [i, m] of members.entries()) {
    if (m.outputs !== outputs) throw new LLMError({ code: 'invalid_request', message: `Stack member ${i} has ${m.outputs} outputs, expected ${outputs}`, param: `predictor.members.${i}` });
  }
  for (const [i, m] of state.meta.entries()) {
    if (m.weights.length !== members.length * outputs) {
      throw new LLMError({ code: 'invalid_request', message: `Stack meta model ${i} has ${m.weights.length} weights, expected ${members.length * outputs}`, param: `predictor.meta.${i}.weights` });
    }
  }
  return new StackPredictor(members, state.meta);
}
