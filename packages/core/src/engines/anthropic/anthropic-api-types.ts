/**
 * The subset of the Anthropic Messages API wire format this engine speaks
 * (https://docs.anthropic.com/en/api/messages, .../messages-streaming, .../errors).
 * Response types are deliberately loose (optional fields): we read providers' JSON defensively.
 * Other block, delta and event types exist (server tools, citations...); decoders skip what they do not know.
 */

export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

/**
 * A prompt-cache breakpoint (@anthropic-ai/sdk CacheControlEphemeral): `ttl` `5m` (the default) or `1h`.
 * Allowed on tools, system text blocks and message content blocks other than thinking blocks, and at the top
 * level (automatic caching); see anthropic-cache-control.ts for the limits this engine keeps.
 */
export interface AnthropicCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/** A text block of `system` (sent as an array only when a system message carries a cache breakpoint). */
export interface AnthropicSystemBlock {
  type: 'text';
  text: string;
  cache_control?: AnthropicCacheControl;
}

/** A block of a `tool_result`'s content (@anthropic-ai/sdk ToolResultBlockParam: text and images here). */
export type AnthropicToolResultContentBlock = { type: 'text'; text: string } | { type: 'image'; source: AnthropicImageSource };

export type AnthropicRequestBlock =
  | { type: 'text'; text: string; cache_control?: AnthropicCacheControl }
  | { type: 'image'; source: AnthropicImageSource; cache_control?: AnthropicCacheControl }
  | { type: 'tool_use'; id: string; name: string; input: unknown; cache_control?: AnthropicCacheControl }
  | { type: 'tool_result'; tool_use_id: string; content: string | AnthropicToolResultContentBlock[]; is_error?: boolean; cache_control?: AnthropicCacheControl }
  /** A thinking block given back as it came (@anthropic-ai/sdk 1.14 ThinkingBlockParam). */
  | { type: 'thinking'; thinking: string; signature: string }
  /** An encrypted thinking block given back as it came (RedactedThinkingBlockParam). */
  | { type: 'redacted_thinking'; data: string };

export interface AnthropicRequestMessage {
  role: 'user' | 'assistant';
  content: AnthropicRequestBlock[];
}

/**
 * A mid-conversation system message (@anthropic-ai/sdk 1.14 `SystemMessageParam`): instructions that apply from
 * this point of the conversation on, without touching the cached prefix before it. Claude Opus 4.8 only; it must
 * follow a user turn and be the last entry or be followed by an assistant turn
 * (https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages). Text only: a
 * string, or text blocks (which may carry `cache_control`, as top-level system blocks do).
 */
export interface AnthropicSystemMessage {
  role: 'system';
  content: string | AnthropicSystemBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  /** Strict tool use (@anthropic-ai/sdk 1.14 `Tool.strict`): the input follows `input_schema` exactly. */
  strict?: boolean;
  cache_control?: AnthropicCacheControl;
}

/**
 * `disable_parallel_tool_use: true` (@anthropic-ai/sdk 1.14 ToolChoiceAuto/Any/Tool): at most one tool use with
 * `auto`, exactly one with `any` and `tool`. `none` takes no such field (ToolChoiceNone is `{ type }` alone).
 */
export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'none' }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  /** User and assistant turns, and where the model takes them, mid-conversation system messages. */
  messages: Array<AnthropicRequestMessage | AnthropicSystemMessage>;
  /** A string, or text blocks when a system message carries a cache breakpoint. */
  system?: string | AnthropicSystemBlock[];
  temperature?: number;
  top_p?: number;
  /** An integer >= 1; refused together with extended thinking (`thinking` enabled or adaptive). */
  top_k?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id?: string };
  /** Extended thinking (@anthropic-ai/sdk 1.14 ThinkingConfigParam); other forms (`between_tools`) come verbatim from providerOptions. */
  thinking?:
    | { type: 'enabled'; budget_tokens: number; display?: unknown }
    | { type: 'disabled' }
    | { type: 'adaptive'; display?: unknown }
    | Record<string, unknown>;
  /** `effort` steers adaptive thinking (@anthropic-ai/sdk 1.14 OutputConfig). */
  output_config?: { effort?: 'low' | 'medium' | 'high' | 'xhigh' | 'max'; [extra: string]: unknown };
  stream?: boolean;
  /** Automatic prompt caching: a breakpoint on the last cacheable block (it takes one of the 4 slots). */
  cache_control?: AnthropicCacheControl;
  [extra: string]: unknown;
}

export interface AnthropicUsageWire {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** The cache writes by TTL; their sum is `cache_creation_input_tokens` (prompt-caching guide, "1-hour cache duration"). */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

export type AnthropicResponseBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input?: unknown }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data?: string };

export interface AnthropicMessageResponse {
  id?: string;
  type?: 'message';
  role?: 'assistant';
  model?: string;
  content?: AnthropicResponseBlock[];
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: AnthropicUsageWire;
}

/** `{ type: 'error', error: { type, message } }`: the body of every Anthropic error, also the `error` stream event. */
export interface AnthropicErrorBody {
  type?: 'error';
  error?: { type?: string; message?: string };
}

export type AnthropicStreamDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string };

/** The events of a streamed Messages response, as the `data:` JSON of each SSE event. */
export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessageResponse }
  | { type: 'content_block_start'; index: number; content_block: AnthropicResponseBlock }
  | { type: 'content_block_delta'; index: number; delta: AnthropicStreamDelta }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason?: string | null; stop_sequence?: string | null }; usage?: AnthropicUsageWire }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | ({ type: 'error' } & AnthropicErrorBody);
