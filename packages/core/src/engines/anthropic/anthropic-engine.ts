import { LLMError } from '../../errors/llm-error.js';
import { toLLMError } from '../../errors/to-llm-error.js';
import type { CallOptions, CountTokensCallOptions, EngineRefusal, GenerateResult, LanguageEngineV1 } from '../../spec/engine-v1.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { FetchFn } from '../../util/http.js';
import { postJson, readJsonBody } from '../shared/http-engine-call.js';
import { httpSseStream } from '../shared/http-sse-stream.js';
import { withAnthropicBetas } from './anthropic-beta-headers.js';
import { hasOneHourCacheControl, EXTENDED_CACHE_TTL_BETA } from './anthropic-cache-control.js';
import { anthropicResponseError } from './anthropic-error.js';
import { AnthropicStreamDecoder } from './anthropic-stream-decoder.js';
import { convertAnthropicResponse } from './convert-anthropic-response.js';
import { convertToAnthropicRequest, type ConvertedAnthropicRequest } from './convert-to-anthropic-request.js';
import { estimateAnthropicTokens } from './estimate-anthropic-tokens.js';
import { anthropicDeploymentTakesTemperatureAbove1 } from './fit-anthropic-sampling.js';
import { anthropicDeploymentTakesMidConversationSystem } from './anthropic-mid-conversation-models.js';
import { anthropicModelRefusesPrefill, anthropicPrefillError, anthropicPrefillRefusal, checkAnthropicPrefill } from './anthropic-prefill-models.js';
import { anthropicModelTakesStrictTools, anthropicStrictToolsBeta, anthropicStrictToolsOffReason } from './anthropic-strict-tools.js';

export interface AnthropicEngineSettings {
  /** Anthropic model id (`claude-sonnet-4-5`, ...). */
  modelId: string;
  /** API root without `/v1` (`https://api.anthropic.com`); a trailing `/v1` is accepted too. */
  baseURL: string;
  apiKey: string | undefined;
  /** Where the key was looked for, for the error when it is missing. */
  apiKeySource: string;
  /** Extra headers on every request (config `headers`). */
  headers: Record<string, string>;
  fetch: FetchFn;
  /** `max_tokens` when a request sets none. */
  defaultMaxTokens: number;
  /** Config `maxOutputTokens`: the model's cap, which `max_tokens` raised for thinking never passes. */
  maxOutputTokens?: number;
  /**
   * Whether the deployment takes `thinking` (config `capabilities` lists `reasoning`; without a list, every
   * model but Claude 3.5 and earlier: `anthropicModelThinks`). False: `request.reasoning` is dropped. Default true.
   */
  reasoning?: boolean;
  anthropicVersion: string;
  jsonToolName: string;
  exactTokenCount: boolean;
  /**
   * Whether the model takes mid-conversation system messages (`{ role: "system" }` inside `messages`): a system
   * message after the conversation started is then sent in place where its position allows, instead of joined
   * into the top-level `system`. Default: true for Claude Opus 4.8 ids outside the clouds that lack the feature
   * (`anthropicDeploymentTakesMidConversationSystem`: not on a Microsoft Foundry base URL), false otherwise; true for
   * another model is the caller's choice (a model Anthropic opens the feature to later).
   */
  midConversationSystem?: boolean;
  /**
   * Whether the deployment takes strict tool use (`tools[].strict`, and a strict JSON-mode tool). Default:
   * `anthropicModelTakesStrictTools(modelId)` (Claude Haiku / Sonnet / Opus 4.5 and later, not their Vertex AI ids);
   * true forces it on (a model or platform the table does not know), false off (not sent, warned). On a Microsoft
   * Foundry base URL a strict tool goes with `anthropic-beta: structured-outputs-2025-11-13`.
   */
  strictTools?: boolean;
  /**
   * Whether the model takes a conversation ending with an assistant message (a prefill): `options.prefill`, else not
   * for the models `anthropicModelRefusesPrefill` lists (Claude Opus / Sonnet 4.6 and later). False: such a request is
   * refused before the call (`refusal`). Default true.
   */
  prefill?: boolean;
  /** Config model name, reported on errors. */
  deployment?: string;
}

const PROVIDER = 'anthropic';

/** The `anthropic` engine: Anthropic Messages API over fetch, streamed with SSE. */
export class AnthropicEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1' as const;
  readonly provider = PROVIDER;
  readonly modelId: string;
  /** True with `options.exactTokenCount`: `countTokens` then asks the provider's own count endpoint. */
  readonly countTokensExact: boolean;
  /** Same as `countTokensExact`: the provider's count is a network call (`local: true` skips it). */
  readonly countTokensRemote: boolean;
  /** `countTokens` calls `options.onProviderRequest` right before its request to count_tokens goes out. */
  readonly countTokensReportsRequest = true;
  readonly capabilities: { readonly streaming: true; readonly tools: true; readonly json: true; readonly vision: true; readonly reasoning: boolean };
  /** Whether a later system message may go in place (`settings.midConversationSystem`, resolved). */
  readonly midConversationSystem: boolean;
  /** Whether strict tool use is sent (`settings.strictTools`, resolved once). */
  readonly strictTools: boolean;
  private readonly strictToolsOff: string | undefined;
  private readonly strictToolsBeta: string | undefined;
  /** Whether a temperature above 1 is sent as asked (`anthropicDeploymentTakesTemperatureAbove1`, resolved once). */
  private readonly takesTemperatureAbove1: boolean;
  /**
   * The model refuses a conversation ending with an assistant message (`AnthropicEngineSettings.prefill` false, else
   * the table). Without `prefill` set, also once the server answered such a request with Anthropic's 400
   * (`anthropicPrefillError`: a name the table does not know).
   */
  private refusesPrefill: boolean;
  private readonly context: { provider: string; deployment?: string };

  constructor(private readonly settings: AnthropicEngineSettings) {
    this.modelId = settings.modelId;
    this.countTokensExact = settings.exactTokenCount;
    this.countTokensRemote = settings.exactTokenCount;
    this.context = { provider: PROVIDER, deployment: settings.deployment };
    this.capabilities = { streaming: true, tools: true, json: true, vision: true, reasoning: settings.reasoning !== false };
    this.midConversationSystem = settings.midConversationSystem ?? anthropicDeploymentTakesMidConversationSystem(settings.modelId, settings.baseURL);
    this.strictTools = settings.strictTools ?? anthropicModelTakesStrictTools(settings.modelId);
    this.strictToolsOff = this.strictTools
      ? undefined
      : settings.strictTools === false
        ? 'strict tool use is off for this deployment (options.strictTools)'
        : `${anthropicStrictToolsOffReason(settings.modelId)}; set options.strictTools on the model to send it anyway`;
    this.strictToolsBeta = anthropicStrictToolsBeta(settings.baseURL);
    this.takesTemperatureAbove1 = anthropicDeploymentTakesTemperatureAbove1(settings.modelId, settings.baseURL);
    this.refusesPrefill = settings.prefill === undefined ? anthropicModelRefusesPrefill(settings.modelId) : !settings.prefill;
  }

  /**
   * A conversation ending with an assistant message to a model that refuses a prefill (`anthropicPrefillRefusal`:
   * Claude Opus / Sonnet 4.6 and later), else undefined: a router leaves the deployment out for it (`generate` and
   * `stream` refuse it too, before the call).
   */
  refusal(request: GenerateRequest): EngineRefusal | undefined {
    return anthropicPrefillRefusal(request, this.modelId, this.refusesPrefill);
  }

  private url(path: string): string {
    const base = this.settings.baseURL.replace(/\/+$/, '');
    return `${base.endsWith('/v1') ? base : `${base}/v1`}${path}`;
  }

  private convert(request: GenerateRequest): ConvertedAnthropicRequest {
    return convertToAnthropicRequest(request, {
      modelId: this.modelId,
      defaultMaxTokens: this.settings.defaultMaxTokens,
      ...(this.settings.maxOutputTokens !== undefined ? { maxOutputTokens: this.settings.maxOutputTokens } : {}),
      reasoning: this.capabilities.reasoning,
      jsonToolName: this.settings.jsonToolName,
      midConversationSystem: this.midConversationSystem,
      strictTools: this.strictTools,
      ...(this.strictToolsOff !== undefined ? { strictToolsOff: this.strictToolsOff } : {}),
      ...(this.strictToolsBeta !== undefined ? { strictToolsBeta: this.strictToolsBeta } : {}),
      takesTemperatureAbove1: this.takesTemperatureAbove1,
      ...this.context,
    });
  }

  /**
   * POSTs JSON; resolves with a 2xx response, else rejects with the mapped LLMError. `betas` join any
   * `anthropic-beta` values of the config and the call into one header.
   */
  private post(path: string, body: unknown, options: CallOptions, betas: readonly string[] = []): Promise<Response> {
    let headers = this.settings.headers;
    if (betas.length > 0) {
      const merged = withAnthropicBetas(headers, options.headers, betas);
      headers = merged.config;
      options = { ...options, headers: merged.call };
    }
    return postJson({
      fetch: this.settings.fetch,
      url: this.url(path),
      body,
      options,
      context: this.context,
      apiKey: this.settings.apiKey,
      apiKeySource: this.settings.apiKeySource,
      providerHeaders: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': this.settings.anthropicVersion }),
      headers,
      responseError: anthropicResponseError,
    });
  }

  private readJson(response: Response, signal: AbortSignal | undefined): Promise<unknown> {
    return readJsonBody(response, signal, this.context);
  }

  /**
   * `e`, or Anthropic's 400 refusing the request's prefill as `unsupported` naming the message (`anthropicPrefillError`),
   * which latches the engine unless its config says the model takes a prefill (`options.prefill: true`, as Gemini's).
   */
  private messagesError(e: unknown, request: GenerateRequest): unknown {
    const refused = anthropicPrefillError(e, request, this.modelId);
    if (!refused) return e;
    if (refused.latch && this.settings.prefill === undefined) this.refusesPrefill = true;
    return refused.error;
  }

  /** POST /messages, Anthropic's 400 refusing a prefill mapped (`messagesError`). */
  private async postMessages(request: GenerateRequest, body: unknown, options: CallOptions, betas?: readonly string[]): Promise<Response> {
    try {
      return await this.post('/messages', body, options, betas);
    } catch (e) {
      throw this.messagesError(e, request);
    }
  }

  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    try {
      checkAnthropicPrefill(request, this.modelId, this.refusesPrefill, this.context);
      const converted = this.convert(request);
      const response = await this.postMessages(request, { ...converted.body, stream: false }, options, converted.betas);
      options.onProviderResponse?.();
      const json = await this.readJson(response, options.signal);
      const result = convertAnthropicResponse(json, { ...this.context, jsonToolName: converted.jsonToolName });
      if (converted.warnings) result.warnings = converted.warnings;
      return result;
    } catch (e) {
      throw toLLMError(e, this.context);
    }
  }

  /**
   * Streams the answer through `SsePartStream` (nothing is sent before the first `next()`); the request's
   * warnings, when there are any, are the first part (`warnings`), before the answer's parts; every failure
   * (HTTP status, `error` event, cut connection, abort) ends it with an `error` part. `return()` and the
   * terminal part cancel the body.
   */
  stream(request: GenerateRequest, options: CallOptions = {}): AsyncIterableIterator<StreamPart> {
    const signal = options.signal;
    return httpSseStream(this.context, signal, async () => {
      checkAnthropicPrefill(request, this.modelId, this.refusesPrefill, this.context);
      const converted = this.convert(request);
      const response = await this.postMessages(request, { ...converted.body, stream: true }, options, converted.betas);
      const decoder = new AnthropicStreamDecoder({ ...this.context, jsonToolName: converted.jsonToolName, signal, ...(converted.warnings ? { warnings: converted.warnings } : {}) });
      return { response, decoder };
    });
  }

  /**
   * Prompt tokens of a request: a local estimate, or with `options.exactTokenCount` the answer of
   * POST /v1/messages/count_tokens (one network call, cancelled by `options.signal`; rejects with an
   * LLMError when it fails). `options.local`: the local estimate in any case. `options.onProviderRequest`
   * is called right before the request goes out (not when the request is refused while being built).
   */
  countTokens(request: GenerateRequest, options: CountTokensCallOptions = {}): number | Promise<number> {
    if (!this.settings.exactTokenCount || options.local) return estimateAnthropicTokens(request);
    return this.countTokensExactly(request, options);
  }

  private async countTokensExactly(request: GenerateRequest, options: CountTokensCallOptions): Promise<number> {
    const { signal } = options;
    try {
      // The messages body for the same request (same thinking form, budget fitted under the same max_tokens);
      // count_tokens takes only the prompt fields; sampling fields such as max_tokens are rejected. The cache
      // marks on blocks, tools and system stay (count_tokens accepts them); the top-level automatic one is left
      // out: it changes no count.
      const { body } = this.convert(request);
      const countBody: Record<string, unknown> = { model: body.model, messages: body.messages };
      for (const key of ['system', 'tools', 'tool_choice', 'thinking', 'output_config'] as const) if (body[key] !== undefined) countBody[key] = body[key];
      const betas = hasOneHourCacheControl({ ...body, cache_control: undefined }) ? [EXTENDED_CACHE_TTL_BETA] : [];
      if (this.strictToolsBeta !== undefined && body.tools?.some((t) => t.strict === true)) betas.push(this.strictToolsBeta);
      options.onProviderRequest?.();
      const response = await this.post('/messages/count_tokens', countBody, signal ? { signal } : {}, betas);
      const json = await this.readJson(response, signal);
      const count = (json as { input_tokens?: unknown } | null)?.input_tokens;
      if (typeof count !== 'number') {
        throw new LLMError({ code: 'invalid_response', message: 'anthropic: count_tokens answer has no input_tokens', details: json, ...this.context });
      }
      return count;
    } catch (e) {
      throw toLLMError(e, this.context);
    }
  }
}
