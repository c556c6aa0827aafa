import { LLMError, toLLMError, type CallWarning, type Cost, type DeploymentInfo, type GenerateOptions, type GenerateRequest, type RateLimitInfo, type RouterResult, type RouterStream, type UsageStatus } from '@llmrr/core';
import { routerTenant, type Principal } from '../auth/principal.js';
import { errorReply, fromOwnModel, needsServerLog, toPublicError, type ErrorStyle } from '../http/error-body.js';
import { formatScore, headerText, resultHeaders } from '../http/llmrr-info.js';
import { visibleError, visibleResult } from '../http/traffic-visibility.js';
import { jsonReply, replyToResponse, type FrameStream, type Reply } from '../http/reply.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ClientFieldNames } from '../schemas/client-field-names.js';
import { withClientMessagePath, type ClientMessagePaths } from '../schemas/client-message-paths.js';
import { ignoredFieldsOf } from '../schemas/ignored-fields.js';
import type { LlmrrExtension } from '../schemas/llmrr-extension.js';
import { openStream, type OpenedStream } from '../streaming/open-stream.js';
import { sseHeaders, sseReply, unwatchedIdleBound, type StreamEncoder, type StreamOutcome } from '../streaming/sse-response.js';
import { HeldStream, SSE_COMMENT_KEEP_ALIVE, holdOpen, keepAliveMs } from '../streaming/stream-hold.js';
import { admit, countRequest, type Admission, type FinishRead } from '../tenancy/admission.js';
import { hedgeLanes } from '../tenancy/hedge-lanes.js';
import { rateLimitHeaders } from '../tenancy/rate-limit-headers.js';
import type { Renewals } from '../tenancy/renewals.js';
import type { GatewayRouter, GatewayStores } from '../types.js';
import { showWarnings } from './call-warnings.js';
import type { CallsInFlight } from './calls-in-flight.js';
import type { ServedStreams } from './served-streams.js';
import { headerJson, tenantStrategy } from './router-extension.js';
import { createSettler, type Settlement } from './settle.js';
import { checkFallbacks, resolveModel, type ResolvedModel } from './resolve-model.js';

export interface CallDeps {
  router: GatewayRouter;
  stores: GatewayStores | undefined;
  metrics: GatewayMetrics | undefined;
  now: () => number;
  defaultMaxOutputTokens: number;
  rateLimitOutputTokens: number;
  /** Renews the leases and reservations of calls in flight (one sweeper per gateway). */
  renewals?: Renewals | undefined;
  /** Counts the calls whose settlement is not done (the gateway's `close()` waits for them). */
  calls?: CallsInFlight | undefined;
  log: (message: string, requestId: string, error?: unknown) => void;
  /**
   * How long a stream is held for its first content before its 200 and headers go out with keep-alives
   * (`GatewayOptions.streamHoldMs`, as `streamHold` reads it): undefined, until the first content.
   */
  streamHoldMs?: number | undefined;
}

export interface ModelCall {
  /** e.g. `/v1/chat/completions`. */
  endpoint: string;
  /** The model the client asked for. */
  model: string;
  request: GenerateRequest;
  /** Where `request`'s messages came from, when not one per client message in order: errors and warnings name the client's. */
  messagePaths?: ClientMessagePaths | undefined;
  /** How the client names core's other fields, when not as core does: errors and warnings name the client's. */
  fieldNames?: ClientFieldNames | undefined;
  stream: boolean;
  ext: LlmrrExtension;
  style: ErrorStyle;
  principal: Principal;
  requestId: string;
  /** Wall-clock start (epoch ms), for the ledger row. */
  startedAt: number;
  /** Monotonic start (`performance.now()`), for durations. */
  startedMono: number;
  /** The client's request signal (aborts when the client goes away). */
  signal: AbortSignal | undefined;
  /** The streamed calls of the server carrying the request (`Incoming.served`): its shutdown ends a streamed call. */
  served?: ServedStreams | undefined;
  /** The non-streamed response body. */
  render(result: RouterResult): unknown;
  /**
   * The gateway's own warnings about a non-streamed answer as `render` gives it (a legacy `functions` answer leaving
   * calls out), shown after the ignored fields'. None for a stream: its header is sent before its calls are known.
   */
  answerWarnings?: ((result: RouterResult) => readonly CallWarning[] | undefined) | undefined;
  encoder(): StreamEncoder;
  /** The reply's headers so far (a fresh object: the call adds to it and replies with it). */
  headers: Record<string, string>;
}

/**
 * One model request end to end: model check, limits and budget reservation, the router call, and the
 * settlement (ledger record, budget, limits, metrics) before the last bytes of the answer are sent.
 */
export async function runModelCall(deps: CallDeps, call: ModelCall): Promise<Reply> {
  const headers = call.headers;
  let admission: Admission | undefined;
  let all: readonly DeploymentInfo[] | undefined;
  /** For a call naming a cascade: the deployments it may use (`unwatchedIdleBound` looks its strong step up there). */
  let cascade: readonly DeploymentInfo[] | undefined;
  if (call.ext.fallbacks) {
    // Bad input, refused before anything is admitted or recorded (counted in the metrics like a schema 400).
    try {
      all = deps.router.models(routerTenant(call.principal));
      checkFallbacks(call.ext.fallbacks, all, call.principal);
    } catch (e) {
      const error = toLLMError(e);
      if (needsServerLog(error)) deps.log(`request failed: ${error.code}`, call.requestId, error);
      deps.metrics?.observe({ model: 'unknown', tenant: call.principal.tenantId, status: error.code, durationMs: performance.now() - call.startedMono }, false);
      return errorReply(toPublicError(error), call.requestId, call.style, headers);
    }
  }

  // A call passes the client's request signal to the router as it is; a stream whose response body is
  // cancelled without that signal firing is cancelled through the router stream (`RouterStream.cancel`). A
  // router whose streams may lack `cancel` (a wrapped one) gets a controller of the stream's own instead,
  // aborted by the client's signal or by the body's cancel.
  let abort: AbortController | undefined;
  let onClientAbort: (() => void) | undefined;
  if (call.stream && deps.router.cancellableStreams !== true) {
    const controller = new AbortController();
    abort = controller;
    onClientAbort = () => controller.abort(call.signal?.reason);
    if (call.signal?.aborted) controller.abort(call.signal.reason);
    else call.signal?.addEventListener('abort', onClientAbort, { once: true });
  }
  deps.metrics?.started();
  // A streamed call is its server's from here until it settles: the server's shutdown cuts it (`ServedStreams`).
  const served = call.stream ? call.served?.start(abort) : undefined;

  const settler = createSettler(deps, call);
  // In flight until its (first) settlement is done: a call cut at a server's shutdown settles before the gateway's `close()` resolves.
  let inFlight = deps.calls;
  inFlight?.started();
  /** `read`: the reply's headers go out after it, saying what is left once the call gave its place back (`FinishRead`). */
  const settle = (st: Settlement, read?: FinishRead) => {
    if (onClientAbort) call.signal?.removeEventListener('abort', onClientAbort);
    served?.done();
    const settled = settler.settle(st, admission, read);
    if (inFlight) {
      settled.then(inFlight.ended, inFlight.ended);
      inFlight = undefined;
    }
    return settled;
  };

  /** The router stream of a streamed call, once asked for: a stream that fails before it opens may have paid calls (`spent`). */
  let routerStream: RouterStream | undefined;

  /** The upstream stream of a call that opened but failed before its reply, while it closes (`openedReply`). */
  let closing: Promise<unknown> | undefined;

  /**
   * Settles a call that failed before its answer (or its stream) opened and logs it; returns the error as the caller
   * may see it (another tenant's traffic on shared deployments hidden), for the error reply or the stream's error event.
   * `committed`: the reply's headers went out already (a stream held open with keep-alives, failing as an error event).
   */
  const failed = async (e: unknown, committed = false): Promise<LLMError> => {
    if (closing) await closing;
    // Cut by its server's shutdown (before its stream opened): the failure is the cut's, whatever the open said, unless
    // the client had already left (then it is the client's abort, as without a shutdown).
    // A request the cut stopped through its connection's signal (a non-streamed one too) fails with the cut's error.
    const cut = (served?.error !== undefined && call.signal?.aborted !== true ? served.error : undefined) ?? call.served?.cutOf(call.signal);
    // The cut keeps what the router's error carried of calls already paid (a cascade's weak step, a guard call).
    const cutError = cut && LLMError.isInstance(e) && e.details !== undefined && cut.details === undefined ? cut.with({ details: e.details }) : cut;
    const error = withClientMessagePath(toLLMError(cutError ?? e), call.messagePaths, call.fieldNames);
    const status: UsageStatus = error.code === 'aborted' ? 'aborted' : 'error';
    try {
      // An answer lost after its provider accepted it may be billed: the row names who was asked (its cost is unknown).
      const lost = error.afterResponse && error.deployment !== undefined ? { deployment: error.deployment, ...(error.provider !== undefined ? { provider: error.provider } : {}) } : undefined;
      const s: Settlement = lost ? { status, error, ...lost } : { status, error };
      // Calls the stream completed before it failed (a cascade's weak step, a semantic guard call), and the prompts its
      // failed attempts had reported (an upstream cut after Anthropic's message_start, retried or fallen over or not).
      const spent = routerStream?.spent?.();
      if (spent) s.spent = spent;
      // A JSON error (a JSON call's, a stream's before it opened) goes out after the call gave its place back: its headers
      // say what is left then (read by the release in its own round trip: no more store calls than without). A 402
      // raised after admission counts the places others took meanwhile (`'fresh'`: a Redis lease under rpm limits only
      // reads them, which its release alone does not). Nothing is read for a committed stream's error event (its
      // headers went out) nor for a client that left (its reply is not read).
      const gone = call.signal?.aborted === true && call.served?.cutOf(call.signal) === undefined;
      const read = committed || gone || !admission ? undefined : error.code === 'budget_exceeded' && admission.left && isRateInfoCarrier(error.details) ? 'fresh' : 'release';
      await settle(s, read);
    } catch {
      // already logged; the original error is the one to report
    }
    if (needsServerLog(error)) deps.log(`request failed: ${error.code}`, call.requestId, error);
    // A 429 says where the limits stand; so does a 402 budget refusal of a request that took its place under them. One
    // raised after admission (an extension refused mid-call, a cache-only call's miss) held its place across its work
    // and gave it back above (`settle`): what the limiter says is left now, else the refusal's own numbers (logged).
    if ((error.code === 'rate_limited' || error.code === 'budget_exceeded') && isRateInfoCarrier(error.details)) {
      rateLimitHeaders(error.code === 'budget_exceeded' && admission?.left ? await leftAfter(admission, error.details.rateInfo, (e) => deps.log('reading the rate limits left after a refused call failed', call.requestId, e)) : error.details.rateInfo, headers);
    } else if (admission?.finalInfo) {
      // A call answered with a JSON error after admission (an upstream's error, a stream's before it opened): where the
      // limits stand once it gave its place back. (A committed stream's error event carries no headers.)
      rateLimitHeaders(admission.finalInfo, headers);
    }
    // The exclusions it lists as the caller's explain would show them (a shared deployment's traffic cut); the log keeps them whole.
    // A provider's rate limit on the tenant's own model keeps its text (its own account); a shared one's is reworded.
    const own = fromOwnModel(error, () => all ?? deps.router.models(routerTenant(call.principal)));
    return visibleError(toPublicError(error, own), call.principal);
  };

  const fail = async (e: unknown): Promise<Reply> => errorReply(await failed(e), call.requestId, call.style, headers);

  try {
    all ??= deps.router.models(routerTenant(call.principal));
    let resolved: ResolvedModel;
    try {
      resolved = resolveModel(call.model, all, call.principal, call.ext.fallbacks, deps.router.routerConfig?.routing);
    } catch (refusal) {
      // A refusal counts against the limits too (429 once over them), the same for every reason.
      const rateInfo = await countRequest(deps.stores, call.principal, (m, e) => deps.log(m, call.requestId, e), deps.renewals);
      if (rateInfo) rateLimitHeaders(rateInfo, headers);
      throw refusal;
    }
    settler.modelKnown();
    if (resolved.steps !== undefined) cascade = all;
    admission = await admit({
      stores: deps.stores,
      principal: call.principal,
      request: call.request,
      requestId: call.requestId,
      arrivedAt: call.startedAt,
      candidates: resolved.candidates,
      primaryCandidates: resolved.primary,
      steps: resolved.steps,
      guardRouter: deps.router,
      noCacheRead: call.ext.cache === false,
      servesFromCache: call.ext.cache !== false && deps.router.cacheOnlyCalls === true,
      // A hedged `generate` is billed the answers its other lanes completed with the winner's (a stream's lanes are
      // cancelled at its first content part: its failed attempts' spend extends the reservation, `extend` below).
      billedCalls: call.stream ? 1 : hedgeLanes(deps.router, resolved.candidates, resolved.steps),
      defaultMaxOutputTokens: deps.defaultMaxOutputTokens,
      rateLimitOutputTokens: deps.rateLimitOutputTokens,
      renewals: deps.renewals,
      signal: call.signal,
      log: deps.log,
    });
    // A stream's headers go out while it runs: the admission's numbers (its token estimate charged, its slot held).
    if (admission.rateInfo) rateLimitHeaders(admission.rateInfo, headers);
    const options = generateOptions(call, resolved, abort ? abort.signal : call.signal, deps.router);
    // The budget cannot cover a call: a cached answer (cost 0) only, else the 402 (no provider is called).
    if (admission.cacheOnly) options.cacheOnly = admission.cacheOnly;
    // A retry or fallback after attempts billed for what their provider reported (a stream's prompt, a JSON call's
    // failed answer) extends the budget reservation first (or ends the call with `budget_exceeded`): the reservation
    // priced one call.
    if (admission.extend) options.beforeAttemptAfterSpend = spendHook(admission.extend);

    if (!call.stream) {
      const result = await deps.router.generate(call.request, options);
      // The hook is asked only while `generate` runs: let go of it (and of the extension it holds) now. Held by the
      // options until the call has settled, it was promoted to the old generation with them (docs/benchmarks.md).
      if (options.beforeAttemptAfterSpend) options.beforeAttemptAfterSpend = undefined;
      // The client left meanwhile (a router cache hit replays without looking at its signal): it gets nothing, so the
      // call is settled as its leaving, with what the answer cost, as a stream's is (not a shutdown cut: its client is there).
      if (call.signal?.aborted === true && call.served?.cutOf(call.signal) === undefined) return await clientLeft(result);
      // A JSON answer's headers go out once the call gave its place back: they say what is left then (`finalInfo`). (A
      // stream's go out as it opens: its release reads nothing.)
      await settle({ status: 'success', result, deployment: result.deployment, provider: result.provider, ttftMs: result.timeToFirstTokenMs ?? result.latencyMs }, 'release');
      // Where the limits stand now the call is done: its tokens counted as used, its concurrency slot free.
      if (admission.finalInfo) rateLimitHeaders(admission.finalInfo, headers);
      resultHeaders(result, headers);
      // (An array test, not `!== undefined`: a custom engine in plain JS may send anything, and the call has answered.)
      // The body's fields the gateway did not act on are said on a cache hit too (ignored either way).
      const ignoredFields = ignoredFieldsOf(call.request, result.provider);
      const answered = call.answerWarnings?.(result);
      const ignored = answered === undefined ? ignoredFields : ignoredFields === undefined ? answered : [...ignoredFields, ...answered];
      if (ignored !== undefined || (Array.isArray(result.warnings) && result.warnings.length > 0)) showWarnings(result.warnings, call.messagePaths, headers, deps.metrics, ignored, call.fieldNames);
      // The decision as the caller may see it (another tenant's traffic on shared deployments hidden).
      const shown = call.ext.explain ? visibleResult(result, call.principal) : result;
      if (call.ext.explain && shown.decision) headers['x-llmrr-decision'] = headerJson(decisionSummary(shown));
      return jsonReply(call.render(shown), call.requestId, headers);
    }

    served?.check(call.signal);
    routerStream = deps.router.stream(call.request, options);
    if (served) served.stream = routerStream;
    const opening = openStream(routerStream, call.startedMono, monotonicNow);
    // Held until the first content (the router may fall over meanwhile, and a failure is an HTTP error), at most
    // `streamHoldMs`: then the 200 goes out with keep-alives until it opens (`HeldStream`). A cache-only call is held
    // until it opens, whatever the hold: it replays a hit or fails with no provider called, and its miss is the
    // 402 with its HTTP status (not a 200 carrying it as an error event), however long the lookup takes.
    const hold = admission.cacheOnly ? undefined : deps.streamHoldMs;
    const opened = hold === undefined ? await opening : hold === 0 ? undefined : await holdOpen(opening, hold);
    if (opened === undefined) return committedReply(opening, routerStream, hold ?? 0);
    const reply = openedReply(opened);
    // A client gone before the stream opened (a router cache hit replays without looking at the signal): the
    // stream is closed and settled as its leaving at once, whatever the transport does with a reply nobody reads.
    if (call.signal?.aborted && typeof reply.body !== 'string') await reply.body.cancel();
    return reply;
  } catch (e) {
    return fail(e);
  }

  /**
   * The reply of a stream that opened: its headers (the route's, the head's warnings) and the body that sends it.
   * `encoder`: the committed stream's (made before it opened), else made here, where a throw closes the stream.
   */
  function openedReply(opened: OpenedStream, encoder?: StreamEncoder): Reply {
    try {
      served?.check(call.signal);
      headers['x-llmrr-model'] = headerText(opened.route.deployment);
      headers['x-llmrr-cache'] = opened.route.cached === false ? 'miss' : `hit-${opened.route.cached}`;
      if (opened.route.cacheScore !== undefined) headers['x-llmrr-cache-score'] = formatScore(opened.route.cacheScore);
      const ignored = ignoredFieldsOf(call.request, opened.route.provider);
      if (opened.warnings !== undefined || ignored !== undefined) showWarnings(opened.warnings, call.messagePaths, headers, deps.metrics, ignored, call.fieldNames);
      return streamReply(opened, encoder ?? call.encoder());
    } catch (e) {
      // Opened but not handed to the reply (which closes it): the upstream stream is closed here, then the error is answered.
      opened.stream.cancel?.(e);
      abort?.abort(e);
      closing = opened.iterator.return?.().catch(() => {});
      throw e;
    }
  }

  /**
   * The reply of a stream that did not open within the hold: the 200 and the stream headers known by now go out, then
   * the route's keep-alives until it opens (its body from there on) or fails (settled as before it opened, and sent
   * as the route's error event, or nothing when the client is gone).
   */
  function committedReply(opening: Promise<OpenedStream>, stream: RouterStream, holdMs: number): Reply {
    let encoder: StreamEncoder;
    try {
      encoder = call.encoder();
    } catch (e) {
      // Nothing sent yet: the stream (still opening) is let go, then the error is answered.
      stream.cancel?.(e);
      abort?.abort(e);
      throw e;
    }
    const body = new HeldStream(opening, {
      keepAlive: encoder.keepAlive ? encoder.keepAlive() : SSE_COMMENT_KEEP_ALIVE,
      intervalMs: keepAliveMs(holdMs),
      opened: (opened) => {
        const inner = openedReply(opened, encoder).body as FrameStream;
        if (call.signal?.aborted) void inner.cancel().catch(() => {});
        return inner;
      },
      failed: async (e) => {
        const error = await failed(e, true);
        // Gone (not cut by its server's shutdown, which is an error the client is told about): nothing more to send.
        if (call.signal?.aborted === true && call.served?.cutOf(call.signal) === undefined) return undefined;
        return encoder.error(error, call.requestId).join('');
      },
      cancel: (reason) => {
        stream.cancel?.(reason);
        abort?.abort(reason);
      },
    });
    return { status: 200, headers: sseHeaders(headers, call.requestId), body };
  }

  async function clientLeft(result: RouterResult): Promise<Reply> {
    const error = toLLMError(Object.assign(new Error('The client closed the request before its answer was sent'), { name: 'AbortError' }));
    try {
      await settle({ status: 'aborted', result, error, deployment: result.deployment, provider: result.provider, ttftMs: result.timeToFirstTokenMs ?? result.latencyMs });
    } catch {
      // already logged; nobody reads the answer
    }
    return errorReply(toPublicError(error), call.requestId, call.style, headers);
  }

  function streamReply(opened: OpenedStream, encoder: StreamEncoder): Reply {
    if (call.ext.explain) {
      // The final frames carry the decision as the caller may see it (`visibleResult`).
      const finish = encoder.finish;
      encoder.finish = (part, result) => finish.call(encoder, part, visibleResult(result, call.principal));
    }
    const reply = sseReply(opened, encoder, {
      requestId: call.requestId,
      headers,
      signal: abort ? abort.signal : call.signal,
      abort,
      // The gateway's own bound only for a stream the router does not watch (a cache hit's replay, a cascade's).
      idleMs: unwatchedIdleBound(opened, deps.router.routerConfig?.routing.timeouts, cascade),
      settle: async (o: StreamOutcome) => {
        const route = opened.route;
        if (o.status === 'success') {
          // A stream's time to first token is the gateway's, from the request's arrival (what the client waits),
          // on every path: live, cache hit, broken off (the router's own starts later, and has no cache hit's).
          await settle({ status: 'success', result: o.result, deployment: o.result.deployment, provider: o.result.provider, ttftMs: o.ttftMs });
        } else {
          // A failure after the complete result (the encoder could not finish) is settled with the result's
          // usage and cost, which already include a cascade's weak step: nothing is estimated or added.
          const spent = o.result ? undefined : opened.stream.spent?.();
          // The price the tokens streamed were served at: core's route part carries it (taken when it routed: a PATCH
          // of the tenant's models since changes nothing); for a router whose route part does not, the deployment's
          // as the call started (never a look-up when the call settles).
          const price = o.result ? undefined : (route.price ?? all?.find((d) => d.name === route.deployment)?.price);
          await settle({
            status: o.status,
            ...(o.result ? { result: o.result } : {}),
            ...(spent ? { spent } : {}),
            // (A replayed cache hit that broke off cost nothing: no partial cost is estimated for it.)
            cached: route.cached,
            error: o.error,
            ...(o.usage ? { usage: o.usage } : {}),
            ...(o.outputText ? { outputText: o.outputText } : {}),
            deployment: o.result?.deployment ?? route.deployment,
            provider: o.result?.provider ?? route.provider,
            ...(price ? { price } : {}),
            ttftMs: o.ttftMs,
          });
        }
      },
    });
    // From here a cut by the server's shutdown ends the stream with its error event.
    if (served && typeof reply.body !== 'string') served.body = reply.body;
    return reply;
  }
}

/**
 * The router's options for the call: the fields every call has in one literal, the optional ones added when
 * present (as spreads of `cond ? { field } : {}` did, without a temporary object and a copy per field).
 * `signal`: the client's, or the stream's own controller's.
 */
function generateOptions(call: ModelCall, resolved: ResolvedModel, signal: AbortSignal | undefined, router: GatewayRouter): GenerateOptions {
  const metadata: Record<string, unknown> = { tenant: call.principal.tenantId, endpoint: call.endpoint };
  if (call.principal.key) metadata.keyId = call.principal.key.id;
  const options: GenerateOptions = { requestId: call.requestId, metadata };
  const tenant = routerTenant(call.principal);
  if (tenant !== undefined) options.tenant = tenant;
  if (signal) options.signal = signal;
  if (resolved.model !== undefined) options.model = resolved.model;
  if (resolved.allowedModels) options.allowedModels = resolved.allowedModels;
  const ext = call.ext;
  const strategy = ext.strategy ?? tenantStrategy(call.principal, router);
  if (strategy !== undefined) options.strategy = strategy;
  if (ext.explain) options.explain = true;
  if (ext.fallbacks) options.fallbacks = ext.fallbacks;
  if (ext.cache === false) options.cache = false;
  return options;
}

function decisionSummary(result: RouterResult): unknown {
  const d = result.decision!;
  return { strategy: d.strategy, selected: d.selected, order: d.order, reason: d.reason };
}

/** `admission.left()` (what the limiter says is left once the call gave its place back), or `fallback` when it fails (logged). */
async function leftAfter(admission: Admission, fallback: RateLimitInfo, log: (e: unknown) => void): Promise<RateLimitInfo> {
  // Read by the release already (`finish` told to read `'fresh'`, the places others took meanwhile counted): no second
  // round trip. Unset when that release or read failed: a peek.
  if (admission.finalInfo) return admission.finalInfo;
  try {
    return await admission.left!();
  } catch (e) {
    log(e);
    return fallback;
  }
}

function isRateInfoCarrier(details: unknown): details is { rateInfo: RateLimitInfo } {
  return typeof details === 'object' && details !== null && 'rateInfo' in details;
}

export function jsonResponse(body: unknown, requestId: string, headers: Record<string, string> = {}, status = 200): Response {
  return replyToResponse(jsonReply(body, requestId, headers, status));
}

/** The monotonic clock durations are measured on (time to first part). */
function monotonicNow(): number {
  return performance.now();
}

/**
 * `beforeAttemptAfterSpend` for a budgeted call: made out here, not in `runModelCall`, whose closure context holds the
 * whole call (request, plan, reply). A hook made there kept all of that alive for as long as the router held the call's
 * options, past young-generation GCs: measured with `node --trace-gc-nvp` on tools/bench's in-process run, about twice
 * the bytes promoted per scavenge, and 15-19% more CPU per budgeted JSON call (docs/benchmarks.md).
 */
function spendHook(extend: (billedUsd: number) => Promise<void>): (billed: Cost) => Promise<void> {
  return (billed) => extend(billed.totalUsd);
}
