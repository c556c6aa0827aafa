import type { TimeoutsConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { abortError, toLLMError } from '../errors/to-llm-error.js';
import { estimateRequestTokens } from '../pricing/estimate-tokens.js';
import type { GenerateRequest, LanguageEngine } from '../spec/index.js';
import { raceAbort, withTimeout } from '../util/abort.js';
import { matchesName, noDeploymentError, unfitReason, type CandidateQuery, type Exclusion } from './candidates.js';
import type { RouterDeployment } from './deployment.js';
import { impliedCapabilities } from './request.js';
import type { RouterCallOptions } from './types.js';

/** Options of `LLMRouter.countTokens`: the ones of a call that choose its deployment. */
export type CountTokensOptions = Pick<RouterCallOptions, 'model' | 'tenant' | 'allowedModels' | 'region' | 'requiredCapabilities' | 'signal' | 'timeouts'>;

/** What `LLMRouter.countTokens` answers. */
export interface TokenCount {
  /** Prompt tokens of the request. */
  tokens: number;
  /**
   * True when `tokens` is the model's own count (its tokenizer, or the provider's count endpoint: the
   * engine's `countTokensExact`); false for a local estimate.
   */
  exact: boolean;
  /** The deployment that counted. */
  deployment: string;
  /** Its provider model id. */
  model: string;
}

/**
 * The deployment that counts a request's tokens for a call naming `model` (a name or alias; undefined: any
 * deployment), among `all` (the call's view: a tenant's deployments, else the shared ones): the ones a call
 * could be served by (in `allowedModels`, enabled, not embedding-only, in `region`, with the capabilities the
 * request implies), the lowest `priority` first, config order on ties: the head of the `priority` order.
 * The strategy is not asked (round-robin and adaptive keep state a count must not move), and neither are the
 * moment's circuits, limits nor the context window: counting calls no model, and an over-long prompt is
 * exactly what a caller counts to find out. Throws `model_not_found` for a name no allowed deployment
 * carries, `no_deployment` (listing why) when none of them can serve the request.
 */
export function countingDeployment(all: readonly RouterDeployment[], request: GenerateRequest, options: CountTokensOptions): RouterDeployment {
  const { model, allowedModels } = options;
  // The context window is not checked: no input tokens, and the output cap of an absent maxTokens is 0.
  const query: CandidateQuery = { region: options.region, required: impliedCapabilities(request, false, options.requiredCapabilities), estimatedInputTokens: 0 };
  let matched = false;
  let best: RouterDeployment | undefined;
  const excluded: Exclusion[] = [];
  for (const d of all) {
    if (model !== undefined && !matchesName(d, model)) continue;
    // A deployment outside the allow-list matches no name and is never mentioned, as for calls.
    if (allowedModels && !allowedModels.some((name) => matchesName(d, name))) continue;
    matched = true;
    const reason = unfitReason(d, query);
    if (reason !== undefined) excluded.push({ name: d.name, reason });
    else if (best === undefined || d.config.priority < best.config.priority) best = d;
  }
  if (best) return best;
  if (!matched && model !== undefined) {
    const known = all.filter((d) => !allowedModels || allowedModels.some((name) => matchesName(d, name))).map((d) => d.name);
    throw new LLMError({ code: 'model_not_found', message: `No deployment named "${model}" (by name or alias). Known: ${known.join(', ')}`, param: 'model' });
  }
  throw noDeploymentError(excluded, model, 'to count tokens');
}

/**
 * Counts `request` with `d`'s engine: its `countTokens` (`exact` from the engine's `countTokensExact`), else
 * the router's own estimate (`estimateRequestTokens`, `exact: false`). Bounded by `options.signal` and the
 * call's time limit (`timeouts.totalMs`, else `firstTokenMs`: the call's, else the deployment's, else
 * `routing.timeouts`; none when none is set). The engine's count takes no signal: a provider count still
 * running when a bound fires finishes in the background, unread. A failure is the engine's `LLMError`
 * (`timeout` / `aborted` for the bounds), neither retried nor passed to a fallback: a count from another
 * deployment than the one asked for could be off by its tokenizer.
 */
export async function countWith(d: RouterDeployment, request: GenerateRequest, options: CountTokensOptions, routing: TimeoutsConfig): Promise<TokenCount> {
  const context = { provider: d.provider, deployment: d.name };
  const levels = [options.timeouts, d.config.timeouts, routing];
  const timeoutMs = levels.find((t) => t?.totalMs !== undefined)?.totalMs ?? levels.find((t) => t?.firstTokenMs !== undefined)?.firstTokenMs;
  const bound = withTimeout(options.signal, timeoutMs);
  try {
    if (bound?.aborted) throw abortError(bound, context);
    const engine: LanguageEngine = d.engine();
    const answer = { deployment: d.name, model: d.modelId };
    if (typeof engine.countTokens !== 'function') return { tokens: estimateRequestTokens(request), exact: false, ...answer };
    const tokens = await raceAbort(
      Promise.resolve().then(() => engine.countTokens!(request)),
      bound,
    );
    if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 0) {
      throw new LLMError({ code: 'invalid_response', message: `countTokens of deployment "${d.name}" answered ${String(tokens)}, not a token count`, ...context });
    }
    return { tokens, exact: engine.countTokensExact === true, ...answer };
  } catch (e) {
    throw bound?.aborted && !LLMError.isInstance(e) ? abortError(bound, context) : toLLMError(e, context);
  }
}
