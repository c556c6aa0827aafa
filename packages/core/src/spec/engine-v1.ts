import type { TokenLogprob } from './logprobs.js';
import type { GenerateRequest, ReasoningPart, ToolCall } from './messages.js';
import type { StreamPart } from './stream-parts.js';
import type { FinishReason, Usage } from './usage.js';
import type { CallWarning } from './warnings.js';

/** What an engine can do. Absent means false. */
export interface EngineCapabilities {
  streaming?: boolean;
  tools?: boolean;
  json?: boolean;
  vision?: boolean;
  embeddings?: boolean;
  reasoning?: boolean;
}

/** USD per one million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cache reads (`Usage.cachedInputTokens`); `input` when absent. */
  cachedInput?: number;
  /** Cache writes with the default (5-minute) TTL (`Usage.cacheWriteInputTokens`); `input` when absent. */
  cacheWrite?: number;
  /** Cache writes with the 1-hour TTL (`Usage.cacheWrite1hInputTokens`); `cacheWrite`, then `input`, when absent. */
  cacheWrite1h?: number;
  /**
   * Reasoning output (`Usage.reasoningTokens`, part of `outputTokens`): at most `outputTokens` of them are charged
   * at this rate, the rest of the output at `output`. `output` when absent.
   */
  reasoningOutput?: number;
  /**
   * Long-context prices, ascending by `threshold` (thresholds distinct): when the prompt (all input tokens:
   * `Usage.inputTokens`, cache reads and writes included) is above a tier's `threshold` tokens, the whole call is
   * charged at the rates of the highest such tier (as Google and Anthropic bill long prompts, and LiteLLM picks
   * among its `_above_<n>k_tokens` prices). Absent or empty: one price for any prompt.
   */
  longContext?: LongContextPrice[];
}

/**
 * The rates of a call whose prompt is above `threshold` tokens, USD per 1M tokens. An absent optional rate is the
 * base price's (`ModelPrice.cachedInput`, `cacheWrite`, `cacheWrite1h`, `reasoningOutput`: cache and reasoning
 * prices that do not change with the prompt length, as LiteLLM bills a row without an `_above_` version of them);
 * when the base price has none either, it falls back inside the tier as in `ModelPrice` (`cachedInput` and
 * `cacheWrite` to this `input`, `cacheWrite1h` to `cacheWrite`, then this `input`, `reasoningOutput` to this `output`).
 */
export interface LongContextPrice extends Omit<ModelPrice, 'longContext'> {
  /** Prompt tokens; a prompt of more tokens than this is charged at these rates. */
  threshold: number;
}

export interface CallOptions {
  /** Aborting it cancels the call and closes the upstream connection. */
  signal?: AbortSignal;
  /** Extra request headers (HTTP engines). */
  headers?: Record<string, string>;
  /**
   * Called once, right before the call's request to the provider goes out (after any work of the engine's own,
   * such as downloading the prompt's image URLs), by engines that declare `reportsProviderRequest`. A router
   * uses it to tell a provider's failure from a failure before the provider was asked.
   */
  onProviderRequest?: () => void;
  /**
   * Called once when the provider's success response to a non-streamed call (`generate`, `embed`) arrived, before
   * the engine reads its body, and by a `stream` answered whole (a server that ignored `stream: true`, see the
   * openai-compatible engine) before it reads that body: from then on the answer may be generated and billed. A router then does not send
   * the request again when the attempt fails while the body is read (its own timeout included), as for the
   * engine's `afterResponse` errors. An engine that never calls it leaves such a timeout retryable.
   */
  onProviderResponse?: () => void;
}

/** Options of an engine's `countTokens`. */
export interface CountTokensCallOptions {
  /** Aborting it cancels the count and closes its upstream connection (and any media download). */
  signal?: AbortSignal;
  /** Answer the engine's local estimate: no network I/O (engines with `countTokensRemote: true`). */
  local?: boolean;
  /**
   * Called once, right before the count's request to the provider goes out (after any work of the engine's
   * own, such as downloading the prompt's image URLs), by engines that declare `countTokensReportsRequest`.
   * A router uses it to tell a provider's failure from a failure before the provider was asked.
   */
  onProviderRequest?: () => void;
}

export interface GenerateResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /**
   * The request's `stop` sequence the answer stopped on (`finishReason` `stop`), where the engine knows which
   * (Anthropic `stop_sequence`; the local gguf and onnx engines, which match `stop` themselves); absent otherwise
   * (OpenAI-compatible servers and Gemini report a plain stop).
   */
  stopSequence?: string;
  /**
   * The model's refusal (OpenAI's `message.refusal`, e.g. a structured output it declined), kept apart from `text`
   * (the answer's content: `''` when the model only refused). Absent when it did not refuse. The gateway renders it
   * as the wire's refusal (chat `message.refusal`, a Responses `refusal` part), as plain text after `text` on wires
   * without one (Anthropic, `/v1/completions`).
   */
  refusal?: string;
  usage: Usage;
  /** Provider's response id, when it gives one. */
  id?: string;
  /** The model id the provider says served the call. */
  providerModel?: string;
  /** The reasoning text (all blocks joined). */
  reasoning?: string;
  /**
   * The reasoning blocks in order, set when a block carries a signature or is redacted (Anthropic thinking):
   * give them back as the assistant message's `reasoning` on the next turn.
   */
  reasoningParts?: ReasoningPart[];
  /** What the engine did not do as asked (see `CallWarning`); absent or empty when it did everything. */
  warnings?: CallWarning[];
  /**
   * The log probabilities of the answer's text tokens, in order, when `request.logprobs` asked for them and
   * the provider gave them (their `token`s joined are the text, as the provider tokenized it).
   */
  logprobs?: TokenLogprob[];
}

export interface EmbedResult {
  embeddings: number[][];
  usage: Usage;
  /** What the engine did not do as asked (`setting_not_sent` `user` where its provider has no such field); absent when it did everything. */
  warnings?: CallWarning[];
}

/** Options of an engine's `embed` and `embedTokens`. */
export interface EmbedCallOptions extends CallOptions {
  /**
   * The vectors' length (OpenAI's `dimensions`, Gemini's `outputDimensionality`), for models that can shorten
   * theirs. Given only to engines declaring `embedDimensions`; absent: the model's own length.
   */
  dimensions?: number;
  /**
   * End-user id, passed to providers that accept one (OpenAI's `user`), as `GenerateRequest.user` on chat; an engine
   * that cannot send it says so in `EmbedResult.warnings` (`setting_not_sent`, field `user`).
   */
  user?: string;
}

/**
 * The engine spec, version 1. Keep it small: wrappers (router, cache, retry, metering)
 * take an engine and return the same type, so they stack.
 *
 * Failure contract:
 * - `generate` rejects with an `LLMError` (use `toLLMError` for anything else).
 * - `stream` reports failures as a final `error` part and then ends; it may also throw from the
 *   first `next()` before yielding anything. Consumers must handle both.
 * - Both honour `options.signal`; on abort they stop, release the upstream and surface code `aborted`.
 */
export interface LanguageEngineV1 {
  readonly specVersion: 'v1';
  /** Engine kind: `openai-compatible`, `anthropic`, `gemini`, `gguf`, `onnx`, `mock`, or a custom name. */
  readonly provider: string;
  /** The provider's model id. */
  readonly modelId: string;
  readonly capabilities: EngineCapabilities;
  generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult>;
  stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart>;
  /** One vector per text, in input order. `options.dimensions` comes only to an engine declaring `embedDimensions`. */
  embed?(input: string[], options?: EmbedCallOptions): Promise<EmbedResult>;
  /**
   * One vector per input given as token ids (one non-empty array of integers >= 0 each), sent to the provider as
   * they are: they are the caller's tokenizer's, right only for a model with the same one (OpenAI's, with tiktoken).
   * Optional: a router sends token ids only to an engine that has it.
   */
  embedTokens?(input: number[][], options?: EmbedCallOptions): Promise<EmbedResult>;
  /**
   * True when `embed` (and `embedTokens`) honour `options.dimensions`. A router sends `dimensions` only to such an
   * engine (another deployment, or a 400 `unsupported`, rather than vectors of the wrong length). Optional (absent:
   * the model's own length only), so engines written before it stay valid.
   */
  readonly embedDimensions?: boolean;
  /**
   * Token count of a request's prompt, exact where the engine has a tokenizer (or asks its provider's count
   * endpoint), else estimated. `options.signal` cancels a count in progress (its network request);
   * `options.local` asks for the engine's local estimate, no network I/O (only engines that declare
   * `countTokensRemote` need to honour it). Both optional, so engines written before them stay valid.
   */
  countTokens?(request: GenerateRequest, options?: CountTokensCallOptions): number | Promise<number>;
  /**
   * True when `countTokens` answers the model's own count (its tokenizer, or the provider's count
   * endpoint); absent or false: a local estimate. Optional, so engines written before it stay valid.
   */
  readonly countTokensExact?: boolean;
  /**
   * Whether `countTokens` (without `local`) does network I/O (a provider's count endpoint, media downloads):
   * true, and `countTokens(request, { local: true })` then answers a local estimate without any; false, the
   * count is local. Absent: unknown, and a router treats the count as remote that cannot be made local (its
   * own estimate stands in when a remote count is not allowed).
   */
  readonly countTokensRemote?: boolean;
  /**
   * True when a remote `countTokens` calls `options.onProviderRequest` right before its provider request
   * goes out: a count failing before that call (a slow or failing media download) is then not the
   * provider's failure. Absent or false: every failure of a remote count may be the provider's.
   */
  readonly countTokensReportsRequest?: boolean;
  /**
   * True when `generate` and `stream` call `options.onProviderRequest` right before their provider request goes
   * out: an attempt failing before that call (a slow or failing download of the prompt's image URLs) is then not
   * the provider's failure. Absent or false: every failure of a call may be the provider's.
   */
  readonly reportsProviderRequest?: boolean;
  /**
   * What of `request` this engine refuses before sending anything (`generate` and `stream` throw it as an
   * `unsupported` error naming `param`), or undefined. A router asks it while planning, so such a request makes no
   * attempt (nothing charged against the deployment's limits) and goes to another deployment that takes it, as for a
   * capability the deployment lacks. Asked for `generate` and `stream` calls only (not `embed`); one that throws counts
   * as no refusal (the attempt runs and reports its own error). Optional, so engines written before it stay valid.
   */
  refusal?(request: GenerateRequest): EngineRefusal | undefined;
  /** Release resources (local models, sockets). */
  close?(): Promise<void>;
}

export type LanguageEngine = LanguageEngineV1;

/** See `LanguageEngineV1.refusal`: the request field refused (core's name, e.g. `messages.0.name`), and why. */
export interface EngineRefusal {
  param: string;
  message: string;
}
