import { LLMError, refusedAnswerDetails, toLLMError, utf8ByteLength, type DeploymentInfo, type RouterEmbedOptions, type UsageStatus } from '@llmrr/core';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { routerTenant, UNAUTHENTICATED, type Principal } from '../auth/principal.js';
import { showWarnings } from '../calls/call-warnings.js';
import type { CallsInFlight } from '../calls/calls-in-flight.js';
import type { GatewayDeps } from '../calls/context.js';
import type { ModelRoute } from '../calls/model-route.js';
import { resolveModel, type ResolvedModel } from '../calls/resolve-model.js';
import { tenantStrategy } from '../calls/router-extension.js';
import { withGuardTokens } from '../calls/ledger-counts.js';
import { createSettler, type Settlement } from '../calls/settle.js';
import { errorReply, fromOwnModel, needsServerLog, toPublicError } from '../http/error-body.js';
import { visibleError } from '../http/traffic-visibility.js';
import type { Incoming } from '../http/incoming.js';
import { formatUsd, headerText } from '../http/llmrr-info.js';
import { readJsonBody } from '../http/read-json-body.js';
import { jsonReply, type Reply } from '../http/reply.js';
import { validateBody } from '../http/validate.js';
import { OpenAIEmbeddingRequestSchema, type OpenAIEmbeddingRequest, type OpenAIEmbeddingResponse } from '../schemas/openai-embeddings.js';
import { admit, countRequest, type Admission } from '../tenancy/admission.js';
import { hedgeLanes } from '../tenancy/hedge-lanes.js';
import { rateLimitHeaders } from '../tenancy/rate-limit-headers.js';
import type { RouterEmbedResult } from '../types.js';

/** Bytes turned into characters per `String.fromCharCode` call (well under engines' argument limits). */
const BASE64_CHUNK = 8192;

/**
 * OpenAI's base64 form of a vector: its float32 values, little-endian (the platforms Node and the edge runtimes
 * run on). Chunked: a character per byte was 4x slower (2048 vectors of 3072 floats: ~400 ms on the event loop).
 */
function toBase64(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK) s += String.fromCharCode.apply(null, bytes.subarray(i, i + BASE64_CHUNK) as unknown as number[]);
  return btoa(s);
}

/**
 * The deployments an embeddings call may be served by, for the budget's cost bound: of the resolved ones (the
 * requested model's, its fallbacks, or for `auto` every visible one), those with the `embeddings` capability, as
 * the router plans them (a chat-only model never answers, so it does not price the call). A cascade cannot embed:
 * requesting one is a 400 `unsupported` naming `model`. A named model none of whose deployments can embed is
 * left to the router, which refuses it with the reason.
 */
function embeddingCandidates(requested: string, resolved: ResolvedModel): DeploymentInfo[] {
  if (resolved.model !== undefined && resolved.candidates.slice(0, resolved.primary).every((d) => d.cascade !== undefined)) {
    throw new LLMError({ code: 'unsupported', message: `The model "${requested}" is a cascade, which cannot embed; name a model with the embeddings capability`, param: 'model' });
  }
  return resolved.candidates.filter((d) => d.cascade === undefined && d.capabilities.includes('embeddings'));
}

/**
 * The candidates a call with `dimensions` (`embedDimensions`) or token ids (`embedTokens`) may be planned on: those
 * that can take it (core's router plans only those: `DeploymentInfo.embedDimensions` / `.embedTokens`; a router that
 * does not say is taken to plan them all). `candidates` itself when all can (no copy); undefined when none can (the
 * router refuses the call, 400 `unsupported` naming `dimensions` / `input`: `refuseUnservable`).
 */
function fitCandidates(candidates: DeploymentInfo[], form: 'embedDimensions' | 'embedTokens'): DeploymentInfo[] | undefined {
  if (candidates.every((d) => d[form] !== false)) return candidates;
  const fit = candidates.filter((d) => d[form] !== false);
  return fit.length > 0 ? fit : undefined;
}

/**
 * A call none of whose deployments can take its token ids or `dimensions` (`fitCandidates`): bad input, answered with
 * the router's own 400 (`unsupported` naming `input` / `dimensions`, the deployments and why) before admission, so a
 * tenant's budget never prices (a 402) a call that cannot be made. Asked as a cache-only call, which core's router
 * plans (refusing such input) and then refuses with `planned`, calling no engine. The refusal counts against the
 * limits, as every refusal does. Returns when the router planned the call after all (its deployments changed
 * meanwhile): the call then goes on as any other.
 */
async function refuseUnservable(deps: GatewayDeps, embed: NonNullable<GatewayDeps['router']['embed']>, input: string[] | number[][], options: RouterEmbedOptions, principal: Principal, requestId: string, headers: Record<string, string>): Promise<void> {
  const planned = new LLMError({ code: 'internal', message: 'The call was planned' });
  try {
    await embed(input, { ...options, cacheOnly: planned });
  } catch (e) {
    if (e === planned) return;
    const rateInfo = await countRequest(deps.stores, principal, (m, err) => deps.log(m, requestId, err), deps.renewals);
    if (rateInfo) rateLimitHeaders(rateInfo, headers);
    throw e;
  }
}

/** The request's inputs for the router: texts, or token ids (one array per input) with their count. */
interface EmbeddingInputs {
  input: string[] | number[][];
  /** The texts (none for token ids). */
  texts: string[];
  /** Token ids' count (their length); undefined for texts. */
  tokenCount: number | undefined;
  /** The prompt's tokens for the limits and the budget: token ids' count, or the texts' bound (`textTokenBound`). */
  promptTokens: number;
}

/**
 * The prompt bound of texts to embed: one token a byte of each, the most a byte-level BPE tokenizer (OpenAI's
 * cl100k_base / o200k_base) can make of a text ("a\nb\nc\n..." or "1 2 3 ..." is one token a byte), without the framing
 * a chat message adds (8 tokens each): an embedding input has none, its provider bills its text alone.
 */
function textTokenBound(texts: string[]): number {
  let tokens = 0;
  for (const t of texts) tokens += utf8ByteLength(t);
  return tokens;
}

function embeddingInputs(input: OpenAIEmbeddingRequest['input']): EmbeddingInputs {
  if (typeof input === 'string') return { input: [input], texts: [input], tokenCount: undefined, promptTokens: textTokenBound([input]) };
  if (input.length > 0 && typeof input[0] === 'string') return { input: input as string[], texts: input as string[], tokenCount: undefined, promptTokens: textTokenBound(input as string[]) };
  const ids = typeof input[0] === 'number' ? [input as number[]] : (input as number[][]);
  let tokenCount = 0;
  for (const one of ids) tokenCount += one.length;
  return { input: ids, texts: [], tokenCount, promptTokens: tokenCount };
}

/**
 * Vectors of the asked `dimensions`, or a 502: a router (a custom one) that dropped the option must not hand the
 * client vectors its index cannot take. Core's router checks this itself, per attempt.
 */
function checkDimensions(result: RouterEmbedResult, dimensions: number): void {
  const wrong = result.embeddings.find((v) => v.length !== dimensions);
  if (wrong) {
    // Refused as core refuses it, with what the answer cost (`details[REFUSED_ANSWER]`): the ledger records it.
    throw new LLMError({
      code: 'unsupported',
      message: `The router answered vectors of ${wrong.length} dimensions for dimensions ${dimensions}`,
      deployment: result.deployment,
      param: 'dimensions',
      afterResponse: true,
      isRetryable: false,
      ...(result.cost ? { details: refusedAnswerDetails({ usage: result.usage, cost: result.cost }) } : {}),
    });
  }
}

/** `POST /v1/embeddings` through the router's `embed`, with the same auth, limits, budget and ledger as chat. */
export function embeddingsRoute(deps: GatewayDeps): ModelRoute {
  return (incoming, requestId, startedAt) => handleEmbeddings(deps, incoming, requestId, startedAt);
}

async function handleEmbeddings(deps: GatewayDeps, incoming: Incoming, requestId: string, startedAt: number): Promise<Reply> {
  // Durations run on the monotonic clock from here (microseconds after `startedAt` was taken).
  const startedMono = performance.now();
  let principal: Principal = UNAUTHENTICATED;
  let admission: Admission | undefined;
  let settler: ReturnType<typeof createSettler> | undefined;
  let inFlight: CallsInFlight | undefined;
  let headers: Record<string, string> = {};
  try {
    principal = await authenticate(incoming.headers, { stores: deps.stores, auth: deps.auth, requestId, clientIp: incoming.clientIp, log: (m, e) => deps.log(m, requestId, e) });
    headers = demoHeaders(principal);
    const body = validateBody(OpenAIEmbeddingRequestSchema, await readJsonBody(incoming, deps.bodyRead));
    const embed = deps.router.embed?.bind(deps.router);
    if (!embed) throw new LLMError({ code: 'unsupported', message: 'This gateway\'s router does not provide embeddings', param: 'model' });
    const input = embeddingInputs(body.input);
    deps.metrics?.started();
    settler = createSettler(deps, { endpoint: '/v1/embeddings', model: body.model, stream: false, principal, requestId, startedAt, startedMono });
    // In flight (for the gateway's `close()`) until settled (the `finally` below, after either settlement).
    deps.calls?.started();
    inFlight = deps.calls;
    let resolved: ResolvedModel;
    let candidates: DeploymentInfo[];
    try {
      // With the routing's fallbacks, as the router's embed() uses them: the reservation prices them in.
      resolved = resolveModel(body.model, deps.router.models(routerTenant(principal)), principal, undefined, deps.router.routerConfig?.routing);
      candidates = embeddingCandidates(body.model, resolved);
    } catch (refusal) {
      // A refusal counts against the limits too (429 once over them), as on the chat endpoints.
      const rateInfo = await countRequest(deps.stores, principal, (m, e) => deps.log(m, requestId, e), deps.renewals);
      if (rateInfo) rateLimitHeaders(rateInfo, headers);
      throw refusal;
    }
    settler.modelKnown();
    // `auto` ranks with the tenant's preferred strategy, as its chat calls do.
    const strategy = tenantStrategy(principal, deps.router);
    // The same metadata a chat call carries: its span names the tenant (`llmrr.tenant`), the route and the key.
    const metadata: Record<string, unknown> = { tenant: principal.tenantId, endpoint: '/v1/embeddings' };
    if (principal.key) metadata.keyId = principal.key.id;
    const options: RouterEmbedOptions = {
      requestId,
      ...(incoming.signal ? { signal: incoming.signal } : {}),
      tenant: routerTenant(principal),
      metadata,
      ...(resolved.model !== undefined ? { model: resolved.model } : {}),
      ...(resolved.allowedModels ? { allowedModels: resolved.allowedModels } : {}),
      ...(strategy !== undefined ? { strategy } : {}),
      ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
      // (An empty user is no user, as on chat completions.)
      ...(body.user ? { user: body.user } : {}),
    };
    // The reservation prices only what the router may plan: with `dimensions` / token ids, the deployments that can
    // take them (also the hedge lanes below). None can: the router's 400, before admission.
    let fit: DeploymentInfo[] | undefined = candidates;
    if (body.dimensions !== undefined) fit = fitCandidates(fit, 'embedDimensions');
    if (fit && input.tokenCount !== undefined) fit = fitCandidates(fit, 'embedTokens');
    if (fit) candidates = fit;
    else if (deps.router.cacheOnlyCalls === true) await refuseUnservable(deps, embed, input.input, options, principal, requestId, headers);
    // With hedging, every lane's answer may be billed (one that came with the winner's, one refused for vectors of
    // another length than `dimensions`): the reservation counts one call per lane that may run.
    const lanes = hedgeLanes(deps.router, candidates, undefined, true);
    admission = await admit({
      stores: deps.stores,
      principal,
      // The prompt is the inputs' own tokens (`promptTokens`: token ids' length, texts' bound without chat framing),
      // not an estimate of the messages.
      request: { messages: input.texts.map((t) => ({ role: 'user' as const, content: t })), maxTokens: 1 },
      inputTokens: input.promptTokens,
      requestId,
      arrivedAt: startedAt,
      candidates,
      defaultMaxOutputTokens: 0,
      rateLimitOutputTokens: 0,
      ...(lanes > 1 ? { billedCalls: lanes } : {}),
      renewals: deps.renewals,
      signal: incoming.signal,
      log: deps.log,
    });
    // Where the limits stand, on the answer and on an error after admission (an upstream's failure) alike, as on chat.
    if (admission.rateInfo) rateLimitHeaders(admission.rateInfo, headers);
    const result = await embed(input.input, options);
    if (body.dimensions !== undefined) checkDimensions(result, body.dimensions);
    // The cost holds the answers refused on other hedge lanes (their providers billed them); the row counts their tokens.
    const costUsd = result.cost?.totalUsd ?? 0;
    const usage = withGuardTokens(result.usage, result.failedAttemptsUsage)!;
    await settler.settle(
      { status: 'success', usage, costUsd, deployment: result.deployment, ...(result.provider ? { provider: result.provider } : {}), ...(result.failedAttempts ? { failedAttempts: result.failedAttempts } : {}) },
      admission,
      // Answered once the call gave its place back: the headers say what is left then (`finalInfo`); a client that
      // left reads nothing (a plain release).
      clientGone(incoming) ? undefined : 'release',
    );
    // Where the limits stand now the call is done: its tokens counted as used, its concurrency slot free.
    if (admission.finalInfo) rateLimitHeaders(admission.finalInfo, headers);
    const out: OpenAIEmbeddingResponse = {
      object: 'list',
      data: result.embeddings.map((e, index) => ({ object: 'embedding', index, embedding: body.encoding_format === 'base64' ? toBase64(e) : e })),
      model: result.deployment,
      usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.totalTokens },
    };
    headers['x-llmrr-model'] = headerText(result.deployment);
    headers['x-llmrr-cache'] = 'miss';
    headers['x-llmrr-cost-usd'] = formatUsd(costUsd);
    // What the deployment did not send (`user` where its provider has no such field), as chat's answers say it.
    if (Array.isArray(result.warnings) && result.warnings.length > 0) showWarnings(result.warnings, undefined, headers, deps.metrics);
    return jsonReply(out, requestId, headers);
  } catch (e) {
    const raw = toLLMError(e);
    const error = toPublicError(raw, fromOwnModel(raw, () => deps.router.models(routerTenant(principal))));
    if (needsServerLog(raw)) deps.log(`request failed: ${raw.code}`, requestId, raw);
    if (settler) {
      // Settled with the original error, as the model calls are: the ledger keeps the real reason, the metric the
      // code the client gets.
      const status: UsageStatus = error.code === 'aborted' ? 'aborted' : 'error';
      // An answer refused after its provider billed it (vectors not `dimensions` long): the row and the metrics name
      // its deployment, as chat's do for an answer lost after its response (a hedged call's other lanes' are the
      // error's `failedAttempts`, each under its own: `spentBefore`).
      const lost = raw.afterResponse && raw.deployment !== undefined;
      const s: Settlement = lost ? { status, error: raw, deployment: raw.deployment, ...(raw.provider !== undefined ? { provider: raw.provider } : {}) } : { status, error: raw };
      // (Its error reply too: `finalInfo`.)
      await settler.settle(s, admission, clientGone(incoming) ? undefined : 'release').catch(() => {});
    } else {
      deps.metrics?.observe({ model: 'unknown', tenant: principal.tenantId, status: error.code, durationMs: performance.now() - startedMono }, false);
    }
    const details = error.details as { rateInfo?: Parameters<typeof rateLimitHeaders>[0] } | undefined;
    if ((error.code === 'rate_limited' || error.code === 'budget_exceeded') && details?.rateInfo) rateLimitHeaders(details.rateInfo, headers);
    else if (admission?.finalInfo) rateLimitHeaders(admission.finalInfo, headers);
    // A shared deployment's traffic cut as the model routes cut it (another tenant's in-flight counts); the log keeps it whole.
    return errorReply(visibleError(error, principal), requestId, 'openai', headers);
  } finally {
    inFlight?.ended();
  }
}

/** The client left (not the server's shutdown cut): nothing it could read is worth a store round trip. */
function clientGone(incoming: Incoming): boolean {
  return incoming.signal?.aborted === true && incoming.served?.cutOf(incoming.signal) === undefined;
}
