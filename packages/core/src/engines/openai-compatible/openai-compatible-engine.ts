import type { Capability, ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { abortError, afterResponseError, toLLMError } from '../../errors/to-llm-error.js';
import { estimateRequestTokens, estimateTokens } from '../../pricing/estimate-tokens.js';
import type { CallOptions, EmbedCallOptions, EmbedResult, EngineCapabilities, EngineRefusal, GenerateResult, LanguageEngineV1 } from '../../spec/engine-v1.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { CallWarning } from '../../spec/warnings.js';
import { RELEASES_ABORT_LISTENERS, TAKES_ATTEMPT_SIGNALS, markAbortHandling, releasesAbortListeners, takesAttemptSignals } from '../../util/abort.js';
import { fetchOrThrow, followRedirects, NO_REDIRECT, parseJsonOrThrow } from '../../util/http.js';
import { httpSseStream } from '../shared/http-sse-stream.js';
import { longToolNames, restoreStreamToolNames, restoreToolCallNames, shortToolNameWarnings, withShortToolNames } from '../shared/short-tool-names.js';
import type { EngineContext } from '../types.js';
import { buildOpenAIRequestBody } from './build-openai-request-body.js';
import { convertOpenAIChatResponse, readOpenAIChatResponse } from './convert-openai-chat-response.js';
import { convertOpenAIUsage } from './convert-openai-usage.js';
import { openAIErrorFromResponse, type FinalTurnRefuser } from './map-openai-error.js';
import { isOpenAIReasoningModel } from './openai-reasoning-models.js';
import { openAIRequestWarnings } from './openai-request-warnings.js';
import { OpenAIStreamDecoder } from './openai-stream-decoder.js';
import { openAIMessageNameRefusal } from './openai-message-names.js';
import { finalAssistantRefusal } from './openai-prefill.js';
import { lastRoleRefusal, openAILastRoleError } from './openai-last-role-refusal.js';
import { OpenAIEmbeddingResponseSchema } from './openai-wire-schemas.js';
import { prefillEcho, stripPrefillEcho, stripStreamPrefillEcho } from './strip-prefill-echo.js';
import { authHeaders, checkOpenAICompatibleConfig, endpointURL, openAICompatibleNeedsApiKey, openAICompatibleProviderName, resolveEndpoint, type ResolvedEndpoint } from './resolve-endpoint.js';

function setHeaders(into: Record<string, string>, source: Record<string, string> | undefined): void {
  if (source) for (const name of Object.keys(source)) into[name.toLowerCase()] = source[name]!;
}

/** One input as token ids: a non-empty array of integers >= 0. */
function isTokenIds(ids: unknown): boolean {
  return Array.isArray(ids) && ids.length > 0 && ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0);
}

const DEFAULT_CAPABILITIES: EngineCapabilities = { streaming: true, tools: true, json: true };

/** OpenAI's embedding models (`text-embedding-3-small`, `-3-large`, `-ada-002`), which have no chat completions. */
const OPENAI_EMBEDDING_MODEL = /(^|\/)text-embedding-/;
const EMBEDDING_CAPABILITIES: EngineCapabilities = { streaming: false, tools: false, json: false, embeddings: true };
const EMBED_ONLY: readonly Capability[] = Object.freeze(['embeddings']);

/**
 * The configured `capabilities`, else the defaults (streaming, tools, json) plus `reasoning` for OpenAI's
 * reasoning families recognised by model id (`isOpenAIReasoningModel`); OpenAI's embedding models, by model id
 * too, embed only (`openAICompatibleCapabilities`).
 */
function capabilitiesFrom(list: readonly Capability[] | undefined, modelId: string): EngineCapabilities {
  if (!list && OPENAI_EMBEDDING_MODEL.test(modelId)) return EMBEDDING_CAPABILITIES;
  if (!list) return isOpenAIReasoningModel(modelId) ? { ...DEFAULT_CAPABILITIES, reasoning: true } : DEFAULT_CAPABILITIES;
  const has = (c: Capability) => list.includes(c);
  return {
    streaming: has('streaming'),
    tools: has('tools'),
    json: has('json'),
    vision: has('vision'),
    embeddings: has('embeddings'),
    reasoning: has('reasoning'),
  };
}

/**
 * Engine for every server that speaks OpenAI's chat-completions wire format: OpenAI, Azure OpenAI, Groq,
 * Together, Mistral, DeepSeek, OpenRouter, Ollama, vLLM, LM Studio, llama.cpp server, or any `baseURL`.
 * Calls go through `ctx.fetch`; aborting `options.signal` cancels the request and closes the connection.
 */
/** OpenAI embedding models that refuse `dimensions` (only the `text-embedding-3-*` family takes it). */
const FIXED_LENGTH_EMBEDDING_MODEL = /(^|\/)text-embedding-ada-002$/;

export class OpenAICompatibleEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1' as const;
  /**
   * The preset name (`openai`, `azure-openai`, `groq`, `ollama`, ...; `openai` without preset and `baseURL`), else
   * `openai-compatible`: as on errors (`providerName`), so results, ledger rows and traces name the provider too.
   */
  readonly provider: string;
  /** `countTokens` estimates (~4 characters a token): no tokenizer endpoint is common to these servers. */
  readonly countTokensExact = false;
  /** `countTokens` does no network I/O. */
  readonly countTokensRemote = false;
  readonly modelId: string;
  readonly capabilities: EngineCapabilities;
  /**
   * `embed` and `embedTokens` send `dimensions` as OpenAI's API takes it: a server that refuses it answers its error,
   * one that ignores it fails the router's length check. False for `text-embedding-ada-002`, which OpenAI refuses
   * `dimensions` for (a router then leaves the deployment out for such calls), or as `options.embedDimensions` says.
   */
  readonly embedDimensions: boolean;
  /** Preset name (`openai`, `groq`, ...) or `openai-compatible`; the `provider` on results and errors. */
  readonly providerName: string;
  private readonly endpoint: ResolvedEndpoint;
  /**
   * Whose refusal, set once the server refused a conversation for how it ends (Mistral's 400 "Expected last role User
   * or Tool ...", Google's or Anthropic's refusal of a final assistant turn, behind a router or not:
   * `openAILastRoleError`): later such requests are refused before the call (`lastRoleRefusal`, by that provider's rule).
   */
  private lastRoleRefused: FinalTurnRefuser | undefined;
  /** `options.refusesFinalAssistant: false`: the config says the server takes a final assistant message (never latched). */
  private readonly takesFinalAssistant: boolean;
  /**
   * `generate` adds no abort listener of its own and hands the signal only to `ctx.fetch`: it releases its listeners
   * and settles as soon as the signal aborts when that fetch does (see `RELEASES_ABORT_LISTENERS`). Non-enumerable, as
   * the next: a copy of the engine's properties does not take it.
   */
  declare readonly [RELEASES_ABORT_LISTENERS]: boolean;
  /**
   * Its calls use the signal only as `fetchOrThrow`, `abortError` and `SsePartStream` do, and hand it only to `ctx.fetch`:
   * they take an `AttemptSignal` when that fetch does (see `TAKES_ATTEMPT_SIGNALS`).
   */
  declare readonly [TAKES_ATTEMPT_SIGNALS]: boolean;

  /** Throws `config_invalid` for an unknown preset, bad options or a missing base URL. */
  constructor(
    private readonly model: ModelConfig,
    private readonly ctx: EngineContext,
  ) {
    this.modelId = model.model ?? model.name;
    this.endpoint = resolveEndpoint(model, ctx);
    this.takesFinalAssistant = (model.options as Record<string, unknown> | undefined)?.['refusesFinalAssistant'] === false;
    this.providerName = this.endpoint.providerName;
    this.provider = this.providerName;
    this.capabilities = capabilitiesFrom(model.capabilities, this.modelId);
    this.embedDimensions = this.endpoint.embedDimensions ?? !FIXED_LENGTH_EMBEDDING_MODEL.test(this.modelId);
    markAbortHandling(this, { releasesAbortListeners: releasesAbortListeners(ctx.fetch), takesAttemptSignals: takesAttemptSignals(ctx.fetch) });
  }

  private get errorContext(): { provider: string; deployment: string } {
    return { provider: this.providerName, deployment: this.model.name };
  }

  private init(body: Record<string, unknown>, options: CallOptions, stream: boolean): RequestInit {
    // Lower-case names, so a later source replaces an earlier one whatever the letter case (as Headers.set
    // does); a plain record costs a fraction of a Headers object, and fetch validates names and values.
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    headers['content-type'] = 'application/json';
    headers.accept = stream ? 'text/event-stream' : 'application/json';
    setHeaders(headers, this.model.headers);
    setHeaders(headers, options.headers);
    setHeaders(headers, authHeaders(this.endpoint, this.model, this.ctx));
    // The fetch follows no redirect (the key headers, Azure's `api-key` too, would go with it); `fetchOrThrow` and
    // `generate` follow one within the origin: see `NO_REDIRECT`.
    return { method: 'POST', headers, body: JSON.stringify(body), redirect: NO_REDIRECT, ...(options.signal ? { signal: options.signal } : {}) };
  }

  /** POST, returning a 2xx response or throwing the mapped LLMError. */
  private async post(path: 'chat/completions' | 'embeddings', init: RequestInit): Promise<Response> {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw abortError(signal, this.errorContext);
    const response = await fetchOrThrow(this.ctx.fetch, endpointURL(this.endpoint, path), init, this.errorContext);
    if (!response.ok) throw await openAIErrorFromResponse(response, this.errorContext);
    return response;
  }

  /** Reads and parses the JSON body of a 2xx response; a cut or unparseable body is an `afterResponse` error. */
  private async readJson(response: Response, signal: AbortSignal | undefined): Promise<unknown> {
    try {
      return parseJsonOrThrow(await response.text(), this.providerName);
    } catch (e) {
      throw afterResponseError(e, signal, this.errorContext);
    }
  }

  private invalidResponse(what: string, issue: string | undefined, body: unknown): LLMError {
    return new LLMError({
      code: 'invalid_response',
      message: `${this.providerName} sent an unexpected ${what}: ${issue ?? 'unknown shape'}`,
      details: body,
      ...this.errorContext,
    });
  }

  /**
   * A message's author `name` OpenAI and Azure OpenAI refuse (`openAIMessageNameRefusal`), a final assistant message
   * Mistral, or a Gemini or Claude model a router's provider-prefixed id names, refuses (`finalAssistantRefusal`), or, once the server refused a conversation's last role
   * (`lastRoleRefused`), such a conversation (`lastRoleRefusal`), else undefined: a router leaves the deployment out
   * for such a request (`generate` and `stream` refuse it too, before the call).
   */
  refusal(request: GenerateRequest): EngineRefusal | undefined {
    const e = this.endpoint;
    const named = e.checkMessageNames && e.messageNames && Array.isArray(request.messages) ? openAIMessageNameRefusal(request.messages, e.preset.label) : undefined;
    return named ?? finalAssistantRefusal(request, e) ?? (this.lastRoleRefused !== undefined ? lastRoleRefusal(request, e, this.lastRoleRefused) : undefined);
  }

  /** After the server refused a conversation's last role: such a request refused before the call (`lastRoleRefusal`). */
  private checkLastRole(request: GenerateRequest): void {
    const refusal = this.lastRoleRefused !== undefined ? lastRoleRefusal(request, this.endpoint, this.lastRoleRefused) : undefined;
    if (refusal) throw new LLMError({ code: 'unsupported', message: refusal.message, param: refusal.param, ...this.errorContext });
  }

  /**
   * `e`, or a provider's refusal of how the conversation ends naming its last message (`openAILastRoleError`: Mistral's,
   * Google's, Anthropic's, behind a router or not), which latches the engine
   * unless its config says the server takes a final assistant message (`options.refusesFinalAssistant: false`: such
   * requests keep being sent, as Gemini's explicit `prefill: true` is never latched).
   */
  private chatError(e: unknown, request: GenerateRequest): unknown {
    const refused = openAILastRoleError(e, request, this.endpoint);
    if (!refused) return e;
    if (refused.latch !== undefined && !this.takesFinalAssistant) this.lastRoleRefused = refused.latch;
    return refused.error;
  }

  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    const signal = options.signal;
    try {
      this.checkLastRole(request);
      const reasoning = this.capabilities.reasoning === true;
      // Tool names over OpenAI's 64 characters go shortened, and come back as they were (`longToolNames`).
      const names = longToolNames(request);
      const body = buildOpenAIRequestBody(names ? withShortToolNames(request, names) : request, this.modelId, this.endpoint, false, reasoning);
      // `post` and `readJson` inlined (one async frame instead of four), with their error mapping.
      const init = this.init(body, options, false);
      if (signal?.aborted) throw abortError(signal, this.errorContext);
      let response: Response;
      try {
        const url = endpointURL(this.endpoint, 'chat/completions');
        response = await this.ctx.fetch(url, init);
        // A redirect within the origin is followed (see `NO_REDIRECT`); any other is the error below.
        if (!response.ok) response = await followRedirects(this.ctx.fetch, url, init, response);
      } catch (e) {
        throw signal?.aborted ? abortError(signal, this.errorContext) : toLLMError(e, this.errorContext);
      }
      if (!response.ok) throw this.chatError(await openAIErrorFromResponse(response, this.errorContext), request);
      options.onProviderResponse?.();
      let json: unknown;
      try {
        json = parseJsonOrThrow(await response.text(), this.providerName);
      } catch (e) {
        throw afterResponseError(e, signal, this.errorContext);
      }
      const read = readOpenAIChatResponse(json);
      if (!read.ok) throw this.invalidResponse('chat completion', read.issue, json);
      // The answer's logprobs are read only when the body asked for them (the request's logprobs, or providerOptions).
      const result = convertOpenAIChatResponse(read.response, () => estimateRequestTokens(request), body.logprobs === true);
      let warnings = openAIRequestWarnings(request, this.endpoint, body, reasoning, this.modelId);
      if (names) {
        restoreToolCallNames(result.toolCalls, names);
        warnings = [...(warnings ?? []), ...shortToolNameWarnings(names, request, this.endpoint.preset.label)];
      }
      if (warnings) result.warnings = warnings;
      // A `prefix` server's answer repeats the prefill (Mistral): only the continuation is the answer.
      return stripPrefillEcho(result, prefillEcho(request, body, this.endpoint));
    } catch (e) {
      if (signal?.aborted && !LLMError.isInstance(e)) throw abortError(signal, this.errorContext);
      throw toLLMError(e, this.errorContext);
    }
  }

  /**
   * Streams parts, a `warnings` part first when the request had a field this endpoint does not send
   * (`openAIRequestWarnings`); never throws: every failure is a final `error` part (HTTP errors before the first part,
   * `stream_interrupted` when the connection drops or the stream ends without `[DONE]`/`finish_reason`,
   * `aborted` when the signal fires). A 200 whose body starts with `{` (a server that ignored `stream: true`), whatever
   * its content-type, is read whole (`onProviderResponse` called first): a chat completion gives the parts its stream
   * would have, an error object the error part (`OpenAIStreamDecoder.whole`); any other body is SSE, decoded as it
   * arrives (an event stream labelled `application/json` too).
   */
  stream(request: GenerateRequest, options: CallOptions = {}): AsyncIterableIterator<StreamPart> {
    const names = longToolNames(request);
    // The prefill a `prefix` server repeats at the start of its answer (Mistral), known once the body is built.
    let echo: string | undefined;
    const parts = httpSseStream(this.errorContext, options.signal, async () => {
      this.checkLastRole(request);
      const reasoning = this.capabilities.reasoning === true;
      const body = buildOpenAIRequestBody(names ? withShortToolNames(request, names) : request, this.modelId, this.endpoint, true, reasoning);
      echo = prefillEcho(request, body, this.endpoint);
      const response = await this.post('chat/completions', this.init(body, options, true)).catch((e: unknown) => Promise.reject(this.chatError(e, request)));
      let warnings = openAIRequestWarnings(request, this.endpoint, body, reasoning, this.modelId);
      if (names) warnings = [...(warnings ?? []), ...shortToolNameWarnings(names, request, this.endpoint.preset.label)];
      // Written out rather than spread from `errorContext`: on Node 20 keys added after a spread give each
      // object a map of its own (more GC and megamorphic reads of the decoder's options per stream).
      const decoder = new OpenAIStreamDecoder({
        provider: this.providerName,
        deployment: this.model.name,
        estimateInputTokens: () => estimateRequestTokens(request),
        warnings,
        logprobs: body.logprobs === true,
        onWholeAnswer: options.onProviderResponse,
      });
      return { response, decoder };
    });
    const answer = this.endpoint.prefillEcho ? stripStreamPrefillEcho(parts, () => echo) : parts;
    return names ? restoreStreamToolNames(answer, names) : answer;
  }

  /**
   * Embeddings via `POST /embeddings` (float vectors, in input order), `options.dimensions` sent as `dimensions`,
   * `options.user` as `user` (where the preset takes it, as on chat: else a `setting_not_sent` warning).
   */
  embed(input: string[], options: EmbedCallOptions = {}): Promise<EmbedResult> {
    if (!Array.isArray(input) || input.length === 0 || input.some((s) => typeof s !== 'string')) {
      return Promise.reject(new LLMError({ code: 'invalid_request', message: 'input: a non-empty array of strings is required', param: 'input', ...this.errorContext }));
    }
    return this.postEmbeddings(input, options);
  }

  /**
   * `embed` with token ids (one non-empty array per input), sent as OpenAI's API takes them (`input: number[][]`):
   * the caller's tokenizer's ids, right only for a model with the same one (OpenAI's own, tokenized with tiktoken).
   */
  embedTokens(input: number[][], options: EmbedCallOptions = {}): Promise<EmbedResult> {
    if (!Array.isArray(input) || input.length === 0 || !input.every(isTokenIds)) {
      return Promise.reject(new LLMError({ code: 'invalid_request', message: 'input: a non-empty array of non-empty token id arrays is required', param: 'input', ...this.errorContext }));
    }
    return this.postEmbeddings(input, options);
  }

  private async postEmbeddings(input: string[] | number[][], options: EmbedCallOptions): Promise<EmbedResult> {
    try {
      const body: Record<string, unknown> = { input, encoding_format: 'float' };
      if (options.dimensions !== undefined) body.dimensions = options.dimensions;
      // `user` as on chat (`buildOpenAIRequestBody`): not sent where the preset takes no `user` field, with a warning.
      let warnings: CallWarning[] | undefined;
      if (options.user !== undefined) {
        if (this.endpoint.preset.quirks?.userField !== false) body.user = options.user;
        else warnings = [{ code: 'setting_not_sent', field: 'user', message: `user was not sent: ${this.endpoint.preset.label} takes no user field.` }];
      }
      if (!this.endpoint.azure) body.model = this.modelId;
      const response = await this.post('embeddings', this.init(body, options, false));
      options.onProviderResponse?.();
      const json = await this.readJson(response, options.signal);
      const parsed = OpenAIEmbeddingResponseSchema.safeParse(json);
      if (!parsed.success) throw this.invalidResponse('embeddings response', parsed.error.issues[0]?.message, json);
      const data = parsed.data.data;
      if (data.length !== input.length) {
        throw this.invalidResponse('embeddings response', `${data.length} embeddings for ${input.length} inputs`, json);
      }
      // Each vector goes where its `index` says; a missing (or null) index is the item's position (Gemini's
      // OpenAI-compatible endpoint leaves out an index of 0). The indexes must be 0..n-1 once each: a duplicate would
      // give one input another's vector. (The router checks that the vectors are of one length, for every engine.)
      const embeddings = new Array<number[]>(data.length);
      for (let i = 0; i < data.length; i++) {
        const at = data[i]!.index ?? i;
        if (!Number.isInteger(at) || at < 0 || at >= data.length || embeddings[at] !== undefined) {
          throw this.invalidResponse('embeddings response', `the indexes are not 0 to ${data.length - 1}, one per input`, json);
        }
        embeddings[at] = data[i]!.embedding;
      }
      const usage = parsed.data.usage
        ? { ...convertOpenAIUsage(parsed.data.usage), outputTokens: 0 }
        : (() => {
            // Token ids count as many tokens as they are; texts are estimated.
            if (typeof input[0] !== 'string') {
              const tokens = (input as number[][]).reduce((n, ids) => n + ids.length, 0);
              return { inputTokens: tokens, outputTokens: 0, totalTokens: tokens };
            }
            const tokens = (input as string[]).reduce((n, s) => n + estimateTokens(s), 0);
            return { inputTokens: tokens, outputTokens: 0, totalTokens: tokens, estimated: true };
          })();
      usage.totalTokens = usage.inputTokens;
      return warnings ? { embeddings, usage, warnings } : { embeddings, usage };
    } catch (e) {
      if (options.signal?.aborted && !LLMError.isInstance(e)) throw abortError(options.signal, this.errorContext);
      throw toLLMError(e, this.errorContext);
    }
  }

  /**
   * An estimate (~4 characters per token, plus OpenAI's per-message framing: the shared
   * `estimateRequestTokens`); OpenAI-compatible servers expose no tokenizer endpoint in common.
   */
  countTokens(request: GenerateRequest): number {
    return estimateRequestTokens(request);
  }
}

/** The `openai-compatible` engine factory (see `OpenAICompatibleEngine`). */
export function createOpenAICompatibleEngine(model: ModelConfig, ctx: EngineContext): LanguageEngineV1 {
  return new OpenAICompatibleEngine(model, ctx);
}

/**
 * What the router may offer a deployment without creating its engine: without a `capabilities` list, one of OpenAI's
 * embedding models (by model id) embeds only, never chats; otherwise undefined (the engine's, or the list).
 */
export function openAICompatibleCapabilities(model: ModelConfig): readonly Capability[] | undefined {
  return !model.capabilities && OPENAI_EMBEDDING_MODEL.test(model.model ?? model.name) ? EMBED_ONLY : undefined;
}

createOpenAICompatibleEngine.capabilities = openAICompatibleCapabilities;
createOpenAICompatibleEngine.checkConfig = checkOpenAICompatibleConfig;
createOpenAICompatibleEngine.needsApiKey = openAICompatibleNeedsApiKey;
createOpenAICompatibleEngine.provider = openAICompatibleProviderName;
