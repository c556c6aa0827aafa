import { truncateForEmbedding, USE_LITE_MAX_CHARS } from '../../embeddings/local-use-embedder.js';
import { sharedLocalUseEmbedder } from '../../embeddings/shared-local-use-embedder.js';
import { EMOJI, useLiteTokenizerLoader } from '../../embeddings/use-lite-coverage.js';
import { LLMError } from '../../errors/llm-error.js';
import { toLLMError } from '../../errors/to-llm-error.js';
import { USE_LITE } from '../../learning/features/use-lite-embedder.js';
import { featurize } from '../../learning/features/feature-pipeline.js';
import { promptText } from '../../learning/prompt-text.js';
import { calibrateLambda } from '../../learning/training/calibrate-lambda.js';
import type { RouterModel } from '../../learning/training/router-model.js';
import type { Deployment, RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { safeWarn } from '../../util/safe-warn.js';
import { byScoreThenPriority, checkOptionNames, expectedCostUsd, expectedRates, observedLatency } from './util.js';

/** Options of `intelligent` (`routing.options.intelligent` in the config, or per call). */
export interface IntelligentOptions {
  /** A loaded router model, or the path of one (`llmrr router train --out`), loaded on first use (Node). */
  model?: RouterModel | string;
  /** Quality points given up per USD of expected cost. Default 0 (best predicted quality). */
  lambda?: number;
  /** Instead of lambda: the share (0..1; else the config is refused, `config_invalid`, and a call's option is `invalid_request`) of calls the strongest candidate should get; lambda is calibrated on the model's calibration prompts. */
  strongShare?: number;
  /** Quality points given up per millisecond of observed latency. Default 0. */
  mu?: number;
  /** Drop candidates whose expected cost (USD) exceeds this, or cannot be known (no price, none in the router model). */
  maxCostUsd?: number;
  /** Drop candidates whose observed latency (ms) exceeds this (unmeasured ones stay). */
  maxLatencyMs?: number;
  /**
   * Drop candidates whose predicted quality is below this. Refused with a router model whose predictor is `gain` or
   * `gain-mlp` (its two outputs are not probabilities of a good answer: only their difference means anything).
   */
  minQuality?: number;
  /** Deployment name -> model name in the router model (default: the deployment's provider model id, then its name). */
  models?: Record<string, string>;
  /**
   * Embeds the prompt, for router models trained with embeddings (then ranking is async). Without it, a model trained
   * by `llmrr router train --embeddings` (Universal Sentence Encoder lite, `use-lite`, 512-d) is embedded the same way
   * in process (`LocalUseEmbedder`: the optional `@energetic-ai` packages); a model of other embeddings is refused
   * when the router is built (`config_invalid` from `ready()`).
   */
  embed?: (text: string) => Promise<ArrayLike<number>>;
}

/** One candidate's prediction, as explain shows it. */
export interface IntelligentPrediction {
  deployment: Deployment;
  quality: number;
  /** True when the quality came from the router model (false: the deployment's static `quality`, else 0.5). */
  learned: boolean;
  /** Expected cost; for a deployment whose price is unknown, that of the most expensive candidate with a known one (0 if none). */
  costUsd: number;
  /** False when neither a price nor the router model gives the cost (`costUsd` is then the stand-in above). */
  costKnown: boolean;
  latencyMs: number | undefined;
}

/** A numeric option, if given; `param` names it in the error (a call's `strategyOptions` by default). */
function num(o: Record<string, unknown>, k: string, param = `strategyOptions.${k}`): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LLMError({ code: 'invalid_request', message: `intelligent: option "${k}" must be a finite number (got ${JSON.stringify(v)})`, param });
  if (k === 'strongShare' && !(v >= 0 && v <= 1)) {
    throw new LLMError({ code: 'invalid_request', message: `intelligent: option "strongShare" is a share of the calls, from 0 to 1 (got ${v}; 30% is 0.3)`, param });
  }
  return v;
}

const NUMERIC_OPTIONS = ['lambda', 'strongShare', 'mu', 'maxCostUsd', 'maxLatencyMs', 'minQuality'] as const;
/** Every option `intelligent` reads. */
const INTELLIGENT_OPTIONS: readonly string[] = [...NUMERIC_OPTIONS, 'model', 'models', 'embed'];

/**
 * Checks `intelligent`'s options (those `adaptive` shares too: `model`, `models`, `embed`) without loading a model:
 * throws `invalid_request` whose `param` is the option's name (the router turns it into `config_invalid` naming
 * `routing.options.<strategy>.<name>` for its config).
 */
export function checkIntelligentOptions(o: Record<string, unknown>, keys: readonly string[] = NUMERIC_OPTIONS): void {
  for (const k of keys) num(o, k, k);
  const model = o['model'];
  if (model !== undefined && typeof model !== 'string' && !(typeof model === 'object' && model !== null && typeof (model as RouterModel).predict === 'function')) {
    throw new LLMError({ code: 'invalid_request', message: 'intelligent: option "model" must be a router model or the path of one', param: 'model' });
  }
  const models = o['models'];
  if (models !== undefined && (typeof models !== 'object' || models === null || Object.values(models).some((m) => typeof m !== 'string'))) {
    throw new LLMError({ code: 'invalid_request', message: 'intelligent: option "models" must map deployment names to model names', param: 'models' });
  }
  if (o['embed'] !== undefined && typeof o['embed'] !== 'function') {
    throw new LLMError({ code: 'invalid_request', message: 'intelligent: option "embed" must be a function', param: 'embed' });
  }
}

/** The embedding a router model's features need (its own block's, else its difficulty model's), if any. */
function embeddingOf(model: RouterModel): { dim: number; model: string } | undefined {
  const f = model.artifact.features;
  return f.embedding ?? f.augment?.difficulty?.features.embedding;
}

/**
 * The share of a prompt's letters and emoji USE lite's vocabulary covers (inside multi-character pieces:
 * `EmbedderCoverage.covered`) below which `explain` says a router model trained on USE lite embeddings reads the
 * prompt poorly (the note and the factor `promptCoverage`). USE lite's vocabulary is English word pieces: a Chinese,
 * Japanese, Russian or Greek prompt is mostly its unknown id, so such prompts get nearly one vector. The learned
 * prediction is kept for them: on CMMLU / C-Eval it chose better models than each model's base rate whether the router
 * model was trained with Chinese prompts or not, as well as (within 0.01) a stored replacement embedding or per-model
 * means over such training prompts when it was, and better than both when it was not (docs/routing.md).
 * Measured 2026-11-29 on the shared routing data (prompts as given): of 4 821 Chinese
 * CMMLU / C-Eval prompts 4 753 are below 0.5 (median 0.00); of 8 181 English exam, maths and code prompts 3 (formulas of
 * one-letter variables; none of them has a letter outside the Latin script, so none is measured: `NOT_LATIN`).
 */
export const MIN_PROMPT_COVERAGE = 0.5;

/**
 * A character outside the Latin script and the characters common to all scripts, or an emoji (`EMOJI`: Script=Common,
 * and USE lite's vocabulary mostly lacks them): only a prompt with one is measured. Not the text symbols that are
 * pictographs too (U+00A9, U+00AE, U+2122, arrows, check marks): an English prompt with them is not measured.
 */
const NOT_LATIN = new RegExp(`[^\\p{Script=Latin}\\p{Script=Common}\\p{Script=Inherited}]|${EMOJI.source}`, 'u');

/**
 * A character outside Basic Latin to Latin Extended-B and General Punctuation (curly quotes, dashes, U+2026), all of
 * whose characters are Latin or common to all scripts and none an emoji on its own: a text without one is not tested
 * with `NOT_LATIN`. A plain class, ~20 times faster than `NOT_LATIN` on a text with a character past U+00FF.
 */
const PAST_LATIN_BLOCKS = /[^\u0000-\u024F\u2000-\u2064\u2066-\u206F]/;

/**
 * Whether the part of `text` USE lite reads (its first `USE_LITE_MAX_CHARS` characters) has a character `NOT_LATIN`
 * matches, so a pasted 180 000-character English file is tested on what the tokenizer would measure, not whole. V8
 * answers a text of only U+0000-U+00FF at once (no character of one can match: ~0.05 us at any length); on one with a
 * character past it (a curly quote), `NOT_LATIN` walks it (Unicode property classes, the emoji alternatives), so
 * `PAST_LATIN_BLOCKS` is tested first. Measured 2026-11-29 (2 cores, load average 16): English with a curly quote,
 * 130 characters 7 us and 8 000 characters 355 us with `NOT_LATIN` alone, 0.4 us and 18 us with this.
 */
function mayNotBeLatin(text: string): boolean {
  const read = text.length > USE_LITE_MAX_CHARS ? text.slice(0, USE_LITE_MAX_CHARS) : text;
  return PAST_LATIN_BLOCKS.test(read) && NOT_LATIN.test(read);
}

/**
 * The share of `text` USE lite's vocabulary covers when it is below `MIN_PROMPT_COVERAGE` (the prompt's embedding tells
 * it little from others); undefined when it is not, when the text is Latin-script only (not measured: a regular
 * expression test, not a tokenizer run), or when the coverage is not known (the vocabulary not loaded yet: `prepare` and
 * `rank` load it; or the package not installed).
 */
function lowPromptCoverage(text: string, notLatin = mayNotBeLatin(text)): number | undefined {
  if (!notLatin) return undefined;
  // The tokenizer only (~0.25 ms for a 130-character prompt), not the shared embedder's coverage, which also runs its
  // language detector (0.8-1.3 ms), and whose prepare loads it (eld: +33 MB of heap), for nothing the router reads.
  const c = useLiteTokenizerLoader().get()?.coverage(truncateForEmbedding(text.normalize('NFKC'), USE_LITE_MAX_CHARS));
  if (!c || c.characters === 0) return undefined;
  const share = c.covered / c.characters;
  return share < MIN_PROMPT_COVERAGE ? share : undefined;
}

/** Where a strategy's router model is configured (errors about the configured model name it), and its name. */
interface ModelNaming {
  strategy: string;
  param: string;
  /** The factory's `defaults` come from code, not from the config (adaptive's constructor): errors do not name `param`. */
  codeDefaults?: true;
}

const INTELLIGENT_NAMING: ModelNaming = { strategy: 'intelligent', param: 'routing.options.intelligent.model' };
const ADAPTIVE_NAMING: ModelNaming = { strategy: 'adaptive', param: 'routing.options.adaptive.model', codeDefaults: true };

/**
 * Why `minQuality` cannot apply to `model`'s predictions, or undefined when it can: a `gain` / `gain-mlp` predictor
 * learns the strong model's gain over the weak one, and writes (1 + gain) / 2 and (1 - gain) / 2 as the two qualities:
 * not calibrated probabilities of a good answer, so no quality floor means anything on them.
 */
export function minQualityRefusal(model: RouterModel): string | undefined {
  const kind = model.predictor.kind;
  if (kind !== 'gain' && kind !== 'gain-mlp') return undefined;
  return `minQuality needs predicted qualities that are probabilities of a good answer, but the router model's predictor is "${kind}": its outputs are (1 + gain) / 2 and (1 - gain) / 2, not calibrated (only their difference, the strong model's predicted gain, means anything); drop minQuality (lambda and strongShare still rank by the gain) or train the model with another predictor`;
}

/** The artifact output index serving deployment `d`, if the model knows it. */
function modelIndex(model: RouterModel, d: Deployment, mapping: Record<string, string> | undefined): number | undefined {
  // An own entry only: a deployment named "constructor" is not mapped to Object.prototype's function.
  const mapped = mapping && Object.hasOwn(mapping, d.name) ? mapping[d.name] : undefined;
  if (mapped !== undefined) return model.indexOf(mapped);
  return model.indexOf(d.config.model ?? d.name) ?? model.indexOf(d.name);
}

/**
 * `intelligent`: per prompt, predicted quality (the learned router model; a deployment it does not know
 * uses its configured `quality`, else 0.5) minus lambda x expected cost (tokens x price) minus mu x
 * observed latency, under maxCostUsd / maxLatencyMs / minQuality constraints. Lambda is given, or
 * calibrated so the strongest candidate gets `strongShare` of the calls (RouteLLM-style thresholds).
 * A deployment whose cost cannot be known (no configured or table price, not in the router model's costs)
 * never passes `maxCostUsd` and is costed as the most expensive candidate with a known cost, never as free.
 * A candidate whose predicted quality is not a finite number is never ranked.
 * Synchronous unless the model needs an embedding or has to be loaded from a file (`prepare` loads the config's
 * file when the router is built).
 */
export function createIntelligentStrategy(defaults: IntelligentOptions = {}): Strategy {
  return buildIntelligent(defaults, INTELLIGENT_NAMING);
}

/**
 * `adaptive`'s cold-start prior: `intelligent` over `defaults` (the `AdaptiveStrategy` constructor's, from code) whose
 * `prepare` takes `routing.options.adaptive`: a model file named there that cannot be used is `config_invalid` naming
 * `routing.options.adaptive.model` (from `ready()` and calls); one given in code is `config_invalid` on option "model".
 */
export function createAdaptivePrior(defaults: Pick<IntelligentOptions, 'model' | 'models'>): Strategy {
  return buildIntelligent(defaults, ADAPTIVE_NAMING);
}

function buildIntelligent(defaults: IntelligentOptions, naming: ModelNaming): Strategy {
  const checkOptions = (o: Record<string, unknown>): void => {
    checkOptionNames('intelligent', o, INTELLIGENT_OPTIONS);
    checkIntelligentOptions(o);
  };
  checkOptions(defaults as Record<string, unknown>);
  const loaded = new Map<string, RouterModel>();
  const loading = new Map<string, Promise<RouterModel>>();
  /**
   * Models (paths, loaded ones) of the config (`prepare`; `defaults` unless they come from code): a failure of one
   * names the config's field (`naming.param`), another's option "model".
   */
  const configured = new Set<unknown>(defaults.model !== undefined && !naming.codeDefaults ? [defaults.model] : []);
  /** Why `spec` (a model option) cannot be used: `config_invalid` naming the config's field when it is the config's. */
  const modelError = (spec: unknown, message: string, cause?: unknown): LLMError => {
    const c = cause !== undefined ? { cause } : {};
    if (configured.has(spec)) return new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${naming.param}: ${message}`, param: naming.param, ...c });
    return new LLMError({ code: 'config_invalid', message: `${naming.strategy}: router model (option "model"): ${message}`, param: 'model', ...c });
  };
  /**
   * The prompt embedder for `model` when the call gives none: USE lite as `router train --embeddings` used (the
   * process's one stack, shared with the semantic cache's `local-use`: one model copy, one embedding cache), else none.
   */
  const builtinEmbed = (model: RouterModel): ((text: string, tenant?: string) => Promise<ArrayLike<number>>) | undefined => {
    const e = embeddingOf(model);
    if (e?.model !== USE_LITE.model || e.dim !== USE_LITE.dim) return undefined;
    const embedder = sharedLocalUseEmbedder();
    // In the call's tenant's partition of the shared cache: how fast a prompt is ranked never tells a tenant that
    // another just sent it.
    return (text, tenant) => (tenant !== undefined ? embedder.embed([text], { partition: tenant }) : embedder.embed([text])).then((v) => v[0]!);
  };
  /** Why the router cannot embed prompts for `model` (it needs embeddings, no `embed` is given, they are not USE lite). */
  const notEmbeddable = (spec: unknown, model: RouterModel): LLMError => {
    const e = embeddingOf(model);
    const source = typeof spec === 'string' ? `the router model ${spec}` : 'the router model';
    return modelError(
      spec,
      `${source} was trained with "${e?.model}" prompt embeddings (${e?.dim}-d), which the router cannot compute: give the "embed" option (a function: createIntelligentStrategy({ embed }) in code, not possible in a config file), or train with "llmrr router train --embeddings" (USE lite, embedded in process) or without embeddings`,
    );
  };
  /** The config's own options (`routing.options.<strategy>`, given to `prepare`): an error about them names the config's field. */
  let configOptions: Record<string, unknown> = {};
  /**
   * `minQuality` with a model whose outputs are not probabilities: refused, naming whichever of the two the call gave
   * (`strategyOptions.minQuality`, else `strategyOptions.model`: an `invalid_request`); when both are the server's
   * (the config's `routing.options.<strategy>`, or the strategy's options in code), `config_invalid` naming the config's
   * `minQuality`, or option "minQuality" when code gave it: `prepare` checks the merged options, so `ready()` fails.
   */
  const checkMinQuality = (o: Record<string, unknown>, model: RouterModel): void => {
    const minQuality = o['minQuality'];
    if (minQuality === undefined) return;
    const why = minQualityRefusal(model);
    if (why === undefined) return;
    /** Whether `o[key]` is the server's: the config's value, else (the config has none) the code's. */
    const servers = (key: 'minQuality' | 'model'): boolean =>
      configOptions[key] !== undefined ? o[key] === configOptions[key] : o[key] === (defaults as Record<string, unknown>)[key];
    if (!servers('minQuality')) throw new LLMError({ code: 'invalid_request', message: `${naming.strategy}: ${why}`, param: 'strategyOptions.minQuality' });
    if (!servers('model')) {
      throw new LLMError({ code: 'invalid_request', message: `${naming.strategy}: the router model given as strategyOptions.model cannot serve this server's minQuality (${String(minQuality)}): ${why.replace(/; drop minQuality .*$/, '')}; give a model with another predictor, or leave strategyOptions.model out`, param: 'strategyOptions.model' });
    }
    if (configOptions['minQuality'] !== undefined) {
      const param = naming.param.replace(/\.model$/, '.minQuality');
      throw new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${param}: ${why}`, param });
    }
    throw new LLMError({ code: 'config_invalid', message: `${naming.strategy}: option "minQuality" (given in code): ${why}`, param: 'minQuality' });
  };
  /** Calibrated lambda units, per router model (a key names outputs of one model's calibration prompts). */
  const lambdaCaches = new WeakMap<RouterModel, Map<string, number>>();

  const resolveModel = (spec: unknown): RouterModel | Promise<RouterModel> | undefined => {
    if (spec === undefined) return undefined;
    if (typeof spec === 'string') {
      const hit = loaded.get(spec);
      if (hit) return hit;
      let p = loading.get(spec);
      if (!p) {
        p = import('../../learning/training/router-model.js').then((m) => m.loadRouterModel(spec)).then((m) => {
          loaded.set(spec, m);
          loading.delete(spec);
          return m;
        }, (e: unknown) => {
          // Not kept: a file fixed later loads on the next call.
          loading.delete(spec);
          // A file on the server is the operator's mistake (a logged 5xx, the message with the path hidden from clients
          // by the gateway), never the caller's 400: the config's model names its field; another (a call's own
          // `strategyOptions.model`, one given in code to `adaptive`) is `config_invalid` on option "model".
          throw modelError(spec, toLLMError(e).message, e);
        });
        loading.set(spec, p);
      }
      return p;
    }
    if (typeof spec === 'object' && spec !== null && typeof (spec as RouterModel).predict === 'function') return spec as RouterModel;
    throw new LLMError({ code: 'invalid_request', message: 'intelligent: option "model" must be a router model or the path of one', param: 'strategyOptions.model' });
  };

  /** `lowCoverage`: the prompt's USE lite coverage when it is low (`lowPromptCoverage`): said in `explain`, the prediction unchanged. */
  const rankWith = (ctx: StrategyContext, o: Record<string, unknown>, model: RouterModel | undefined, embedding: ArrayLike<number> | undefined, lowCoverage?: number): RankedCandidate[] => {
    const mapping = o['models'] as Record<string, string> | undefined;
    const mu = num(o, 'mu') ?? 0;
    const maxCost = num(o, 'maxCostUsd');
    const maxLatency = num(o, 'maxLatencyMs');
    const minQuality = num(o, 'minQuality');
    const strongShare = num(o, 'strongShare');
    let predicted: Float64Array | undefined;
    /** That the prompt's embedding says little (its coverage low), for `explain`: the learned prediction is kept (docs/routing.md). */
    const coverageNote =
      model && lowCoverage !== undefined
        ? `prompt coverage ${round(lowCoverage)} < ${MIN_PROMPT_COVERAGE} (mostly outside USE lite's English vocabulary: its embedding tells it little from other such prompts, so the prediction rests on its other features and on what the model learned of such prompts)`
        : undefined;
    if (model) {
      const text = promptText(ctx.request);
      predicted = model.predictor.predict(featurize(model.artifact.features, text, embedding));
    }
    const n = ctx.candidates.length;
    const preds: IntelligentPrediction[] = new Array(n);
    const idx: Array<number | undefined> = new Array(n);
    let artifactCost: number[] | undefined;
    let dearest = 0;
    let unknown = false;
    for (let i = 0; i < n; i++) {
      const d = ctx.candidates[i]!;
      const k = model ? modelIndex(model, d, mapping) : undefined;
      idx[i] = k;
      let cost = expectedCostUsd(d, ctx);
      if (cost === undefined && k !== undefined && model?.artifact.cost) {
        artifactCost ??= model.predictCost(promptText(ctx.request));
        const c = artifactCost?.[k];
        // NaN: the training data had no cost for this model (unknown, not free).
        if (c !== undefined && Number.isFinite(c)) cost = c;
      }
      if (cost === undefined) unknown = true;
      else if (cost > dearest) dearest = cost;
      preds[i] = {
        deployment: d,
        quality: k !== undefined && predicted ? predicted[k]! : (d.config.quality ?? 0.5),
        learned: k !== undefined && predicted !== undefined,
        costUsd: cost ?? 0,
        costKnown: cost !== undefined,
        latencyMs: observedLatency(ctx, d.name),
      };
    }
    // An unknown cost is not a free one: it costs what the dearest known candidate does.
    if (unknown) for (const p of preds) if (!p.costKnown) p.costUsd = dearest;
    let lambda = num(o, 'lambda') ?? 0;
    /** Why strongShare could not be applied as configured (a note on every candidate, a warning once). */
    let shareNote: string | undefined;
    let staticInShare = false;
    if (strongShare !== undefined) {
      let why: string | undefined;
      if (!model) why = 'no router model to calibrate lambda on';
      else if (model.artifact.calibration.length === 0) why = 'the router model has no calibration prompts';
      else {
        let cache = lambdaCaches.get(model);
        if (!cache) lambdaCaches.set(model, (cache = new Map()));
        const calibrated = calibratedLambda(model, idx, preds, strongShare, cache);
        if (calibrated === undefined) why = 'no candidate has an expected cost';
        else lambda = calibrated;
        // A deployment the model does not know (renamed, added, a `models` typo) takes part with its static quality.
        if (idx.includes(undefined)) {
          staticInShare = true;
          // Warned once per deployment and model: the message is built only for one not warned about yet.
          let seen = staticWarned.get(model);
          if (!seen) staticWarned.set(model, (seen = new WeakSet()));
          if (preds.some((p, i) => idx[i] === undefined && !seen.has(p.deployment))) {
            const unknown = preds.filter((_, i) => idx[i] === undefined).map((p) => p.deployment);
            for (const d of unknown) seen.add(d);
            warnOnce(ctx.warn, `intelligent: strongShare ${strongShare} is calibrated with the static quality (config "quality", else 0.5) of ${unknown.map((d) => `"${d.name}"`).join(', ')}, not in the router model: map ${unknown.length > 1 ? 'them' : 'it'} to a model it knows (routing.options.intelligent.models) or retrain`);
          }
        }
      }
      if (why !== undefined) {
        shareNote = `strongShare ${strongShare} not applied (${why}): lambda ${lambda}`;
        warnOnce(ctx.warn, `intelligent: ${shareNote}`);
      }
    }
    const out: RankedCandidate[] = [];
    const kind = model?.predictor.kind;
    const gainKind = kind === 'gain' || kind === 'gain-mlp' ? kind : undefined;
    for (let i = 0; i < n; i++) {
      const p = preds[i]!;
      const why = constraintFailed(p, maxCost, maxLatency, minQuality);
      if (why !== undefined) {
        const left: { name: string; reason: string; param?: string } = { name: p.deployment.name, reason: `intelligent: ${why}` };
        // Over the cost cap at a known cost: the request's own size (a smaller one would pass), a 400 naming it when
        // it holds for every candidate (plan-route) - not the deployments' state. A router-model cost
        // (intercept + perToken x prompt tokens) whose fixed part alone is over the cap is the config's: no request passes.
        if (why.startsWith('maxCostUsd') && p.costKnown) {
          const rates = expectedRates(p.deployment, ctx);
          if (rates) {
            const param = (ctx.estimatedInputTokens * rates.input) / 1e6 > maxCost! ? 'messages' : 'maxTokens';
            left.param = param;
            left.reason += ` for ~${ctx.estimatedInputTokens} input + ${ctx.expectedOutputTokens} output tokens (${param === 'messages' ? 'the prompt alone is over the cap' : 'lower maxTokens to fit'})`;
          } else {
            const k = idx[i];
            const fixed = k !== undefined ? model?.artifact.cost?.intercept[k] : undefined;
            if (typeof fixed === 'number' && fixed <= maxCost!) {
              left.param = 'messages';
              left.reason += ' for this prompt (its router-model cost: a shorter prompt costs less)';
            } else left.reason += ` whatever the prompt (its router-model cost${typeof fixed === 'number' ? `, ${round(fixed)} USD before any prompt token` : ''})`;
          }
        }
        (ctx.leftOut ??= []).push(left);
        continue;
      }
      const score = p.quality - lambda * p.costUsd - mu * (p.latencyMs ?? 0);
      const factors: Record<string, number> = { predictedQuality: p.quality, expectedCostUsd: p.costUsd, lambda, score };
      if (p.latencyMs !== undefined) factors['latencyMs'] = p.latencyMs;
      if (mu) factors['mu'] = mu;
      if (lowCoverage !== undefined) factors['promptCoverage'] = round(lowCoverage);
      const r: RankedCandidate = { deployment: p.deployment, score, factors };
      const notes: string[] = [];
      if (coverageNote !== undefined) notes.push(coverageNote);
      if (p.learned && gainKind !== undefined) notes.push(`predictedQuality from a "${gainKind}" router model: (1 ± the strong model's predicted gain) / 2, not a probability of a good answer`);
      if (!p.learned) notes.push(model ? `not in the router model: static quality${staticInShare ? ' (strongShare calibrated with it)' : ''}` : 'no router model: static quality');
      if (!p.costKnown) notes.push('price unknown: costed as the dearest known candidate');
      if (shareNote !== undefined) notes.push(shareNote);
      if (notes.length > 0) r.note = notes.join('; ');
      out.push(r);
    }
    return out.sort(byScoreThenPriority);
  };

  return {
    name: 'intelligent',
    description: 'Learned per-prompt quality minus lambda x expected cost (minus mu x latency), under cost/latency/quality constraints.',
    checkOptions,
    /**
     * Loads the config's router model file when the router is built (`ready()` and `fromConfig` wait for it; calls
     * share the load), and checks the router can embed prompts for it (warming USE lite when it is the embedder):
     * a missing or broken file, or embeddings the router cannot compute, is `config_invalid` naming
     * `routing.options.intelligent.model` (`adaptive`'s prior: `routing.options.adaptive.model`).
     */
    prepare(options: Record<string, unknown>): Promise<void> | void {
      const o: Record<string, unknown> = { ...defaults, ...options };
      configOptions = options;
      const spec = o['model'];
      if (options['model'] !== undefined) configured.add(spec);
      const m = resolveModel(spec);
      const check = (model: RouterModel | undefined): Promise<void> | void => {
        if (!model) return;
        // The merged options: a minQuality given in code (createIntelligentStrategy's) fails here too, not every call.
        checkMinQuality(o, model);
        if (!model.needsEmbedding || typeof o['embed'] === 'function') return;
        const embed = builtinEmbed(model);
        if (!embed) throw notEmbeddable(spec, model);
        // With the model, the vocabulary the prompt's coverage is read with (`lowPromptCoverage`; never rejects).
        const vocabulary = useLiteTokenizerLoader().ready();
        return Promise.all([embed('warm up'), vocabulary]).then(() => undefined, (e: unknown) => {
          throw modelError(spec, `the router model needs USE lite prompt embeddings, which cannot be computed here: ${toLLMError(e).message}`, e);
        });
      };
      return m instanceof Promise ? m.then(check) : check(m);
    },
    rank(ctx: StrategyContext): RankedCandidate[] | Promise<RankedCandidate[]> {
      const o: Record<string, unknown> = { ...defaults, ...ctx.options };
      const m = resolveModel(o['model']);
      const given = o['embed'] as IntelligentOptions['embed'];
      const go = (model: RouterModel | undefined): RankedCandidate[] | Promise<RankedCandidate[]> => {
        if (model) checkMinQuality(o, model);
        if (model?.needsEmbedding) {
          if (typeof given === 'function') return given(promptText(ctx.request)).then((e) => rankWith(ctx, o, model, e));
          const embed = builtinEmbed(model);
          if (!embed) throw notEmbeddable(o['model'], model);
          const text = promptText(ctx.request);
          // A prompt USE lite mostly cannot read is embedded and predicted as any other (measured better than the
          // model's base rates, no worse than a replacement embedding: docs/routing.md); `explain` says its coverage is low.
          // The vocabulary is awaited with the embedding (a no-op once loaded; `ready()` never rejects), so the note
          // does not depend on whether `prepare` ran or finished (a per-call `strategyOptions.model` is not prepared).
          const notLatin = mayNotBeLatin(text);
          const vocabulary = notLatin ? useLiteTokenizerLoader().ready() : undefined;
          return Promise.all([embed(text, ctx.tenant), vocabulary]).then(([e]) => rankWith(ctx, o, model, e, lowPromptCoverage(text, notLatin)));
        }
        return rankWith(ctx, o, model, undefined);
      };
      return m instanceof Promise ? m.then(go) : go(m);
    },
  };
}

/** Which constraint a prediction fails, as a reason for `explain` and errors (undefined: it passes them all). */
function constraintFailed(p: IntelligentPrediction, maxCost: number | undefined, maxLatency: number | undefined, minQuality: number | undefined): string | undefined {
  // A non-finite prediction (a damaged model) is no basis for a choice: NaN passes no comparison.
  if (!Number.isFinite(p.quality)) return `predicted quality is not a number (${p.quality})`;
  if (maxCost !== undefined && !p.costKnown) return `maxCostUsd ${maxCost}: expected cost unknown (no price)`;
  if (maxCost !== undefined && p.costUsd > maxCost) return `maxCostUsd ${maxCost}: expected cost ${round(p.costUsd)} USD`;
  if (maxLatency !== undefined && p.latencyMs !== undefined && p.latencyMs > maxLatency) return `maxLatencyMs ${maxLatency}: observed latency ${Math.round(p.latencyMs)} ms`;
  if (minQuality !== undefined && !(p.quality >= minQuality)) return `minQuality ${minQuality}: predicted quality ${round(p.quality)}${p.learned ? '' : ' (static)'}`;
  return undefined;
}

/** Deployments (by router model) already named by the strongShare static-quality warning. */
const staticWarned = new WeakMap<RouterModel, WeakSet<Deployment>>();

/** Warnings already given to `console.warn` (`warnOnce` without a router `warn`): once per process. */
const warnedOnConsole = new Set<string>();
/** Warnings already given, per router `warn` function (`StrategyContext.warn`): once per router with a log. */
const warnedBy = new WeakMap<(message: string) => void, Set<string>>();

/**
 * Tells `message` to the router's `warn` (`StrategyContext.warn`), else `console.warn`, the first time that one hears
 * it, so a condition met on every call is logged once (at most 1 000 messages kept per log).
 */
function warnOnce(warn: ((message: string) => void) | undefined, message: string): void {
  let warned = warn ? warnedBy.get(warn) : warnedOnConsole;
  if (!warned) warnedBy.set(warn!, (warned = new Set()));
  if (warned.has(message)) return;
  if (warned.size >= 1000) warned.clear();
  warned.add(message);
  // A log that throws (or rejects) never fails the call it warns about.
  safeWarn(warn ?? console.warn)(`[llmrr] ${message}`);
}

function round(v: number): number {
  return Number(v.toPrecision(4));
}

/**
 * Lambda for `share` of the calibration prompts to the strongest candidate; a candidate the model does not know
 * (`idx` undefined) has its static quality on every prompt, as `rank` gives it. Undefined when no candidate has a cost.
 */
function calibratedLambda(model: RouterModel, idx: ReadonlyArray<number | undefined>, preds: IntelligentPrediction[], share: number, cache: Map<string, number>): number | undefined {
  const maxCost = Math.max(...preds.map((p) => p.costUsd));
  if (!(maxCost > 0)) return undefined;
  const rel = preds.map((p) => p.costUsd / maxCost);
  const key = `${share}|${idx.map((k, c) => k ?? `q${preds[c]!.quality}`).join(',')}|${rel.map((r) => r.toFixed(2)).join(',')}`;
  let unit = cache.get(key);
  if (unit === undefined) {
    const rows = model.artifact.calibration.map((row) => idx.map((k, c) => (k !== undefined ? row[k]! : preds[c]!.quality)));
    // Strongest: highest mean predicted quality over the calibration prompts.
    let strongest = 0, best = -Infinity;
    for (let c = 0; c < idx.length; c++) {
      let s = 0;
      for (const r of rows) s += r[c]!;
      if (s > best) {
        best = s;
        strongest = c;
      }
    }
    unit = calibrateLambda(rows, rel, strongest, share);
    if (cache.size > 256) cache.clear();
    cache.set(key, unit);
  }
  return unit / maxCost;
}

/** The `intelligent` strategy with no router model until one is configured (`routing.options.intelligent.model`). */
export const intelligentStrategy: Strategy = createIntelligentStrategy();
