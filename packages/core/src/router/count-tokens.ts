import type { TimeoutsConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { abortError, toLLMError } from '../errors/to-llm-error.js';
import { estimateRequestTokens } from '../pricing/estimate-tokens.js';
import type { CountTokensCallOptions, GenerateRequest, LanguageEngine } from '../spec/index.js';
import { raceAbort, withTimeout } from '../util/abort.js';
import { matchesName, noDeploymentError, unfitReason, type CandidateQuery, type Exclusion } from './candidates.js';
import type { RouterDeployment } from './deployment.js';
import { impliedCapabilities } from './request.js';
import type { RouterCallOptions } from './types.js';

/** A place under the caller's limits for one remote count (`CountTokensOptions.admitRemote`). */
export interface RemoteCountPermit {
  /** Gives the place back (a concurrency slot) when the count is done; called once. Must not reject. */
  release(): void | Promise<void>;
}

/** Options of `LLMRouter.countTokens`: the ones of a call that choose its deployment, and the count's own. */
export type CountTokensOptions = Pick<RouterCallOptions, 'model' | 'tenant' | 'allowedModels' | 'region' | 'requiredCapabilities' | 'signal' | 'timeouts'> & {
  /**
   * Answer a local estimate, with no network I/O: the engine's (`countTokens(request, { local: true })`)
   * when it declares `countTokensRemote: true`, else the router's own when its count may be remote. A local
   * count (a tokenizer's: GGUF, ONNX) is still made.
   */
  local?: boolean;
  /**
   * Asked before a count that would do network I/O (an engine with `countTokensRemote` true or absent):
   * resolves with a permit (released when the count ends, whatever its outcome) to count remotely, or with
   * `undefined` to answer the local estimate instead (as with `local`). Absent: remote counts are made.
   */
  admitRemote?: (target: { deployment: string; provider: string }) => Promise<RemoteCountPermit | undefined>;
};

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
 * The time limit of a count on `d`: each of `firstTokenMs` and `totalMs` merged as for a call (the call's,
 * else the deployment's, else `routing.timeouts`), then the smaller of the defined ones (a count is one
 * non-streamed answer: its first token is its whole answer). Undefined when neither is set.
 */
export function countTimeoutMs(d: RouterDeployment, options: CountTokensOptions, routing: TimeoutsConfig): number | undefined {
  const t = options.timeouts;
  const firstTokenMs = t?.firstTokenMs ?? d.config.timeouts?.firstTokenMs ?? routing.firstTokenMs;
  const totalMs = t?.totalMs ?? d.config.timeouts?.totalMs ?? routing.totalMs;
  const defined = [firstTokenMs, totalMs].filter((ms): ms is number => ms !== undefined);
  return defined.length > 0 ? Math.min(...defined) : undefined;
}

/**
 * Counts `request` with `d`'s engine: its `countTokens` (`exact` from the engine's `countTokensExact`), else
 * the router's own estimate (`estimateRequestTokens`, `exact: false`). A count that may do network I/O (the
 * engine's `countTokensRemote` true or absent) is made only without `options.local` and with a permit from
 * `options.admitRemote` (when given; released when the count ends); otherwise the local estimate answers
 * (`exact: false`): the engine's with `local: true` when it declares `countTokensRemote`, else the router's.
 * Bounded by `options.signal` and the count's time limit (`countTimeoutMs`); the engine gets the bounded
 * signal, so a provider count (and its media downloads) is cancelled with the count. A failure is the
 * engine's `LLMError` (`timeout` / `aborted` for the bounds), neither retried nor passed to a fallback: a
 * count from another deployment than the one asked for could be off by its tokenizer.
 */
export async function countWith(d: RouterDeployment, request: GenerateRequest, options: CountTokensOptions, routing: TimeoutsConfig): Promise<TokenCount> {
  const context = { provider: d.provider, deployment: d.name };
  const bound = withTimeout(options.signal, countTimeoutMs(d, options, routing));
  let permit: RemoteCountPermit | undefined;
  try {
    if (bound?.aborted) throw abortError(bound, context);
    const engine: LanguageEngine = d.engine();
    const answer = { deployment: d.name, model: d.modelId };
    if (typeof engine.countTokens !== 'function') return { tokens: estimateRequestTokens(request), exact: false, ...answer };
    let local = false;
    if (engine.countTokensRemote !== false) {
      if (options.local) local = true;
      else if (options.admitRemote) {
        permit = await options.admitRemote({ deployment: d.name, provider: d.provider });
        local = permit === undefined;
      }
      if (bound?.aborted) throw abortError(bound, context);
      // An engine that does not declare `countTokensRemote` may not know `local`: the router's estimate.
      if (local && engine.countTokensRemote !== true) return { tokens: estimateRequestTokens(request), exact: false, ...answer };
    }
    const engineOptions: CountTokensCallOptions = { ...(bound ? { signal: bound } : {}), ...(local ? { local: true } : {}) };
    const tokens = await raceAbort(
      Promise.resolve().then(() => engine.countTokens!(request, engineOptions)),
      bound,
    );
    if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 0) {
      throw new LLMError({ code: 'invalid_response', message: `countTokens of deployment "${d.name}" answered ${String(tokens)}, not a token count`, ...context });
    }
    return { tokens, exact: !local && engine.countTokensExact === true, ...answer };
  } catch (e) {
    throw bound?.aborted && !LLMError.isInstance(e) ? abortError(bound, context) : toLLMError(e, context);
  } finally {
    // The permit's owner handles its own failures (the contract says release does not reject).
    if (permit) await Promise.resolve().then(() => permit!.release()).catch(() => undefined);
  }
}
