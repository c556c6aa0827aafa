import { LLMError } from '../../errors/llm-error.js';
import type { AugmentReport } from '../augment/difficulty-model.js';
import type { InfoldFoldReport } from '../augment/infold-augment.js';
import { checkFeatureSpec, featurize, type FeatureSpec } from '../features/feature-pipeline.js';
import { checkPredictorState, numbers } from '../predictors/check-predictor-state.js';
import { loadPredictor } from '../predictors/load-predictor.js';
import type { PredictorKind, PredictorState, QualityPredictor } from '../predictors/types.js';
import { predictCost, type CostModel } from './cost-model.js';

export const ROUTER_MODEL_FORMAT = 'llmrr-router-model';

/** The persisted, JSON artifact `llmrr router train` writes and the `intelligent` strategy loads. */
export interface RouterModelArtifact {
  format: typeof ROUTER_MODEL_FORMAT;
  version: 1;
  createdAt: string;
  /** Model names, in the order of the predictor's outputs. */
  models: string[];
  /** Two-model data: which output is the weak and which the strong model. */
  pair?: { weak: number; strong: number };
  features: FeatureSpec;
  predictor: PredictorState;
  cost?: CostModel;
  /** Predicted quality of a sample of training prompts (rows), to calibrate lambda to a target share. */
  calibration: number[][];
  /** Where it came from and how the candidates did on the validation part of the training data. */
  training: {
    data: string;
    examples: number;
    tasks: string[];
    validation: Array<{ kind: PredictorKind; metric: string; value: number }>;
    chosen: PredictorKind;
    /**
     * The training prompts' fingerprint (`promptDigest`): `router eval --model` leaves out the prompts the model
     * trained on. Absent in models written before it.
     */
    promptDigest?: string;
    /** Bag size (`--bag`): the predictor averages this many members trained with different seeds. */
    bag?: number;
    /** The augmentation block's kinds and the difficulty model's data and overlap counts (`--augment`). */
    augment?: { kinds: string[]; difficulty?: AugmentReport; multitask?: { kept: number; dropped: number; droppedByFullText: number; droppedByStemOnly: number }; infold?: Array<InfoldFoldReport & { fold: string }> };
  };
}

/** A loaded router model: predicted quality (and cost) per model for a prompt. */
export class RouterModel {
  readonly predictor: QualityPredictor;
  readonly models: readonly string[];
  private readonly index: Map<string, number>;

  constructor(readonly artifact: RouterModelArtifact) {
    if (artifact?.format !== ROUTER_MODEL_FORMAT) {
      throw new LLMError({ code: 'invalid_request', message: `Not a router model (format is ${JSON.stringify(artifact?.format)}, expected "${ROUTER_MODEL_FORMAT}")`, param: 'format' });
    }
    if (artifact.version !== 1) throw new LLMError({ code: 'invalid_request', message: `Unsupported router model version ${String(artifact.version)} (expected 1)`, param: 'version' });
    // Sizes first: a predictor that does not fit the features predicts NaN, one with short arrays reads them shifted.
    checkPredictorState(artifact.predictor, checkFeatureSpec(artifact.features));
    this.predictor = loadPredictor(artifact.predictor);
    this.models = artifact.models;
    if (this.predictor.outputs !== this.models.length) {
      throw new LLMError({ code: 'invalid_request', message: `Router model has ${this.models.length} models but its predictor has ${this.predictor.outputs} outputs`, param: 'predictor' });
    }
    const sized = (field: string, a: unknown) => {
      if (!Array.isArray(a) || a.length !== this.models.length) {
        throw new LLMError({ code: 'invalid_request', message: `Router model ${field}: expected ${this.models.length} values (one per model), got ${Array.isArray(a) ? a.length : JSON.stringify(a)}`, param: field });
      }
    };
    if (artifact.cost) {
      sized('cost.intercept', artifact.cost.intercept);
      sized('cost.perToken', artifact.cost.perToken);
      // null: a model the training data had no cost for (unknown, not free); text would concatenate into the cost.
      numbers('cost.intercept', artifact.cost.intercept, this.models.length, 'intercept (one per model)', true);
      numbers('cost.perToken', artifact.cost.perToken, this.models.length, 'perToken (one per model)', true);
    }
    if (!Array.isArray(artifact.calibration)) throw new LLMError({ code: 'invalid_request', message: 'Router model calibration: expected an array of rows', param: 'calibration' });
    artifact.calibration.forEach((row, i) => {
      sized(`calibration.${i}`, row);
      numbers(`calibration.${i}`, row, this.models.length, 'a calibration row');
    });
    this.index = new Map(this.models.map((m, i) => [m, i]));
  }

  /** True when the features need a prompt embedding (then pass it to `predict`). */
  get needsEmbedding(): boolean {
    const f = this.artifact.features;
    return f.embedding !== undefined || f.augment?.difficulty?.features.embedding !== undefined;
  }

  indexOf(model: string): number | undefined {
    return this.index.get(model);
  }

  /** Predicted probability of a good answer per model (order of `models`). */
  predict(prompt: string, embedding?: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.predictor.predict(featurize(this.artifact.features, prompt, embedding), out);
  }

  /** Expected cost per model from the training data's costs, when it had any. */
  predictCost(prompt: string): number[] | undefined {
    return this.artifact.cost ? predictCost(this.artifact.cost, prompt) : undefined;
  }
}

/** Parses and checks an artifact from JSON text. */
export function parseRouterModel(text: string, source = 'router model'): RouterModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LLMError({ code: 'invalid_json', message: `${source} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, param: 'model' });
  }
  return new RouterModel(json as RouterModelArtifact);
}

/** Reads an artifact from a file (Node only; the import of node:fs happens here). */
export async function loadRouterModel(file: string): Promise<RouterModel> {
  const { readFile, stat } = await import('node:fs/promises');
  let text: string;
  try {
    // A named pipe (or a device) would be read for ever, waiting on a writer: a model file is a file.
    if (!(await stat(file)).isFile()) {
      throw new LLMError({ code: 'invalid_request', message: `Router model ${file} is not a regular file (a folder, a named pipe, a device or a socket): give the model's JSON file (written by llmrr router train --out)`, param: 'model' });
    }
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (LLMError.isInstance(e)) throw e;
    throw new LLMError({ code: 'invalid_request', message: `Router model file not found: ${file} (train one with: llmrr router train --data <dir> --out <file>)`, param: 'model' });
  }
  return parseRouterModel(text, file);
}
