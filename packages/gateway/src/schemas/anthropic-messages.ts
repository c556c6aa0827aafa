import { z } from 'zod';
import { ModelNameSchema } from './model-name.js';
import { ignoredFieldRules } from './ignored-fields.js';
import { LlmrrExtensionSchema } from './llmrr-extension.js';
import { boundedJson } from './bounded-json.js';
import { CacheControlSchema } from './cache-control.js';

// `cache_control` (a prompt-cache breakpoint) on the blocks Anthropic takes it on; on thinking blocks, which
// Anthropic refuses it on, it is not checked and the conversion drops it (a hint never makes a 400).
const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: CacheControlSchema });
const ImageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.union([
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string().min(1) }),
    z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  ]),
  cache_control: CacheControlSchema,
});
/**
 * The message of a block whose `type` is none of a union's (`document`, `search_result`, a server tool's blocks):
 * names the type and what is taken instead; the issue is at the block's `type` (see `validateBody`).
 */
function unsupportedBlock(where: string, takes: string) {
  return (issue: z.core.$ZodRawIssue): string | undefined => {
    if (issue.code !== 'invalid_union') return undefined;
    const type = (issue.input as { type?: unknown }).type;
    return typeof type === 'string' ? `${JSON.stringify(type)} blocks are not supported ${where} (${takes})` : `a content block needs a type (${takes})`;
  };
}
/** What a tool_result's `content` takes: text and image blocks (not Anthropic's `document` or `search_result`). */
const ToolResultContentBlock = z.discriminatedUnion('type', [TextBlock, ImageBlock], {
  error: unsupportedBlock("in a tool_result's content", 'text and image blocks only'),
});
const ToolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: boundedJson(z.unknown()), cache_control: CacheControlSchema });
const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(ToolResultContentBlock)]).optional(),
  is_error: z.boolean().optional(),
  cache_control: CacheControlSchema,
});
/**
 * A thinking block given back (@anthropic-ai/sdk 1.14 ThinkingBlockParam: `thinking`, `signature`, to pass back
 * unchanged). The signature may be missing or empty: a block of a model that does not sign its reasoning, which
 * no deployment is sent.
 */
const ThinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() });
/** An encrypted thinking block given back (RedactedThinkingBlockParam: opaque `data`). */
const RedactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string().min(1) });
/**
 * Content blocks the gateway understands; others (documents, search results, server tool blocks) are refused by
 * name (`messages.N.content.K.type`); `thinking`, `redacted_thinking` and `tool_use` only in assistant messages,
 * `image` and `tool_result` only in user messages, `text` only in system messages (as Anthropic's API refuses them
 * elsewhere: never dropped).
 */
export const AnthropicContentBlockSchema = z.discriminatedUnion('type', [TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock, ThinkingBlock, RedactedThinkingBlock], {
  error: unsupportedBlock('by the gateway', 'text, image, tool_use, tool_result, thinking and redacted_thinking blocks only'),
});

/**
 * A message of `messages`: `user` and `assistant` turns, and `system` messages (@anthropic-ai/sdk 1.14
 * SystemMessageParam, `content: string | TextBlockParam[]`; Claude Opus 4.8's mid-conversation system messages,
 * which Claude Code sends). Only their shape is checked here, not Anthropic's placement rules: the deployment may
 * be any model, and its engine sends a system message in place where the model takes it and joins it into the
 * system prompt elsewhere.
 */
export const AnthropicMessageParamSchema = z
  .looseObject({
    role: z.enum(['user', 'assistant', 'system']),
    content: z.union([z.string(), z.array(AnthropicContentBlockSchema)]),
  })
  .superRefine((m, ctx) => {
    if (typeof m.content === 'string') return;
    m.content.forEach((b, j) => {
      if (m.role === 'system' && b.type !== 'text') {
        ctx.addIssue({ code: 'custom', path: ['content', j, 'type'], message: `a system message takes text blocks only, not ${b.type === 'image' ? 'an' : 'a'} ${b.type} block` });
      } else if (m.role === 'user' && (b.type === 'thinking' || b.type === 'redacted_thinking' || b.type === 'tool_use')) {
        ctx.addIssue({ code: 'custom', path: ['content', j, 'type'], message: `a ${b.type} block belongs in an assistant message, not a user message` });
      } else if (m.role === 'assistant' && (b.type === 'image' || b.type === 'tool_result')) {
        ctx.addIssue({ code: 'custom', path: ['content', j, 'type'], message: `${b.type === 'image' ? 'an' : 'a'} ${b.type} block belongs in a user message, not an assistant message` });
      }
    });
  });

/**
 * A client tool (@anthropic-ai/sdk 1.14 `Tool`, `type: "custom"` or none); Anthropic's server tools
 * (`web_search_20250305`, `bash_20250124`, `code_execution_...`: run by Anthropic, which no other deployment can)
 * are refused by name at `tools.N.type`.
 */
export const AnthropicToolSchema = z.looseObject({
  type: z
    .literal('custom', {
      error: (issue) =>
        typeof issue.input === 'string'
          ? `${JSON.stringify(issue.input)} tools are not supported: the gateway serves client tools only (name, input_schema), not Anthropic's server tools`
          : 'must be "custom" (a client tool) or left out',
    })
    .nullish(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'must be 1-128 letters, digits, _ or -'),
  description: z.string().optional(),
  input_schema: boundedJson(z.record(z.string(), z.unknown())),
  /** Strict tool use (@anthropic-ai/sdk 1.14 `Tool.strict`): core's `strict`; null is none. */
  strict: z.boolean().nullish(),
  cache_control: CacheControlSchema,
});

const ThinkingDisplay = z.enum(['summarized', 'omitted']).nullable().optional();

/**
 * `thinking` (@anthropic-ai/sdk 1.14 ThinkingConfigParam): `enabled` with `budget_tokens` ("Must be >=1024 and
 * less than max_tokens"; the second half is checked in `checkThinkingBudget`, which sees max_tokens),
 * `disabled`, and the newer `adaptive` and `between_tools`.
 */
export const AnthropicThinkingSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('enabled'),
    budget_tokens: z.number().int().min(1024, 'must be at least 1024 (the smallest thinking budget Anthropic accepts)'),
    display: ThinkingDisplay,
  }),
  z.looseObject({ type: z.literal('disabled') }),
  z.looseObject({ type: z.literal('adaptive'), display: ThinkingDisplay }),
  z.looseObject({ type: z.literal('between_tools') }),
]);

/**
 * `tool_choice.disable_parallel_tool_use` (@anthropic-ai/sdk 1.14 ToolChoiceAuto/Any/Tool): `true`, at most one tool
 * call per answer (the core request's `parallelToolCalls: false`). Checked on `none` too, where it asks for nothing.
 */
const DisableParallel = z.boolean().optional();

/**
 * `POST /v1/messages` request body (Anthropic Messages API). Unknown top-level fields are accepted and not acted on;
 * each that asks for something is said in `x-llmrr-warnings` (see `ignoredFieldWarnings`).
 */
export const AnthropicMessagesRequestSchema = z.looseObject({
  model: ModelNameSchema,
  max_tokens: z.number().int().positive(),
  messages: z
    .array(AnthropicMessageParamSchema)
    .min(1, 'at least one message is required')
    .refine((ms) => ms.some((m) => m.role !== 'system'), 'at least one user or assistant message is required (system messages alone have nothing to answer)'),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  /** Applied: the core request's `topK` (sent where the deployment takes it; warned about elsewhere). */
  // 0 asks for nothing (as chat completions' top_k 0 does): the converter leaves core's topK unset.
  top_k: z.number().int().nonnegative().optional(),
  stream: z.boolean().optional(),
  tools: z.array(AnthropicToolSchema).optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: DisableParallel }),
      z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: DisableParallel }),
      z.looseObject({ type: z.literal('none'), disable_parallel_tool_use: DisableParallel }),
      z.looseObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: DisableParallel }),
    ])
    .optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
  thinking: AnthropicThinkingSchema.optional(),
  // @anthropic-ai/sdk 1.14 OutputConfig: `effort` (low, medium, high, xhigh, max, or null; how many tokens Claude
  // spends, the control of adaptive thinking), `format` (JSONOutputFormat: structured outputs, `{ type: "json_schema",
  // schema }`, or null), other keys passed on to Anthropic deployments as they are.
  output_config: z
    .looseObject({
      effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullable().optional(),
      format: z.looseObject({ type: z.literal('json_schema'), schema: boundedJson(z.record(z.string(), z.unknown())) }).nullable().optional(),
    })
    .optional(),
  /** Automatic prompt caching: one breakpoint that the provider keeps on the last cacheable block. */
  cache_control: CacheControlSchema,
  llmrr: LlmrrExtensionSchema.optional(),
});
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequestSchema>;

/**
 * Every field of the schema is acted on; other fields (`service_tier` other than `auto`, `speed` other than
 * `standard` (@anthropic-ai/sdk 1.14 `speed?: 'standard' | 'fast' | null`; standard is the default), `container`,
 * `mcp_servers`, `context_management`...) are warned about unless they ask for nothing.
 */
export const MESSAGES_FIELD_RULES = ignoredFieldRules(AnthropicMessagesRequestSchema.shape, [], {
  service_tier: (v) => v === 'auto',
  speed: (v) => v === 'standard',
});

export const AnthropicUsageSchema = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_input_tokens: z.number().int().nullable().optional(),
  cache_creation_input_tokens: z.number().int().nullable().optional(),
  /** The cache writes by TTL (@anthropic-ai/sdk 1.14 CacheCreation). */
  cache_creation: z.object({ ephemeral_5m_input_tokens: z.number().int(), ephemeral_1h_input_tokens: z.number().int() }).nullable().optional(),
});

export const AnthropicStopReasonSchema = z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal']);

/** `message` response. */
export const AnthropicMessageSchema = z.object({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(
    z.union([
      z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }),
      z.object({ type: z.literal('redacted_thinking'), data: z.string() }),
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }),
    ]),
  ),
  stop_reason: AnthropicStopReasonSchema.nullable(),
  stop_sequence: z.string().nullable(),
  usage: AnthropicUsageSchema,
  llmrr: z.unknown().optional(),
});
export type AnthropicMessage = z.infer<typeof AnthropicMessageSchema>;

/** The streaming events, in the order Anthropic sends them. */
export const AnthropicStreamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: AnthropicMessageSchema }),
  z.object({
    type: z.literal('content_block_start'),
    index: z.number().int(),
    content_block: z.union([
      z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }),
      z.object({ type: z.literal('redacted_thinking'), data: z.string() }),
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) }),
    ]),
  }),
  z.object({ type: z.literal('ping') }),
  z.object({
    type: z.literal('content_block_delta'),
    index: z.number().int(),
    delta: z.union([
      z.object({ type: z.literal('thinking_delta'), thinking: z.string() }),
      z.object({ type: z.literal('signature_delta'), signature: z.string() }),
      z.object({ type: z.literal('text_delta'), text: z.string() }),
      z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
    ]),
  }),
  z.object({ type: z.literal('content_block_stop'), index: z.number().int() }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: AnthropicStopReasonSchema.nullable(), stop_sequence: z.string().nullable() }),
    // @anthropic-ai/sdk 1.14 MessageDeltaUsage: whole-message totals, which replace those of message_start.
    usage: z.object({
      output_tokens: z.number().int(),
      input_tokens: z.number().int().optional(),
      cache_read_input_tokens: z.number().int().optional(),
      cache_creation_input_tokens: z.number().int().optional(),
    }),
  }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }).loose() }),
]);
export type AnthropicStreamEvent = z.infer<typeof AnthropicStreamEventSchema>;
