import type { LogprobsOptions } from './logprobs.js';
/** The one internal request shape every engine receives (normalized from OpenAI, Anthropic, Gemini, CLI...). */

import type { ReasoningOptions } from './reasoning.js';

export type JSONSchema = Record<string, unknown>;

/**
 * A prompt-cache breakpoint: the provider may cache the prompt up to and including the block it marks
 * (Anthropic `cache_control`, rendered in the order tools -> system -> messages). A hint, never a
 * requirement: engines whose provider caches on its own (OpenAI, Gemini) or not at all (local engines)
 * ignore it, and the Anthropic engine keeps at most the provider's limit of breakpoints (4). `ttl` is
 * `'5m'` (the default) or `'1h'`; writes with the longer TTL cost more (see `Usage.cacheWrite1hInputTokens`).
 */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextPart {
  type: 'text';
  text: string;
  /** Cache breakpoint at this part. */
  cacheControl?: CacheControl;
}

/** An image given either as a URL or as base64 data with its media type. */
export interface ImagePart {
  type: 'image';
  url?: string;
  data?: string;
  mediaType?: string;
  /** Cache breakpoint at this part. */
  cacheControl?: CacheControl;
}

export type ContentPart = TextPart | ImagePart;

/**
 * One reasoning ("thinking") block of an assistant turn, as the provider returned it. Anthropic signs its
 * thinking blocks (`signature`) and sends some encrypted (`redactedData`, a `redacted_thinking` block: `text`
 * is then empty); with thinking and tools it requires the last assistant turn's blocks back unchanged and in
 * order, which the Anthropic engine does (before the turn's text and tool calls). A block without either is
 * display text only: the Anthropic engine does not send it back. The OpenAI-compatible engine sends the parts' text
 * as `reasoning_content` on the assistant turns of a tool loop (between two user messages with tool calls between
 * them) where the deployment wants it (the `deepseek` preset, or `options.reasoningContent`); other engines ignore
 * reasoning parts in input.
 */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  /** The provider's signature of this block (Anthropic `thinking.signature`), opaque: pass it back unchanged. */
  signature?: string;
  /** An encrypted block (Anthropic `redacted_thinking.data`), opaque: pass it back unchanged. */
  redactedData?: string;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
}

/**
 * One turn. `cacheControl` on a message is a cache breakpoint at its end (its last block). System messages
 * with a breakpoint become separate system blocks where the provider takes several (Anthropic), so each
 * keeps its own; elsewhere system messages go as they always do (the OpenAI-compatible engine sends each as
 * it is, Gemini and Anthropic without breakpoints join them).
 *
 * A system message's `parts`: the same prompt as the client's separate blocks, each with its own cache
 * breakpoint, for providers that take several system blocks (Anthropic: one system block per non-empty part,
 * the message's own `cacheControl` on the last); `content` stays the joined text every other engine sends (and
 * the caches key on). Set it only when a part carries a mark. The exact and semantic caches leave it out, so
 * `parts` must hold the same text as `content` (joined with the client's separator): nothing checks it, and an
 * Anthropic deployment answers the `parts` text.
 *
 * `name` on a system, user or assistant message: the author's name (OpenAI's `messages[].name`, "to differentiate
 * between participants of the same role"). The OpenAI-compatible engine sends it; engines whose provider has no
 * author name (Anthropic, Gemini, local) warn `setting_not_sent` `messages.N.name`. A tool message's `name` is the
 * called function's (see there).
 */
export type ChatMessage =
  | { role: 'system'; content: string; parts?: TextPart[]; name?: string; cacheControl?: CacheControl }
  | { role: 'user'; content: string | ContentPart[]; name?: string; cacheControl?: CacheControl }
  | {
      role: 'assistant';
      content: string | null;
      name?: string;
      toolCalls?: ToolCall[];
      /** The turn's reasoning blocks, in the order the provider gave them (they come before its text and tool calls). */
      reasoning?: ReasoningPart[];
      cacheControl?: CacheControl;
    }
  | {
      role: 'tool';
      toolCallId: string;
      /** The result as text (with `parts`: their text parts joined with "\n"), what engines without `parts` send. */
      content: string;
      /**
       * The result's blocks, text and images, in the client's order (a result with an image, or of several blocks):
       * the Anthropic engine sends them as the `tool_result`'s content blocks. Engines whose provider takes only text
       * in a tool result (OpenAI-compatible, Gemini) send `content` and warn about each image not sent
       * (`setting_not_sent`, field `messages.N.parts.K`). `content` must hold the parts' text (nothing checks it).
       * A part's own `cacheControl` is not used: the result's breakpoint is the message's.
       */
      parts?: ContentPart[];
      /**
       * The tool failed and `content` is its error: Anthropic `tool_result.is_error`, Gemini's `error` key of the
       * function response. OpenAI-compatible servers have no such field: not sent there, with a `setting_not_sent`
       * warning (the error text still goes as the result).
       */
      isError?: boolean;
      name?: string;
      cacheControl?: CacheControl;
    };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: JSONSchema;
  /**
   * `true`: the model's arguments must follow `parameters` exactly (OpenAI strict function calling, Anthropic
   * strict tool use; the provider may refuse a schema its strict mode cannot enforce). Sent where the provider
   * takes it; elsewhere not sent, with a `setting_not_sent` warning (field `tools.N.strict`). Absent or `false`:
   * the provider's default (not strict on chat completions).
   */
  strict?: boolean;
  /** Cache breakpoint at this tool (the tools come first in the cached prefix). */
  cacheControl?: CacheControl;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** Answer length and detail, as OpenAI names the levels. */
export const VERBOSITIES = ['low', 'medium', 'high'] as const;
export type Verbosity = (typeof VERBOSITIES)[number];

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      name?: string;
      /** What the answer is for, read by the model (OpenAI `json_schema.description`); warned where not sent. */
      description?: string;
      schema: JSONSchema;
      strict?: boolean;
    };

export interface GenerateRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  /**
   * Sample only from the K most likely tokens (an integer >= 1). Sent where the provider takes it (Anthropic
   * `top_k`, Gemini `topK`, llama.cpp through GGUF, OpenAI-compatible servers that accept `top_k`); elsewhere
   * not sent, with a `setting_not_sent` warning.
   */
  topK?: number;
  stop?: string[];
  seed?: number;
  /**
   * OpenAI's sampling penalties, -2 to 2: `frequencyPenalty` lowers a token's chance by how often it appeared so
   * far, `presencePenalty` by whether it appeared at all. Sent where the provider takes them (OpenAI-compatible
   * models that do, the Gemini models that do, llama.cpp through GGUF); elsewhere not sent, with a
   * `setting_not_sent` warning (none for 0, which asks for nothing).
   */
  frequencyPenalty?: number;
  presencePenalty?: number;
  /**
   * OpenAI's `logit_bias`: token id (as a string, in the deployment's tokenizer) -> a bias from -100 (ban) to 100
   * (force). Sent to OpenAI-compatible deployments (token ids are theirs); elsewhere not sent, with a
   * `setting_not_sent` warning (none for an empty map).
   */
  logitBias?: Record<string, number>;
  /**
   * The last message, an assistant turn with text and no tool calls (`prefillIndex`), is a prefill to continue
   * (Anthropic's Messages API semantics: the answer goes on from its text). The gateway sets it on `/v1/messages` for
   * such a request (Anthropic's API continues every final assistant message) and on `/v1/chat/completions` for vLLM's
   * `continue_final_message: true` (a 400 there when the last message is no such turn). The Anthropic and Gemini
   * engines and the local engines continue a final assistant message whether or not it is set; an OpenAI-compatible
   * deployment asks its server to continue it the way `options.prefill` (or its preset) says, and where it cannot (no
   * way known, or `options.prefill: "none"`), sends it as it is (the server answers with a new turn) with a
   * `setting_not_sent` warning naming `messages.N`, an answer the exact cache does not keep. Without it an
   * OpenAI-compatible deployment sends a final assistant message as it is, without a warning: a new turn is what
   * OpenAI's chat completions answer to one. A deployment whose server refuses a final assistant message refuses the
   * request before the call instead (`LanguageEngineV1.refusal`, `unsupported` naming `messages.N`): `mistral` unless
   * it goes as a `prefix` (asked here), Gemini 3.6 Flash, 3.5 Flash-Lite and later models and Claude Opus / Sonnet 4.6
   * and later for any, `llamacpp` for one with tool calls.
   */
  continueFinalMessage?: boolean;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /**
   * `false`: at most one tool call per answer (OpenAI `parallel_tool_calls: false`, Anthropic
   * `tool_choice.disable_parallel_tool_use: true`). `true` or absent: the provider's default, which allows
   * several. Only means something with `tools`; where the provider has no such switch, `false` is not sent and
   * the call warns (`setting_not_sent`).
   */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /**
   * How long and detailed the answer should be (OpenAI's `verbosity` on GPT-5 models, `text.verbosity` on the
   * Responses API). Sent where the model takes it; elsewhere not sent, with a `setting_not_sent` warning.
   */
  verbosity?: Verbosity;
  /**
   * Ask for the log probability of each answer token (and, with `topLogprobs`, of the most likely
   * alternatives): returned as `GenerateResult.logprobs` and as `logprobs` stream parts. Engines that cannot
   * give them return none and warn (`setting_not_sent`, field `logprobs`).
   */
  logprobs?: LogprobsOptions;
  /** End-user id, passed to providers that accept one (OpenAI `user`). */
  user?: string;
  /**
   * Reasoning ("thinking") effort or budget for reasoning models. Each engine maps it to its provider's
   * field (OpenAI `reasoning_effort`, Anthropic `thinking`, Gemini `thinkingConfig`); local engines refuse
   * a request that asks for thinking. `providerOptions` still win over it.
   */
  reasoning?: ReasoningOptions;
  /**
   * Automatic prompt caching: the provider places one breakpoint on the last cacheable block and moves it
   * forward as the conversation grows (Anthropic's top-level `cache_control`). Ignored elsewhere.
   */
  cacheControl?: CacheControl;
  /**
   * A caller-chosen key grouping requests that share a long prompt prefix (OpenAI's `prompt_cache_key`): sent
   * to providers that route their prompt cache by it, and a key of the router's prompt-cache affinity (requests
   * with the same key prefer the deployment that served the last one). Never changes the answer.
   */
  promptCacheKey?: string;
  /**
   * Escape hatch: provider-specific body fields, keyed by provider name (`openai`, `anthropic`, ...), merged over
   * the body the engine built (own fields, copied as fields). Never the deployment's `model` or `stream`: a `model`
   * there is not sent, with a `setting_not_sent` warning when it names another model than the deployment's.
   */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** Plain text of a message's content (images dropped). */
export function messageText(message: ChatMessage): string {
  const c = message.content;
  if (c == null) return '';
  if (typeof c === 'string') return c;
  return c.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/**
 * The index of the messages' prefill, or undefined: the last message when it is an assistant turn with text and no
 * tool calls, the text `continueFinalMessage` asks to be continued. An empty or blank one asks nothing to be
 * continued; one with tool calls is a turn waiting for its results. (The gateway refuses a request that asks for a
 * continuation without one; an OpenAI-compatible deployment continues or warns only for one.)
 */
export function prefillIndex(messages: readonly ChatMessage[]): number | undefined {
  const i = messages.length - 1;
  const last = messages[i];
  if (last?.role !== 'assistant' || (last.toolCalls?.length ?? 0) > 0) return undefined;
  return typeof last.content === 'string' && last.content.trim() !== '' ? i : undefined;
}
