import { LRUCache } from 'lru-cache';
import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type { CallOptions, CountTokensCallOptions, EmbedCallOptions, EmbedResult, EngineRefusal, GenerateResult, LanguageEngineV1 } from '../../spec/engine-v1.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { FetchFn } from '../../util/http.js';
import { postJson, readJsonBody } from '../shared/http-engine-call.js';
import { httpSseStream } from '../shared/http-sse-stream.js';
import { GEMINI_TOOL_NAME, GEMINI_TOOL_NAME_MAX_LENGTH, longToolNames, restoreStreamToolNames, restoreToolCallNames, shortToolNameWarnings, withShortToolNames } from '../shared/short-tool-names.js';
import { convertGeminiResponse } from './convert-gemini-response.js';
import { convertToGeminiRequest } from './convert-to-gemini-request.js';
import { estimateGeminiTokens, estimateTextTokens } from './estimate-gemini-tokens.js';
import type { GeminiGenerateContentRequest } from './gemini-api-types.js';
import { geminiResponseError } from './gemini-error.js';
import { asksLogprobs, isGeminiLogprobsRefusal, withoutLogprobs } from './gemini-logprobs-refusal.js';
import { checkGeminiModelTurn, geminiModelTurnError, geminiModelTurnRefusal, geminiRefusesModelTurn } from './gemini-model-turn-prefill.js';
import { geminiRequestWarnings } from './gemini-request-warnings.js';
import { GeminiStreamDecoder } from './gemini-stream-decoder.js';

export interface GeminiEngineSettings {
  /** Gemini model id (`gemini-2.5-flash`, or a full `models/...` / `tunedModels/...` name). */
  modelId: string;
  /** API root (`https://generativelanguage.googleapis.com`); one ending in the version (`/v1beta`) is accepted too. */
  baseURL: string;
  apiVersion: string;
  apiKey: string | undefined;
  /** Where the key was looked for, for the error when it is missing. */
  apiKeySource: string;
  headers: Record<string, string>;
  fetch: FetchFn;
  /** `maxOutputTokens` when a request sets none (Gemini needs none). */
  defaultMaxTokens?: number;
  exactTokenCount: boolean;
  embeddingModel?: string;
  embeddingDimensions?: number;
  /** Thought signatures kept for multi-turn tool calls (0 disables). */
  thoughtSignatureCacheSize: number;
  /** Download the prompt's image URLs from loopback, private and link-local addresses too. Default false. */
  allowPrivateImageUrls?: boolean;
  /** How an image URL with a host name is downloaded (`downloadImage`'s `imageFetch`). Default `pinned`. */
  imageFetch?: 'pinned' | 'fetch';
  /**
   * Whether the deployment takes `thinkingConfig` (config `capabilities` lists `reasoning`; without a list, every
   * model but those in `geminiModelThinks`'s list: Gemini 1.x/2.0, Gemma...). False: `request.reasoning` is dropped.
   * Default true.
   */
  reasoning?: boolean;
  /**
   * Whether the model takes a request ending with a `model` turn (a final assistant message, sent as a prefill):
   * `options.prefill`, else not for the models `geminiRefusesModelTurn` lists (Gemini 3.6 Flash, 3.5 Flash-Lite and
   * later). False: such a request is refused before the call (`refusal`). Default true.
   */
  prefill?: boolean;
  deployment?: string;
}

const PROVIDER = 'gemini';
/** batchEmbedContents takes at most 100 requests per call. */
const EMBED_BATCH = 100;

function modelPath(id: string): string {
  return /^(?:models|tunedModels)\//.test(id) ? id : `models/${id}`;
}

/** Gemini's embedding models (`gemini-embedding-001`, `text-embedding-004`, `embedding-001`, ...): ids naming an embedding. */
export const GEMINI_EMBEDDING_MODEL = /embedding/i;

/** `v` scaled to unit L2 length (a zero vector as it is). */
function unitLength(v: number[]): number[] {
  let sum = 0;
  for (const x of v) sum += x * x;
  if (sum === 0) return v;
  const norm = Math.sqrt(sum);
  return v.map((x) => x / norm);
}

/** Gemini embedding models without `outputDimensionality` (the legacy `embedding-001`, not `gemini-embedding-001`). */
const FIXED_LENGTH_EMBEDDING_MODEL = /(^|\/)embedding-001$/;

/** The `gemini` engine: Gemini API (Google AI Studio) generateContent / streamGenerateContent over fetch. */
export class GeminiEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1' as const;
  readonly provider = PROVIDER;
  readonly modelId: string;
  /** True with `options.exactTokenCount`: `countTokens` then asks the provider's own count endpoint. */
  readonly countTokensExact: boolean;
  /** Same as `countTokensExact`: the provider's count (and the prompt's image downloads) is network I/O. */
  readonly countTokensRemote: boolean;
  /** `countTokens` calls `options.onProviderRequest` once the image URLs are fetched, right before :countTokens. */
  readonly countTokensReportsRequest = true;
  /** `generate` and `stream` call `options.onProviderRequest` once the image URLs are fetched, right before their request. */
  readonly reportsProviderRequest = true;
  readonly capabilities: {
    readonly streaming: true;
    readonly tools: true;
    readonly json: true;
    readonly vision: true;
    /** With an embedding model only: `options.embeddingModel`, or a model id naming one (`gemini-embedding-001`). */
    readonly embeddings: boolean;
    readonly reasoning: boolean;
  };
  /**
   * `embed` takes `dimensions` (sent as `outputDimensionality`), except with the legacy `embedding-001`, which has one
   * length only (a router then leaves this deployment out for such calls). Texts only (no `embedTokens`): Gemini takes
   * no token ids.
   */
  readonly embedDimensions: boolean;
  private readonly context: { provider: string; deployment?: string };
  private readonly signatures: LRUCache<string, string> | undefined;
  /**
   * Set once the model answered `responseLogprobs` with 400 "Logprobs is not enabled" (`isGeminiLogprobsRefusal`):
   * later calls of this engine (one model id) no longer send it, and warn.
   */
  private logprobsRefused = false;
  /**
   * The model refuses a request ending with a `model` turn (`GeminiEngineSettings.prefill` false). Without
   * `prefill` set, also once the model answered such a request with Google's 400 (`geminiModelTurnError`: an alias or
   * an id the table does not know), for this engine's later calls, as `logprobsRefused` is.
   */
  private refusesModelTurn: boolean;

  constructor(private readonly settings: GeminiEngineSettings) {
    this.modelId = settings.modelId;
    this.embedDimensions = !FIXED_LENGTH_EMBEDDING_MODEL.test(settings.embeddingModel ?? settings.modelId);
    this.countTokensExact = settings.exactTokenCount;
    this.countTokensRemote = settings.exactTokenCount;
    this.context = { provider: PROVIDER, deployment: settings.deployment };
    // Embeddings only with an embedding model: Gemini's chat models have no :batchEmbedContents (a 404).
    const embeddings = settings.embeddingModel !== undefined || GEMINI_EMBEDDING_MODEL.test(settings.modelId);
    this.capabilities = { streaming: true, tools: true, json: true, vision: true, embeddings, reasoning: settings.reasoning !== false };
    this.refusesModelTurn = settings.prefill === undefined ? geminiRefusesModelTurn(settings.modelId) : !settings.prefill;
    this.signatures = settings.thoughtSignatureCacheSize > 0 ? new LRUCache({ max: settings.thoughtSignatureCacheSize }) : undefined;
  }

  private url(model: string, method: string): string {
    const base = this.settings.baseURL.replace(/\/+$/, '');
    const root = /\/v\d+[a-z0-9]*$/.test(base) ? base : `${base}/${this.settings.apiVersion}`;
    return `${root}/${modelPath(model)}:${method}`;
  }

  private rememberSignature = (id: string, signature: string): void => {
    this.signatures?.set(id, signature);
  };

  /** `warnings`: where the conversion puts what it changed on the way (reported with `geminiRequestWarnings`'). */
  private convert(request: GenerateRequest, signal: AbortSignal | undefined, warnings?: CallWarning[]): Promise<GeminiGenerateContentRequest> {
    return convertToGeminiRequest(request, {
      ...this.context,
      modelId: this.modelId,
      reasoning: this.capabilities.reasoning,
      defaultMaxTokens: this.settings.defaultMaxTokens,
      fetch: this.settings.fetch,
      signal,
      allowPrivateImageUrls: this.settings.allowPrivateImageUrls,
      imageFetch: this.settings.imageFetch,
      thoughtSignature: (id) => this.signatures?.get(id),
      warnings,
    });
  }

  /** POSTs JSON; resolves with a 2xx response, else rejects with the mapped LLMError. */
  private post(url: string, body: unknown, options: CallOptions): Promise<Response> {
    return postJson({
      fetch: this.settings.fetch,
      url,
      body,
      options,
      context: this.context,
      apiKey: this.settings.apiKey,
      apiKeySource: this.settings.apiKeySource,
      providerHeaders: (apiKey) => ({ 'x-goog-api-key': apiKey }),
      headers: this.settings.headers,
      responseError: geminiResponseError,
    });
  }

  private readJson(response: Response, signal: AbortSignal | undefined): Promise<unknown> {
    return readJsonBody(response, signal, this.context);
  }

  /**
   * POSTs a generateContent `body`. Log probabilities the request asked for go out unless this model refused them
   * before; on the model's refusal (400 "Logprobs is not enabled"), the call is sent once more without them.
   * Resolves with the response and the body that got it, and whether log probabilities were held back.
   */
  private async postGenerate(
    request: GenerateRequest,
    body: GeminiGenerateContentRequest,
    method: string,
    options: CallOptions,
  ): Promise<{ response: Response; body: GeminiGenerateContentRequest; logprobsRefused: boolean }> {
    try {
      return await this.postGenerateOnce(request, body, method, options);
    } catch (e) {
      // The model refuses the request's trailing model turn: `unsupported` naming the message (a router falls back).
      const refused = geminiModelTurnError(e, request, this.modelId);
      if (!refused) throw e;
      if (this.settings.prefill === undefined) this.refusesModelTurn = true;
      throw refused;
    }
  }

  private async postGenerateOnce(
    request: GenerateRequest,
    body: GeminiGenerateContentRequest,
    method: string,
    options: CallOptions,
  ): Promise<{ response: Response; body: GeminiGenerateContentRequest; logprobsRefused: boolean }> {
    const url = this.url(this.modelId, method);
    const asked = request.logprobs !== undefined && asksLogprobs(body);
    if (asked && this.logprobsRefused) {
      const sent = withoutLogprobs(body);
      return { response: await this.post(url, sent, options), body: sent, logprobsRefused: true };
    }
    try {
      return { response: await this.post(url, body, options), body, logprobsRefused: false };
    } catch (e) {
      if (!asked || !isGeminiLogprobsRefusal(e)) throw e;
      this.logprobsRefused = true;
      const sent = withoutLogprobs(body);
      return { response: await this.post(url, sent, options), body: sent, logprobsRefused: true };
    }
  }

  /**
   * The prompt's image URLs are fetched: the provider request goes out now (`options.onProviderRequest`), unless the
   * call's signal fired during the downloads (then Gemini was not asked).
   */
  private sending(options: CallOptions): void {
    if (options.signal?.aborted) throw abortError(options.signal, this.context);
    options.onProviderRequest?.();
  }

  /**
   * A request ending with an assistant turn to a model that refuses a trailing `model` turn (`geminiModelTurnRefusal`:
   * Gemini 3.6 Flash, 3.5 Flash-Lite and later), else undefined: a router leaves the deployment out for it (`generate`
   * and `stream` refuse it too, before the call).
   */
  refusal(request: GenerateRequest): EngineRefusal | undefined {
    return geminiModelTurnRefusal(request, this.modelId, this.refusesModelTurn);
  }

  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    try {
      checkGeminiModelTurn(request, this.modelId, this.refusesModelTurn, this.context);
      const changed: CallWarning[] = [];
      // Tool names over Gemini's 64 characters, or that it refuses (`-x`, `1x`), go renamed and come back as they were.
      const names = longToolNames(request, GEMINI_TOOL_NAME_MAX_LENGTH, GEMINI_TOOL_NAME);
      if (names) changed.push(...shortToolNameWarnings(names, request, 'Gemini', GEMINI_TOOL_NAME_MAX_LENGTH));
      const converted = await this.convert(names ? withShortToolNames(request, names) : request, options.signal, changed);
      this.sending(options);
      const { response, body, logprobsRefused } = await this.postGenerate(request, converted, 'generateContent', options);
      options.onProviderResponse?.();
      const json = await this.readJson(response, options.signal);
      const result = convertGeminiResponse(json, { ...this.context, onThoughtSignature: this.rememberSignature });
      if (names) restoreToolCallNames(result.toolCalls, names);
      const warnings = geminiRequestWarnings(request, body, this.capabilities.reasoning, this.modelId, logprobsRefused, changed);
      if (warnings) result.warnings = warnings;
      return result;
    } catch (e) {
      throw toLLMError(e, this.context);
    }
  }

  /**
   * Streams the answer through `SsePartStream` (nothing is sent before the first `next()`), a `warnings` part
   * first when the request had something Gemini does not take as given (`geminiRequestWarnings`; log probabilities
   * the model refuses are asked for again without them before any part, `postGenerate`); every failure
   * (HTTP status, `{ error }` chunk, cut connection, abort) ends it with an `error` part. `return()` and an
   * error chunk cancel the body.
   */
  stream(request: GenerateRequest, options: CallOptions = {}): AsyncIterableIterator<StreamPart> {
    const signal = options.signal;
    const names = longToolNames(request, GEMINI_TOOL_NAME_MAX_LENGTH, GEMINI_TOOL_NAME);
    const parts = httpSseStream(this.context, signal, async () => {
      checkGeminiModelTurn(request, this.modelId, this.refusesModelTurn, this.context);
      const changed: CallWarning[] = [];
      if (names) changed.push(...shortToolNameWarnings(names, request, 'Gemini', GEMINI_TOOL_NAME_MAX_LENGTH));
      const converted = await this.convert(names ? withShortToolNames(request, names) : request, signal, changed);
      this.sending(options);
      const { response, body, logprobsRefused } = await this.postGenerate(request, converted, 'streamGenerateContent?alt=sse', options);
      const warnings = geminiRequestWarnings(request, body, this.capabilities.reasoning, this.modelId, logprobsRefused, changed);
      return { response, decoder: new GeminiStreamDecoder({ ...this.context, signal, onThoughtSignature: this.rememberSignature, warnings }) };
    });
    return names ? restoreStreamToolNames(parts, names) : parts;
  }

  /**
   * Embeddings via :batchEmbedContents (100 texts per call), `options.dimensions` (else the deployment's
   * `embeddingDimensions`) as each request's `outputDimensionality`, the vectors then scaled to unit length (Google
   * normalizes only the model's full length). Gemini reports no usage: it is estimated. `options.user` is not sent
   * (Gemini has no end-user id field): a `setting_not_sent` warning, as on chat.
   */
  async embed(input: string[], options: EmbedCallOptions = {}): Promise<EmbedResult> {
    if (!Array.isArray(input) || input.some((t) => typeof t !== 'string')) {
      throw new LLMError({ code: 'invalid_request', message: 'gemini: embed input must be an array of strings', param: 'input', ...this.context });
    }
    const texts = input;
    const model = modelPath(this.settings.embeddingModel ?? this.modelId);
    const dimensions = options.dimensions ?? this.settings.embeddingDimensions;
    const embeddings: number[][] = [];
    try {
      for (let start = 0; start < texts.length; start += EMBED_BATCH) {
        const batch = texts.slice(start, start + EMBED_BATCH);
        const requests = batch.map((text) => ({ model, content: { parts: [{ text }] }, ...(dimensions ? { outputDimensionality: dimensions } : {}) }));
        const response = await this.post(this.url(model, 'batchEmbedContents'), { requests }, options);
        options.onProviderResponse?.();
        const json = (await this.readJson(response, options.signal)) as { embeddings?: Array<{ values?: unknown }> } | null;
        const got = json?.embeddings ?? [];
        if (got.length !== batch.length || got.some((e) => !Array.isArray(e?.values) || !(e.values as unknown[]).every((x) => typeof x === 'number'))) {
          throw new LLMError({ code: 'invalid_response', message: `gemini: asked ${batch.length} embeddings, got ${got.length} usable`, details: json, ...this.context });
        }
        // Google normalizes only the model's full length: a vector cut by outputDimensionality is scaled to unit
        // length here, as OpenAI's `dimensions` answers it (clients compare them by dot product).
        for (const e of got) embeddings.push(dimensions ? unitLength(e.values as number[]) : (e.values as number[]));
      }
    } catch (e) {
      throw toLLMError(e, this.context);
    }
    const tokens = estimateTextTokens(texts);
    const usage = { inputTokens: tokens, outputTokens: 0, totalTokens: tokens, estimated: true };
    // `user` has no Gemini field: not sent, as on chat (`geminiRequestWarnings`).
    return options.user === undefined ? { embeddings, usage } : { embeddings, usage, warnings: [{ code: 'setting_not_sent', field: 'user', message: 'user was not sent: Gemini has no end-user id field.' }] };
  }

  /**
   * Prompt tokens of a request: a local estimate, or with `options.exactTokenCount` the `totalTokens`
   * of :countTokens (one network call after the prompt's image URLs are fetched, all cancelled by
   * `options.signal`; rejects with an LLMError when it fails). `options.local`: the local estimate in any case.
   * `options.onProviderRequest` is called right before :countTokens goes out, after the image downloads: a
   * count failing or timing out while it downloads the caller's URLs has not asked Gemini.
   */
  countTokens(request: GenerateRequest, options: CountTokensCallOptions = {}): number | Promise<number> {
    if (!this.settings.exactTokenCount || options.local) return estimateGeminiTokens(request);
    return this.countTokensExactly(request, options);
  }

  private async countTokensExactly(request: GenerateRequest, options: CountTokensCallOptions): Promise<number> {
    const { signal } = options;
    try {
      // Tool names renamed as generate and stream send them (Gemini refuses the others), so the count is the request's.
      const names = longToolNames(request, GEMINI_TOOL_NAME_MAX_LENGTH, GEMINI_TOOL_NAME);
      const prompt = await this.convert(names ? withShortToolNames(request, names) : request, signal);
      const body = { generateContentRequest: { model: modelPath(this.modelId), ...prompt } };
      // Downloads that used up the count's time: Gemini was not asked.
      signal?.throwIfAborted();
      options.onProviderRequest?.();
      const response = await this.post(this.url(this.modelId, 'countTokens'), body, signal ? { signal } : {});
      const json = await this.readJson(response, signal);
      const count = (json as { totalTokens?: unknown } | null)?.totalTokens;
      if (typeof count !== 'number') {
        throw new LLMError({ code: 'invalid_response', message: 'gemini: countTokens answer has no totalTokens', details: json, ...this.context });
      }
      return count;
    } catch (e) {
      throw toLLMError(e, this.context);
    }
  }
}
