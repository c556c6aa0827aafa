import type { TimeoutsConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { abortError, toLLMError } from '../errors/to-llm-error.js';
import { estimateRequestTokens } from '../pricing/estimate-tokens.js';
import type { LLMErrorCode } from '../errors/codes.js';
import type { CountTokensCallOptions, GenerateRequest, LanguageEngine } from '../spec/index.js';
import { raceAbort, withTimeout } from '../util/abort.js';
import { addRefusal, exclusion, matchesName, noCandidateError, unfit, type CandidateQuery, type Exclusion, type Refusal } from './candidates.js';
import type { RouterDeployment } from './deployment.js';
import { impliedCapabilities } from './request.js';
import { isPending } from './resilience/circuit-state-store.js';
import { ownModelError } from './unservable-own-model.js';
import type { RouterCallOptions } from './types.js';

/** A place under the caller's limits for one remote count (`CountTokensOptions.admitRemote`). */
export interface RemoteCountPermit {
  /** Gives the place back (a concurrency slot) when the count is done; called once. Must not reject. */
  release(): void | Promise<void>;
}

/** Options of `LLMRouter.countTokens`: the ones of a call that choose its deployment, and the count's own. */
export type CountTokensOptions = Pick<RouterCallOptions, 'model' | 'tenant' | 'allowedModels' | 'region' | 'requiredCapabilities' | 'signal' | 'timeouts' | 'requestId' | 'metadata'> & {
  /**
   * Answer a local estimate, with no network I/O: the engine's (`countTokens(request, { local: true })`)
   * when it declares `countTokensRemote: true`, else the router's own when its count may be remote. A local
   * count (a tokenizer's: GGUF, ONNX) is still made.
   */
  local?: boolean;
  /**
   * Asked before a count that would do network I/O (an engine with `countTokensRemote` true or absent), once
   * the deployment's circuit lets it go out (not while the circuit is open; the circuit is read again after):
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
 * moment's circuits, limits nor the context window: counting calls no model, an over-long prompt is exactly
 * what a caller counts to find out, and another deployment's count could be off by its tokenizer (the chosen
 * deployment's circuit only decides whether its count may be remote: `countWith`). Throws `model_not_found` for a name no allowed deployment
 * carries and, listing why, a 400 when none of them can give what the request asks (`noCandidateError`), else
 * `no_deployment`.
 */
export function countingDeployment(all: readonly RouterDeployment[], request: GenerateRequest, options: CountTokensOptions): RouterDeployment {
  const { model, allowedModels } = options;
  // The context window is not checked: no input tokens, and the output cap of an absent maxTokens is 0.
  const query: CandidateQuery = { region: options.region, required: impliedCapabilities(request, false, options.requiredCapabilities), estimatedInputTokens: 0 };
  let matched = false;
  let best: RouterDeployment | undefined;
  const excluded: Exclusion[] = [];
  let refusal: Refusal | null | undefined;
  for (const d of all) {
    if (model !== undefined && !matchesName(d, model)) continue;
    // A deployment outside the allow-list matches no name and is never mentioned, as for calls.
    if (allowedModels && !allowedModels.some((name) => matchesName(d, name))) continue;
    matched = true;
    const why = unfit(d, query);
    if (why !== undefined) {
      excluded.push(exclusion(d, why.reason, 'unfit'));
      refusal = addRefusal(refusal, why.refusal);
    } else if (best === undefined || d.config.priority < best.config.priority) best = d;
  }
  if (best) return best;
  if (!matched && model !== undefined) {
    const known = all.filter((d) => !allowedModels || allowedModels.some((name) => matchesName(d, name))).map((d) => d.name);
    throw new LLMError({ code: 'model_not_found', message: `No deployment named "${model}" (by name or alias). Known: ${known.join(', ')}`, param: 'model' });
  }
  throw noCandidateError(excluded, model, refusal, 'to count tokens');
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
 * Failures of a remote count that say the provider is down or failing, as a failed call's would: they count
 * against the deployment's circuit breaker. `stream_interrupted` is an answer cut short (no built-in engine
 * reports it for a count; a custom engine may). Left out, because they say nothing about the messages
 * endpoint the calls use: faults of the request (4xx), `rate_limited` (Anthropic documents that token
 * counting and message creation have separate and independent rate limits, and Gemini's count has its own
 * quota), `authentication` / `permission_denied` (answered at once, so they never leave a client waiting, and a
 * call's own attempt reports them if they hold for calls too), and `invalid_response` (the count endpoint's answer,
 * not the model's). A 404 (a base URL whose proxy has no count endpoint, whose calls may work) is no failure at
 * all: `countWith` answers the local estimate.
 */
const PROVIDER_DOWN: ReadonlySet<LLMErrorCode> = new Set<LLMErrorCode>(['network_error', 'timeout', 'provider_error', 'provider_unavailable', 'overloaded', 'stream_interrupted']);

/**
 * Whether the deployment's circuit keeps a count local: only an open circuit within its cooldown (the
 * provider is known to be down). Closed, or half-open (the cooldown is over), the count may go out. A count
 * never takes a permit nor a probe slot: the circuit is only read (`peek`: with a shared store, the store's
 * state, no transition written, bounded by the store's time limit and by `signal`; a circuit without
 * `peek` answers its `state`).
 */
async function circuitOpen(d: RouterDeployment, signal: AbortSignal | undefined): Promise<boolean> {
  const breaker = d.breaker;
  if (!breaker.enabled) return false;
  let state = breaker.peek ? breaker.peek(signal) : breaker.state;
  if (isPending(state)) state = await state.catch(() => breaker.state);
  return state === 'open';
}

/**
 * `admitRemote`, given up when `signal` aborts first (a permit that arrives after that is released), with `aborted`
 * (`abortError`) whatever reason the caller gave.
 */
async function admit(options: CountTokensOptions, target: { deployment: string; provider: string }): Promise<RemoteCountPermit | undefined> {
  const pending = Promise.resolve().then(() => options.admitRemote!(target));
  try {
    return await raceAbort(pending, options.signal);
  } catch (e) {
    void pending.then((late) => late?.release()).catch(() => undefined);
    throw options.signal?.aborted ? abortError(options.signal, target) : e;
  }
}

/**
 * The local estimate of `request` on `d` (`exact: false`), as an open circuit answers it: the engine's
 * (`countTokens(request, { local: true })`) when it declares `countTokensRemote: true`, else the router's.
 */
async function localCount(engine: LanguageEngine, request: GenerateRequest, d: RouterDeployment): Promise<TokenCount> {
  const answer = { exact: false, deployment: d.name, model: d.modelId };
  if (engine.countTokensRemote === true && typeof engine.countTokens === 'function') {
    const tokens = await engine.countTokens(request, { local: true });
    if (typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens >= 0) return { tokens, ...answer };
  }
  return { tokens: estimateRequestTokens(request), ...answer };
}

/** Records a count's provider failure on the circuit (a count holds no permit). */
function recordFailure(d: RouterDeployment): void {
  if (d.breaker.unadmittedFailure) d.breaker.unadmittedFailure();
  else d.breaker.failure();
}

/**
 * Counts `request` with `d`'s engine: its `countTokens` (`exact` from the engine's `countTokensExact`), else
 * the router's own estimate (`estimateRequestTokens`, `exact: false`). A count that may do network I/O (the
 * engine's `countTokensRemote` true or absent) is made only without `options.local`, while the deployment's
 * circuit is not open (`circuitOpen`, asked again after `admitRemote`, which may have waited) and with a
 * permit from `options.admitRemote` (when given, asked after the circuit; released when the count ends);
 * otherwise the local estimate answers (`exact: false`): the engine's with `local: true` when it declares
 * `countTokensRemote`, else the router's. So a client counting before every turn (Claude Code) gets an
 * immediate estimate while the provider is known to be down, instead of waiting out the count's time limit
 * for an error.
 *
 * The admission (circuit, `admitRemote`) is bounded by `options.signal` only; the count's time limit
 * (`countTimeoutMs`) starts once it is admitted, as a call's attempt timer does. The engine gets the bounded
 * signal, so a provider count (and its media downloads) is cancelled with the count. A failure is the
 * engine's `LLMError` (`timeout` / `aborted` for the bounds), neither retried nor passed to a fallback: a
 * count from another deployment than the one asked for could be off by its tokenizer. A remote count failing
 * because the provider is down (`PROVIDER_DOWN`: network error, the count's own timeout, 5xx, overloaded, a
 * cut answer) records a failure on the circuit (`unadmittedFailure`: closed, it adds to the failures calls
 * count; half-open, it re-opens the circuit); the caller's abort or deadline does not, nor does a failure
 * before the provider was asked (an engine declaring `countTokensReportsRequest` says when it asks, so
 * Gemini's download of the caller's image URLs is not the provider's). The failure is still the count's
 * answer (the caller sees the provider's error, as a call would), except a 404 from the provider: its count
 * endpoint is not there for this deployment (a proxy without it), so the local estimate answers (`localCount`,
 * `exact: false`) and the circuit is left be. A successful count records nothing: the
 * count endpoint answering says little about the messages endpoint, and counting it as a success would
 * reset the failures calls have counted (a client counting between failing calls would keep the circuit
 * from ever opening), or close a half-open circuit no call has probed. Counts leave `stats()` alone.
 */
export async function countWith(d: RouterDeployment, request: GenerateRequest, options: CountTokensOptions, routing: TimeoutsConfig): Promise<TokenCount> {
  const context = { provider: d.provider, deployment: d.name };
  const signal = options.signal;
  /** The caller's signal and, from admission on, the count's time limit. */
  let bound: AbortSignal | undefined;
  let permit: RemoteCountPermit | undefined;
  /** Set once the provider may have been asked: only then can a failure be the provider's. */
  let asked = false;
  let failedDown = false;
  /** The engine, once made: a 404 answers its local estimate. */
  let counting: LanguageEngine | undefined;
  try {
    if (signal?.aborted) throw abortError(signal, context);
    const engine: LanguageEngine = d.engine();
    counting = engine;
    const answer = { deployment: d.name, model: d.modelId };
    if (typeof engine.countTokens !== 'function') return { tokens: estimateRequestTokens(request), exact: false, ...answer };
    let local = false;
    if (engine.countTokensRemote !== false) {
      if (options.local) local = true;
      else if (await circuitOpen(d, signal)) local = true;
      else if (options.admitRemote) {
        permit = await admit(options, { deployment: d.name, provider: d.provider });
        // The circuit may have opened while the admission waited (a Redis round trip, a slow limiter).
        local = permit === undefined || (await circuitOpen(d, signal));
      }
      if (signal?.aborted) throw abortError(signal, context);
      // An engine that does not declare `countTokensRemote` may not know `local`: the router's estimate.
      if (local && engine.countTokensRemote !== true) return { tokens: estimateRequestTokens(request), exact: false, ...answer };
    }
    bound = withTimeout(signal, countTimeoutMs(d, options, routing));
    const reports = !local && engine.countTokensReportsRequest === true;
    asked = !local && !reports;
    const engineOptions: CountTokensCallOptions = {
      ...(bound ? { signal: bound } : {}),
      ...(local ? { local: true } : {}),
      ...(reports ? { onProviderRequest: () => void (asked = true) } : {}),
    };
    const tokens = await raceAbort(
      Promise.resolve().then(() => engine.countTokens!(request, engineOptions)),
      bound,
    );
    if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 0) {
      throw new LLMError({ code: 'invalid_response', message: `countTokens of deployment "${d.name}" answered ${String(tokens)}, not a token count`, ...context });
    }
    return { tokens, exact: !local && engine.countTokensExact === true, ...answer };
  } catch (e) {
    const fired = bound?.aborted ? bound : signal?.aborted ? signal : undefined;
    // A tenant's own model that cannot be served as set (its gguf file deleted): its 503, as its calls have.
    const error = ownModelError(fired && !LLMError.isInstance(e) ? abortError(fired, context) : toLLMError(e, context), d);
    // The provider answered 404 (a proxy without the count endpoint, a count route that does not know the model):
    // the count endpoint is not there for this deployment, which says nothing of its calls. The local estimate.
    if (asked && counting && error.upstreamStatus === 404 && signal?.aborted !== true) return localCount(counting, request, d);
    // The caller's own abort or deadline says nothing about the provider.
    failedDown = asked && signal?.aborted !== true && PROVIDER_DOWN.has(error.code);
    throw error;
  } finally {
    if (failedDown) recordFailure(d);
    // The permit's owner handles its own failures (the contract says release does not reject).
    if (permit) await Promise.resolve().then(() => permit!.release()).catch(() => undefined);
  }
}
