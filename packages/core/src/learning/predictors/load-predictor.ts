import { LLMError } from '../../errors/llm-error.js';
import { EnsemblePredictor } from './ensemble-predictor.js';
import { KnnPredictor } from './knn-predictor.js';
import { LogisticPredictor } from './logistic-predictor.js';
import { PriorPredictor } from './prior-predictor.js';
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
    default:
      throw new LLMError({ code: 'invalid_request', message: `Unknown predictor kind ${JSON.stringify((state as { kind?: unknown })?.kind)}`, param: 'predictor.kind' });
  }
}
