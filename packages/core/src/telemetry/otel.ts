import type { OtelApi, OtelAttributes as Attributes, OtelSpan as Span, OtelTracer as Tracer } from './otel-api.js';
import { LLMError } from '../errors/llm-error.js';
import type { AttemptRecord, Cost, RouterEmbedResult, RouterEventName, RouterEvents, RouterResult, StreamSpend } from '../router/types.js';
import type { GenerateRequest, Usage } from '../spec/index.js';
import { importOptional } from '../util/optional-import.js';
import { PREFETCH_METADATA_KEY } from '../router/prefetch/router-prefetch.js';
import { SEMANTIC_EMBED_METADATA_KEY, SEMANTIC_GUARD_METADATA_KEY } from '../semantic-cache/semantic-cache-hook.js';
import { toGenAiInputMessages, toGenAiOutputMessages } from './gen-ai-content.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  genAiFinishReason,
  genAiProviderName,
  type GenAiOperationName,
} from './gen-ai-semconv.js';

export type { OtelApi } from './otel-api.js';

/** Anything with the router's typed `on` (an `LLMRouter`). */
export interface RouterEventSource {
  on<K extends RouterEventName>(event: K, listener: (payload: RouterEvents[K]) => void): () => void;
}

/**
 * Optional fields of a `request:start` event the instrumentation reads (`LLMRouter` sends them; other
 * event sources may leave them out). Kept as its own type for such sources.
 */
export interface RequestStartDetails {
  /** The normalized request: sampling parameters, and the input messages when `captureContent` is on. */
  request?: GenerateRequest;
  /** The model (deployment name or alias) the caller asked for. */
  model?: string;
  /** The strategy the call is ranked with. */
  strategy?: string;
}

export interface InstrumentRouterOptions {
  /** Tracer to create spans with. Default: `trace.getTracer('@llmrr/core')` of the given API (the global provider). */
  tracer?: Tracer;
  /**
   * Record `gen_ai.input.messages` and `gen_ai.output.messages` (prompts and answers, JSON text). Off by default:
   * they are likely to hold personal data.
   */
  captureContent?: boolean;
  /** `gen_ai.operation.name` of a request. Default: `embeddings` for `embed` calls, else `chat`. */
  operationName?: (event: RouterEvents['request:start']) => GenAiOperationName | undefined;
  /**
   * Spans open at once at most, requests', cascade calls' and token counts' together (a stream created but never
   * read never ends): past it the oldest of them is ended, marked `llmrr.incomplete`. Default 10 000.
   */
  maxOpenSpans?: number;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

export interface LoadInstrumentRouterOptions extends InstrumentRouterOptions {
  /** Seam for tests: the dynamic import used for `@opentelemetry/api`. */
  importer?: (specifier: string) => Promise<unknown>;
}

/** Instrumentation scope name of the spans. */
export const TRACER_NAME = '@llmrr/core';

/**
 * `gen_ai.operation.name` of a token count's span (`countTokens`: the gateway's `/v1/messages/count_tokens` and
 * `/v1/responses/input_tokens`). The conventions define no such operation; a custom value, as they allow.
 */
export const COUNT_TOKENS_OPERATION = 'count_tokens';

interface OpenRequest {
  requestId: string;
  span: Span;
  /** The parent context with this span set (OpenTelemetry's `Context`): attempt spans are its children. */
  context: unknown;
  startedAt: number;
  operation: string;
  /** The model the caller asked for, when the event said. */
  requestModel: string | undefined;
  /** When each failed attempt ended (`deployment#attempt`). */
  failedAt: Map<string, number>;
  failures: number;
  /** A cascade step's span: the cascade call's entry (its parent). */
  cascade?: OpenRequest;
  /** A cascade call's span: what its steps were billed so far (their results', a failed step's `spent`). */
  steps?: { inputTokens: number; outputTokens: number; costUsd: number; estimated: boolean };
  /** A prefetch's span (no caller's): started in the root context. */
  background?: true;
}

type RequestStart = RouterEvents['request:start'] & RequestStartDetails;

/**
 * The spans open at once of one instrumentation (`maxOpenSpans`), which its `InFlight` maps (requests, cascade calls,
 * token counts) share: past `max` in all, the oldest of any kind is taken from its map and given to its `evicted`.
 */
class OpenBudget {
  /** Every open entry of every kind, oldest first (a Map keeps insertion order), with the kind that holds it. */
  private readonly open = new Map<OpenRequest, InFlight>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  added(entry: OpenRequest, kind: InFlight): void {
    this.open.set(entry, kind);
    while (this.open.size > this.max) {
      // The oldest open entry is the first of its request id's queue (an id's entries queue up in the order added).
      const [oldest, from] = this.open.entries().next().value!;
      from.evict(oldest);
    }
  }

  taken(entry: OpenRequest): void {
    this.open.delete(entry);
  }
}

/**
 * Spans in flight by request id. Request ids are caller-chosen (the gateway takes `x-request-id`): ids in flight twice
 * queue up, oldest first. Bounded by the `budget` it shares with the other kinds: past it the oldest entry of them all
 * is taken and given to its map's `evicted`.
 */
class InFlight {
  private readonly byId = new Map<string, OpenRequest[]>();
  size = 0;

  constructor(
    private readonly budget: OpenBudget,
    private readonly evicted: (entry: OpenRequest) => void,
  ) {}

  /** Takes `entry`, the oldest open entry of the shared budget (so the first of its request id's queue), as evicted. */
  evict(entry: OpenRequest): void {
    const taken = this.take(entry.requestId);
    if (taken) this.evicted(taken);
  }

  first(requestId: string): OpenRequest | undefined {
    return this.byId.get(requestId)?.[0];
  }

  all(requestId: string): readonly OpenRequest[] | undefined {
    return this.byId.get(requestId);
  }

  add(entry: OpenRequest): void {
    const list = this.byId.get(entry.requestId);
    if (list) list.push(entry);
    else this.byId.set(entry.requestId, [entry]);
    this.size++;
    this.budget.added(entry, this);
  }

  take(requestId: string): OpenRequest | undefined {
    const list = this.byId.get(requestId);
    if (!list) return undefined;
    const entry = list.shift();
    if (list.length === 0) this.byId.delete(requestId);
    if (entry) {
      this.size--;
      this.budget.taken(entry);
    }
    return entry;
  }

  /** Gives every entry to `each` and forgets them all. */
  clear(each: (entry: OpenRequest) => void): void {
    const budget = this.budget;
    for (const list of this.byId.values()) {
      for (const entry of list) {
        budget.taken(entry);
        each(entry);
      }
    }
    this.byId.clear();
    this.size = 0;
  }
}

function spanName(operation: string, model: string | undefined): string {
  return model ? `${operation} ${model}` : operation;
}

function requestAttributes(attrs: Attributes, request: GenerateRequest, captureContent: boolean): void {
  if (request.maxTokens !== undefined) attrs[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens;
  if (request.temperature !== undefined) attrs[ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature;
  if (request.topP !== undefined) attrs[ATTR_GEN_AI_REQUEST_TOP_P] = request.topP;
  if (request.seed !== undefined) attrs[ATTR_GEN_AI_REQUEST_SEED] = request.seed;
  if (request.stop !== undefined && request.stop.length > 0) attrs[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = request.stop;
  const format = request.responseFormat?.type;
  if (format !== undefined) attrs[ATTR_GEN_AI_OUTPUT_TYPE] = format === 'text' ? 'text' : 'json';
  if (captureContent && Array.isArray(request.messages)) attrs[ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(toGenAiInputMessages(request.messages));
}

/** Adds a cascade step's bill (its tokens, when it consumed any, and its cost) to the cascade call's. */
function addSpend(steps: NonNullable<OpenRequest['steps']>, usage: Usage | undefined, cost: Cost): void {
  if (usage) {
    steps.inputTokens += usage.inputTokens;
    steps.outputTokens += usage.outputTokens;
    if (usage.estimated) steps.estimated = true;
  }
  steps.costUsd += cost.totalUsd;
}

/** The cost a cascade's verifier reported, as a failed cascade's error says it (`details.cascade.verifierCost`); else 0. */
function verifierCostOf(details: unknown): number {
  const cascade = typeof details === 'object' && details !== null ? (details as { cascade?: { verifierCost?: { totalUsd?: unknown } } }).cascade : undefined;
  const usd = cascade?.verifierCost?.totalUsd;
  return typeof usd === 'number' && usd > 0 && usd < Infinity ? usd : 0;
}

/** Attempts that sent a request: a deployment skipped for its engine's refusal (`AttemptRecord.skipped`) sent none. */
function sentAttempts(attempts: readonly AttemptRecord[]): number {
  let n = 0;
  for (const a of attempts) if (a.skipped !== true) n++;
  return n;
}

function attemptKey(deployment: string, attempt: number): string {
  return `${deployment}#${attempt}`;
}

/**
 * Creates OpenTelemetry spans for a router's requests from its typed events, following the GenAI semantic
 * conventions (v1.41.0): one CLIENT span per request named `{gen_ai.operation.name} {gen_ai.request.model}`,
 * span events for failed attempts, retries, fallbacks, hedges and cache hits, and one INTERNAL child span
 * per attempt (of a failed request too, when `request:end` carries its `attempts`). Synchronous: pass the `@opentelemetry/api` module you imported.
 * Returns a function that removes every listener and ends the spans still open.
 */
export function instrumentRouterWith(api: OtelApi, router: RouterEventSource, options: InstrumentRouterOptions = {}): () => void {
  if (typeof router?.on !== 'function') {
    throw new LLMError({ code: 'invalid_request', message: 'instrumentRouter needs a router (an object with on(event, listener))', param: 'router' });
  }
  if (typeof api?.trace?.setSpan !== 'function' || typeof api.context?.active !== 'function' || api.ROOT_CONTEXT === undefined) {
    throw new LLMError({ code: 'invalid_request', message: 'instrumentRouter needs the @opentelemetry/api module (context, trace, SpanKind, SpanStatusCode, ROOT_CONTEXT)', param: 'api' });
  }
  const maxOpen = options.maxOpenSpans ?? 10_000;
  if (!Number.isInteger(maxOpen) || maxOpen < 1) {
    throw new LLMError({ code: 'invalid_request', message: `maxOpenSpans must be a positive integer, got ${String(maxOpen)}`, param: 'maxOpenSpans' });
  }
  const tracer = options.tracer ?? api.trace.getTracer(TRACER_NAME);
  const captureContent = options.captureContent === true;
  const now = options.now ?? Date.now;
  const { SpanKind, SpanStatusCode } = api;

  // The spans open at once, requests', cascade calls' and token counts' together: past `maxOpen` the oldest of them is
  // ended as evicted (`abandon`, below: called only after it is set).
  const budget = new OpenBudget(maxOpen);
  // Requests in flight.
  const open = new InFlight(budget, (entry) => abandon(entry, 'evicted'));

  const current = (requestId: string): OpenRequest | undefined => open.first(requestId);
  const take = (requestId: string): OpenRequest | undefined => open.take(requestId);

  /** Ends a span whose request will never end here (evicted, or the instrumentation was disposed). */
  const abandon = (entry: OpenRequest, reason: string): void => {
    entry.span.setAttribute('llmrr.incomplete', reason);
    entry.span.end(Math.max(entry.startedAt, now()));
  };

  /**
   * The context a request's (or a cascade call's) span starts in: the active one (the caller's trace, with
   * `callerTraceContext`), except for calls no caller waits for, which run in whatever async context started them
   * (a prefetch is started by the live call that left the router idle, another user's): a prefetch and the semantic
   * cache's embeddings (one batch serves several callers) start in the root context; a semantic guard call under the
   * span of the prefetch it serves (under none, the root context, when its request id is also a live call's).
   */
  const parentOf = (metadata: Record<string, unknown> | undefined): unknown => {
    if (metadata) {
      if (metadata[PREFETCH_METADATA_KEY] === true || metadata[SEMANTIC_EMBED_METADATA_KEY] !== undefined) return api.ROOT_CONTEXT;
      const served = metadata[SEMANTIC_GUARD_METADATA_KEY];
      const list = typeof served === 'string' ? open.all(served) : undefined;
      if (list?.some((entry) => entry.background)) return list.length === 1 ? list[0]!.context : api.ROOT_CONTEXT;
    }
    return api.context.active();
  };

  // Cascade calls in flight by request id (as `open`; their steps' spans are in `open`).
  const cascades = new InFlight(budget, (entry) => abandon(entry, 'evicted'));

  /** The open cascade call a request is a step of, when it is one. */
  const cascadeOf = (e: RouterEvents['request:start']): OpenRequest | undefined => {
    const step = e.metadata?.cascadeStep;
    if (step !== 'weak' && step !== 'strong') return undefined;
    const id = e.requestId;
    const cut = id.length - step.length - 1;
    if (cut <= 0 || id.charCodeAt(cut) !== 58 /* : */ || !id.endsWith(step)) return undefined;
    return cascades.first(id.slice(0, cut));
  };

  const onCascadeStart = (e: RouterEvents['cascade:start']): void => {
    const startedAt = now();
    const kind = e.stream ? 'stream' : 'generate';
    const start: RequestStart = { requestId: e.requestId, stream: e.stream, kind, metadata: e.metadata, model: e.name };
    if (e.request) start.request = e.request;
    const operation = options.operationName?.(start) ?? 'chat';
    const attrs: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: operation,
      [ATTR_GEN_AI_REQUEST_MODEL]: e.name,
      'llmrr.request_id': e.requestId,
      'llmrr.stream': e.stream,
      'llmrr.cascade': e.name,
    };
    const tenant = e.metadata?.tenant;
    if (typeof tenant === 'string') attrs['llmrr.tenant'] = tenant;
    if (e.request && typeof e.request === 'object') requestAttributes(attrs, e.request, captureContent);
    const parent = parentOf(e.metadata);
    // INTERNAL: the cascade runs in this process; its steps are the CLIENT spans of the model calls (sums of their
    // tokens over CLIENT spans stay right), and this span carries the request's totals, as the ledger bills them.
    const span = tracer.startSpan(spanName(operation, e.name), { kind: SpanKind.INTERNAL, attributes: attrs, startTime: startedAt }, parent);
    const entry: OpenRequest = {
      requestId: e.requestId,
      span,
      context: api.trace.setSpan(parent, span),
      startedAt,
      operation,
      requestModel: e.name,
      failedAt: new Map(),
      failures: 0,
      steps: { inputTokens: 0, outputTokens: 0, costUsd: 0, estimated: false },
    };
    cascades.add(entry);
  };

  const onCascadeEnd = (e: RouterEvents['cascade:end']): void => {
    const entry = cascades.take(e.requestId);
    if (!entry) return;
    const span = entry.span;
    const endedAt = Math.max(entry.startedAt, now());
    const r = e.result;
    if (r) {
      applyResult(entry, r);
      const record = r.cascade;
      if (record) {
        span.setAttribute('llmrr.cascade.verifier', record.verifier);
        span.setAttribute('llmrr.cascade.threshold', record.threshold);
        span.setAttribute('llmrr.cascade.score', record.score);
        span.setAttribute('llmrr.cascade.escalated', record.escalated);
        if (record.strongError) span.setAttribute('llmrr.cascade.strong_error.type', record.strongError.code);
      }
    }
    if (e.error) {
      span.setAttribute(ATTR_ERROR_TYPE, e.error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.error.message });
      if (e.error.provider !== undefined) span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, genAiProviderName(e.error.provider));
      if (e.error.deployment !== undefined) span.setAttribute('llmrr.deployment', e.error.deployment);
      // What the steps were billed (and the verifier's judgement, when it reported a cost): the request's spend.
      const steps = entry.steps!;
      const verifierUsd = verifierCostOf(e.error.details);
      if (steps.inputTokens + steps.outputTokens > 0) {
        span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, steps.inputTokens);
        span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, steps.outputTokens);
        if (steps.estimated) span.setAttribute('llmrr.usage.estimated', true);
      }
      if (steps.costUsd > 0 || verifierUsd > 0) span.setAttribute('llmrr.cost_usd', steps.costUsd + verifierUsd);
    }
    span.end(endedAt);
  };

  // Token counts in flight by request id (as `open`).
  const counts = new InFlight(budget, (entry) => abandon(entry, 'evicted'));

  /**
   * A token count: a CLIENT span `count_tokens {model}` in the active context (the caller's trace, with
   * `callerTraceContext`). The count is not usage (nothing was billed): it is `llmrr.token_count`, never
   * `gen_ai.usage.input_tokens`, so sums of usage over CLIENT spans stay what was billed.
   */
  const onCountStart = (e: RouterEvents['count:start']): void => {
    const startedAt = now();
    const requestModel = typeof e.model === 'string' && e.model !== '' ? e.model : undefined;
    const attrs: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: COUNT_TOKENS_OPERATION, 'llmrr.request_id': e.requestId };
    if (requestModel) attrs[ATTR_GEN_AI_REQUEST_MODEL] = requestModel;
    const tenant = e.metadata?.tenant;
    if (typeof tenant === 'string') attrs['llmrr.tenant'] = tenant;
    const parent = api.context.active();
    const span = tracer.startSpan(spanName(COUNT_TOKENS_OPERATION, requestModel), { kind: SpanKind.CLIENT, attributes: attrs, startTime: startedAt }, parent);
    counts.add({ requestId: e.requestId, span, context: parent, startedAt, operation: COUNT_TOKENS_OPERATION, requestModel, failedAt: new Map(), failures: 0 });
  };

  const onCountEnd = (e: RouterEvents['count:end']): void => {
    const entry = counts.take(e.requestId);
    if (!entry) return;
    const span = entry.span;
    const r = e.result;
    if (r) {
      if (e.provider !== undefined) setResponseModel(entry, e.provider, r.model, undefined);
      else span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, r.model);
      span.setAttribute('llmrr.deployment', r.deployment);
      span.setAttribute('llmrr.token_count', r.tokens);
      span.setAttribute('llmrr.token_count.exact', r.exact);
    } else if (e.provider !== undefined) span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, genAiProviderName(e.provider));
    if (e.error) {
      span.setAttribute(ATTR_ERROR_TYPE, e.error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.error.message });
      if (e.error.deployment !== undefined) span.setAttribute('llmrr.deployment', e.error.deployment);
    }
    span.end(Math.max(entry.startedAt, now()));
  };

  const onStart = (event: RouterEvents['request:start']): void => {
    const e = event as RequestStart;
    const startedAt = now();
    const operation = options.operationName?.(event) ?? (e.kind === 'embed' ? 'embeddings' : 'chat');
    const requestModel = typeof e.model === 'string' && e.model !== '' ? e.model : undefined;
    const attrs: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: operation, 'llmrr.request_id': e.requestId, 'llmrr.stream': e.stream };
    if (requestModel) attrs[ATTR_GEN_AI_REQUEST_MODEL] = requestModel;
    if (typeof e.strategy === 'string') attrs['llmrr.strategy'] = e.strategy;
    const tenant = e.metadata?.tenant;
    if (typeof tenant === 'string') attrs['llmrr.tenant'] = tenant;
    if (e.request && typeof e.request === 'object') requestAttributes(attrs, e.request, captureContent && e.kind !== 'embed');
    // A cascade's step (`<id>:weak`, `<id>:strong`, metadata naming the step) is a child of the cascade call's span.
    const cascade = cascades.size > 0 ? cascadeOf(e) : undefined;
    if (cascade) attrs['llmrr.cascade.step'] = e.metadata.cascadeStep as string;
    const parent = cascade ? cascade.context : parentOf(e.metadata);
    const span = tracer.startSpan(spanName(operation, requestModel), { kind: SpanKind.CLIENT, attributes: attrs, startTime: startedAt }, parent);
    const entry: OpenRequest = {
      requestId: e.requestId,
      span,
      context: api.trace.setSpan(parent, span),
      startedAt,
      operation,
      requestModel,
      failedAt: new Map(),
      failures: 0,
    };
    if (cascade) entry.cascade = cascade;
    if (e.metadata?.[PREFETCH_METADATA_KEY] === true) entry.background = true;
    open.add(entry);
  };

  const setResponseModel = (entry: OpenRequest, provider: string, model: string, responseModel: string | undefined): void => {
    const span = entry.span;
    span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, genAiProviderName(provider));
    if (!entry.requestModel) {
      // The caller named no model: the router chose this one, so that is the model the request went to.
      span.setAttribute(ATTR_GEN_AI_REQUEST_MODEL, model);
      span.updateName(spanName(entry.operation, model));
    }
    span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, responseModel ?? model);
  };

  const applyResult = (entry: OpenRequest, r: RouterResult): void => {
    const span = entry.span;
    setResponseModel(entry, r.provider, r.model, r.providerModel);
    if (r.id !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_ID, r.id);
    span.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [genAiFinishReason(r.finishReason)]);
    if (r.cached === false) {
      // A cache hit consumed no tokens: its usage is the original call's, so it is left out here.
      span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, r.usage.inputTokens);
      span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, r.usage.outputTokens);
      if (r.usage.cachedInputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, r.usage.cachedInputTokens);
      if (r.usage.cacheWriteInputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, r.usage.cacheWriteInputTokens);
      // The conventions have no attribute for the TTL split: ours, next to them.
      if (r.usage.cacheWrite1hInputTokens !== undefined) span.setAttribute('llmrr.usage.cache_creation_1h.input_tokens', r.usage.cacheWrite1hInputTokens);
      if (r.usage.estimated) span.setAttribute('llmrr.usage.estimated', true);
    }
    span.setAttribute('llmrr.deployment', r.deployment);
    span.setAttribute('llmrr.cost_usd', r.cost.totalUsd);
    if (r.cost.estimated) span.setAttribute('llmrr.cost_estimated', true);
    span.setAttribute('llmrr.cache_hit', r.cached !== false);
    if (r.cached !== false) span.setAttribute('llmrr.cache_kind', r.cached);
    span.setAttribute('llmrr.attempts', sentAttempts(r.attempts));
    span.setAttribute('llmrr.latency_ms', r.latencyMs);
    if (r.timeToFirstTokenMs !== undefined) span.setAttribute('llmrr.ttft_ms', r.timeToFirstTokenMs);
    if (r.decision?.strategy !== undefined) span.setAttribute('llmrr.strategy', r.decision.strategy);
    if (captureContent) span.setAttribute(ATTR_GEN_AI_OUTPUT_MESSAGES, JSON.stringify(toGenAiOutputMessages(r)));
  };

  const applyEmbed = (entry: OpenRequest, r: RouterEmbedResult): void => {
    const span = entry.span;
    setResponseModel(entry, r.provider, r.model, undefined);
    span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, r.usage.inputTokens);
    if (r.usage.estimated) span.setAttribute('llmrr.usage.estimated', true);
    span.setAttribute('llmrr.deployment', r.deployment);
    span.setAttribute('llmrr.cost_usd', r.cost.totalUsd);
    if (r.cost.estimated) span.setAttribute('llmrr.cost_estimated', true);
    span.setAttribute('llmrr.attempts', sentAttempts(r.attempts));
    span.setAttribute('llmrr.latency_ms', r.latencyMs);
    if (r.decision?.strategy !== undefined) span.setAttribute('llmrr.strategy', r.decision.strategy);
  };

  /**
   * What a failed request was billed (`request:end`'s `spent`: a stream's partial answer, billed failed attempts, a
   * guard call): its cost, and the answer tokens (a replayed cache hit's excepted, as on a successful hit's span).
   */
  const applySpent = (entry: OpenRequest, spent: StreamSpend): void => {
    const span = entry.span;
    if (!spent.replay && spent.usage.inputTokens + spent.usage.outputTokens > 0) {
      span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, spent.usage.inputTokens);
      span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, spent.usage.outputTokens);
      if (spent.usage.cachedInputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, spent.usage.cachedInputTokens);
      if (spent.usage.cacheWriteInputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, spent.usage.cacheWriteInputTokens);
      if (spent.usage.cacheWrite1hInputTokens !== undefined) span.setAttribute('llmrr.usage.cache_creation_1h.input_tokens', spent.usage.cacheWrite1hInputTokens);
      if (spent.usage.estimated) span.setAttribute('llmrr.usage.estimated', true);
    }
    span.setAttribute('llmrr.cost_usd', spent.cost.totalUsd);
    if (spent.cost.estimated) span.setAttribute('llmrr.cost_estimated', true);
  };

  const applyError = (entry: OpenRequest, error: LLMError): void => {
    const span = entry.span;
    span.setAttribute(ATTR_ERROR_TYPE, error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    if (error.provider !== undefined) span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, genAiProviderName(error.provider));
    if (error.deployment !== undefined) span.setAttribute('llmrr.deployment', error.deployment);
    span.setAttribute('llmrr.attempts', entry.failures);
  };

  /** One child span per attempt; each ends when its failure was reported (else with the request) and lasted its measured latency. */
  const attemptSpans = (
    entry: OpenRequest,
    attempts: readonly AttemptRecord[],
    winner: { deployment: string; provider: string; model: string } | undefined,
    endedAt: number,
  ): void => {
    for (const a of attempts) {
      const failedAt = entry.failedAt.get(attemptKey(a.deployment, a.attempt));
      const end = Math.min(Math.max(failedAt ?? endedAt, entry.startedAt), endedAt);
      const start = Math.max(entry.startedAt, end - a.latencyMs);
      const attrs: Attributes = { 'llmrr.deployment': a.deployment, 'llmrr.attempt': a.attempt, 'llmrr.latency_ms': a.latencyMs };
      if (a.hedge) attrs['llmrr.hedge'] = true;
      if (a.skipped === true) attrs['llmrr.skipped'] = true;
      if (winner && a.ok && a.deployment === winner.deployment) {
        attrs[ATTR_GEN_AI_PROVIDER_NAME] = genAiProviderName(winner.provider);
        attrs[ATTR_GEN_AI_REQUEST_MODEL] = winner.model;
      }
      if (!a.ok) attrs[ATTR_ERROR_TYPE] = a.errorCode ?? '_OTHER';
      const child = tracer.startSpan(`llmrr.attempt ${a.deployment}`, { kind: SpanKind.INTERNAL, attributes: attrs, startTime: start }, entry.context);
      if (!a.ok) child.setStatus({ code: SpanStatusCode.ERROR });
      child.end(end);
    }
  };

  const onEnd = (e: RouterEvents['request:end']): void => {
    const entry = take(e.requestId);
    if (!entry) return;
    const endedAt = Math.max(entry.startedAt, now());
    if (e.result) {
      applyResult(entry, e.result);
      attemptSpans(entry, e.result.attempts, e.result, endedAt);
    } else if (e.embedResult) {
      applyEmbed(entry, e.embedResult);
      attemptSpans(entry, e.embedResult.attempts, e.embedResult, endedAt);
    }
    // A cascade step: what it was billed counts in the cascade call's spend.
    const steps = entry.cascade?.steps;
    if (steps) {
      if (e.result) addSpend(steps, e.result.cached === false ? e.result.usage : undefined, e.result.cost);
      else if (e.spent) addSpend(steps, e.spent.replay ? undefined : e.spent.usage, e.spent.cost);
    }
    if (e.error) {
      applyError(entry, e.error);
      if (e.spent) applySpent(entry, e.spent);
      // A failed request: its attempts (when the router sent them), all failed or cancelled.
      if (!e.result && !e.embedResult && e.attempts && e.attempts.length > 0) {
        attemptSpans(entry, e.attempts, undefined, endedAt);
        entry.span.setAttribute('llmrr.attempts', sentAttempts(e.attempts));
      }
    }
    entry.span.end(endedAt);
  };

  const onAttemptError = (e: RouterEvents['attempt:error']): void => {
    const entry = current(e.requestId);
    if (!entry) return;
    const at = now();
    entry.failures++;
    entry.failedAt.set(attemptKey(e.deployment, e.attempt), at);
    entry.span.addEvent(
      'llmrr.attempt.error',
      { 'llmrr.deployment': e.deployment, 'llmrr.attempt': e.attempt, [ATTR_ERROR_TYPE]: e.error.code, 'llmrr.retryable': e.error.isRetryable },
      at,
    );
  };

  const onRetry = (e: RouterEvents['retry']): void => {
    current(e.requestId)?.span.addEvent(
      'llmrr.retry',
      { 'llmrr.deployment': e.deployment, 'llmrr.attempt': e.attempt, 'llmrr.delay_ms': e.delayMs, [ATTR_ERROR_TYPE]: e.error.code },
      now(),
    );
  };

  const onFallback = (e: RouterEvents['fallback']): void => {
    current(e.requestId)?.span.addEvent('llmrr.fallback', { 'llmrr.from': e.from, 'llmrr.to': e.to, [ATTR_ERROR_TYPE]: e.error.code }, now());
  };

  const onHedge = (e: RouterEvents['hedge']): void => {
    current(e.requestId)?.span.addEvent('llmrr.hedge', { 'llmrr.deployment': e.deployment }, now());
  };

  const onCacheHit = (e: RouterEvents['cache:hit']): void => {
    current(e.requestId)?.span.addEvent('llmrr.cache.hit', { 'llmrr.cache_kind': e.kind, 'llmrr.deployment': e.deployment }, now());
  };

  const offs = [
    router.on('request:start', onStart),
    router.on('request:end', onEnd),
    router.on('attempt:error', onAttemptError),
    router.on('retry', onRetry),
    router.on('fallback', onFallback),
    router.on('hedge', onHedge),
    router.on('cache:hit', onCacheHit),
    router.on('cascade:start', onCascadeStart),
    router.on('cascade:end', onCascadeEnd),
    router.on('count:start', onCountStart),
    router.on('count:end', onCountEnd),
  ];

  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    for (const off of offs) off();
    open.clear((entry) => abandon(entry, 'disposed'));
    cascades.clear((entry) => abandon(entry, 'disposed'));
    counts.clear((entry) => abandon(entry, 'disposed'));
  };
}

/**
 * `instrumentRouterWith` with `@opentelemetry/api` (an optional peer dependency) imported on demand.
 * Rejects with `engine_unavailable`, naming the package to install, when it is missing.
 *
 * ```ts
 * const stop = await instrumentRouter(router, { tracer: provider.getTracer('my-app') });
 * ```
 */
export async function instrumentRouter(router: RouterEventSource, options: LoadInstrumentRouterOptions = {}): Promise<() => void> {
  const { importer, ...rest } = options;
  const api = await importOptional<OtelApi>('@opentelemetry/api', {
    engine: 'OpenTelemetry',
    install: '@opentelemetry/api',
    ...(importer ? { importer } : {}),
  });
  return instrumentRouterWith(api, router, rest);
}
