import { LLMError, type CacheControl, type CallWarning, type ChatMessage, type ContentPart, type GenerateRequest, type ReasoningOptions, type ReasoningPart, type TextPart, type ToolCall, type ToolChoice, type ToolDefinition } from '@llmrr/core';
import { MESSAGES_FIELD_RULES, type AnthropicMessagesRequest } from '../schemas/anthropic-messages.js';
import { toCacheControl, withMark } from '../schemas/cache-control.js';
import type { ClientMessagePaths, ConvertedRequest } from '../schemas/client-message-paths.js';

/** One entry of `ClientMessagePaths`. */
type ClientMessagePath = ClientMessagePaths[number];
import { joinAnswerText } from '../schemas/answer-text.js';
import { asksForNothing, CappedWarnings, noteIgnoredFields, noteProviderOnlyFields } from '../schemas/ignored-fields.js';
import { markedSystemMessage } from '../schemas/marked-system-message.js';
import { messagesFieldNames } from '../schemas/route-field-names.js';
import { betaWarning } from './anthropic-beta.js';
import { toolChoiceConflict, type ToolPaths } from '../schemas/tool-choice-conflict.js';

/** Where a Messages body's tools and tool choice are: `tools.N.name`, `tool_choice.name`. */
const MESSAGES_TOOL_PATHS: ToolPaths = { name: (i) => `tools.${i}.name`, choiceName: 'tool_choice.name', required: '{ type: "any" }' };

type Param = AnthropicMessagesRequest['messages'][number];
type Block = Exclude<Param['content'], string>[number];

/** An image block as a core image part, without its mark. */
function imageOf(block: Extract<Block, { type: 'image' }>): ContentPart {
  const s = block.source;
  return s.type === 'base64' ? { type: 'image', data: s.data, mediaType: s.media_type } : { type: 'image', url: s.url };
}

function imagePart(block: Extract<Block, { type: 'image' }>): ContentPart {
  return withMark(imageOf(block), toCacheControl(block.cache_control));
}

function textPart(block: { text: string; cache_control?: unknown }): ContentPart {
  return withMark<ContentPart>({ type: 'text', text: block.text }, toCacheControl(block.cache_control));
}

/**
 * The breakpoint of a core message made of several blocks (the core keeps no marks on its blocks there: a tool result's
 * content, an assistant turn's text and tool calls): the message's own, at its end. Where several blocks are marked, the
 * last mark's TTL decides (it is the one nearest to where the breakpoint now sits).
 */
function lastMark(blocks: ReadonlyArray<{ cache_control?: unknown }>): CacheControl | undefined {
  let mark: CacheControl | undefined;
  for (const b of blocks) mark = toCacheControl(b.cache_control) ?? mark;
  return mark;
}

/** A tool result's mark: on the block itself, else on its last marked content block. */
function toolResultMark(block: Extract<Block, { type: 'tool_result' }>): CacheControl | undefined {
  const own = toCacheControl(block.cache_control);
  if (own) return own;
  return Array.isArray(block.content) ? lastMark(block.content) : undefined;
}

/**
 * A tool_result block as a core tool message: its text (its text blocks joined with "\n", what deployments that take
 * a tool result as text get), with its blocks as `parts` (text and images, in order, without marks) when it has an
 * image or several blocks, which an Anthropic deployment sends as they came; `is_error: true` as `isError`. Its mark
 * (its own, else its last marked block's) is the message's.
 */
function toolMessage(block: Extract<Block, { type: 'tool_result' }>): ChatMessage {
  const c = block.content;
  const message: Extract<ChatMessage, { role: 'tool' }> = { role: 'tool', toolCallId: block.tool_use_id, content: typeof c === 'string' ? c : '' };
  if (Array.isArray(c)) {
    message.content = c.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
    if (c.length > 1 || c.some((p) => p.type === 'image')) message.parts = c.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : imageOf(p)));
  }
  if (block.is_error === true) message.isError = true;
  return withMark<ChatMessage>(message, toolResultMark(block));
}

/** Adds a core message and the client's path of it (see `ClientMessagePaths`). */
type Push = (message: ChatMessage, path: ClientMessagePath) => void;

/**
 * A tool_result block's names of core's tool message fields: `tool_use_id` is its `toolCallId`, `content` its
 * `content`, `is_error` its `isError`.
 */
const TOOL_RESULT_FIELDS = { toolCallId: 'tool_use_id', content: 'content', isError: 'is_error' } as const;

/** The client's path of a tool_result block (`at`) and of each of its content blocks (core's tool message `parts`). */
function toolResultPath(block: Extract<Block, { type: 'tool_result' }>, at: string): ClientMessagePath {
  const c = block.content;
  return Array.isArray(c) ? { path: at, fields: TOOL_RESULT_FIELDS, parts: c.map((_, k) => `${at}.content.${k}`) } : { path: at, fields: TOOL_RESULT_FIELDS };
}

/**
 * A user turn: each tool_result block a core tool message of its own (named by its block, `messages.M.content.J`,
 * and its fields by the block's names: core's `toolCallId` is the block's `tool_use_id`), in order, then the text
 * and image blocks as one user message (named by the turn; when a tool_result came before one of them, each of its
 * parts by its block, `contentParts`: core's `content.0` is then the client's `content.1`).
 */
function convertUser(content: Param['content'], index: number, push: Push): void {
  if (typeof content === 'string') return push({ role: 'user', content }, index);
  const parts: ContentPart[] = [];
  /** The client's block of each part, once a part's block is not at its part's index (undefined until then). */
  let blocks: string[] | undefined;
  content.forEach((block, j) => {
    if (block.type === 'tool_result') push(toolMessage(block), toolResultPath(block, `messages.${index}.content.${j}`));
    else if (block.type === 'text' || block.type === 'image') {
      if (blocks === undefined && j !== parts.length) blocks = parts.map((_, k) => `messages.${index}.content.${k}`);
      blocks?.push(`messages.${index}.content.${j}`);
      parts.push(block.type === 'text' ? textPart(block) : imagePart(block));
    }
  });
  if (parts.length > 0) push(userMessage(parts), blocks ? { path: `messages.${index}`, contentParts: blocks } : index);
}

/**
 * A user turn's text and image blocks. Text only is joined into one string with "\n", as core's local engines join
 * a message's text parts (core's `localMessageText`, after vLLM), so blocks ["Once upon", "a time"] do not run
 * together and reach every engine as the same text whether or not a mark keeps them apart (below). One string,
 * not parts, because some OpenAI-compatible servers take only string content (DeepSeek's API: "invalid type:
 * sequence, expected a string"), and Claude Code often sends a turn as several text blocks. A mark on the last block
 * becomes the message's (core puts it on the message's one block), so marking a message changes neither its text
 * nor its shape: the prefix Anthropic cached at its end is the next turn's prefix once the mark has moved on, the
 * exact cache does not split, and other deployments get the same string. Only a mark on an earlier text block
 * (rare: the breakpoint would sit inside the message) keeps the blocks as parts, each with its mark, as do images:
 * local engines join those parts with "\n" too (the same prompt as the string), an OpenAI-compatible deployment
 * gets them as a content list.
 */
function userMessage(parts: ContentPart[]): ChatMessage {
  const last = parts[parts.length - 1]!;
  const joinable = parts.every((p, i) => p.type === 'text' && (i === parts.length - 1 || !p.cacheControl));
  if (!joinable) return { role: 'user', content: parts };
  const text = parts.length === 1 ? (last as TextPart).text : parts.map((p) => (p as TextPart).text).join('\n');
  return withMark<ChatMessage>({ role: 'user', content: text }, last.cacheControl);
}

/**
 * The turn's `thinking` / `redacted_thinking` blocks as reasoning parts, in order: an Anthropic deployment sends
 * the signed and redacted ones back unchanged (required with thinking and tools); other engines ignore them.
 */
function reasoningParts(content: Block[]): ReasoningPart[] {
  const parts: ReasoningPart[] = [];
  for (const b of content) {
    if (b.type === 'thinking') parts.push(b.signature ? { type: 'reasoning', text: b.thinking, signature: b.signature } : { type: 'reasoning', text: b.thinking });
    else if (b.type === 'redacted_thinking') parts.push({ type: 'reasoning', text: '', redactedData: b.data });
  }
  return parts;
}

/** A tool_use block's fields as the client names them: core's tool call `arguments` is the block's `input`. */
const TOOL_USE_FIELDS = { id: 'id', name: 'name', arguments: 'input' } as const;

/**
 * An assistant turn: its text blocks joined by `joinAnswerText` ("\n" between unless white space is already there: never
 * run together, and the gateway's own streamed answer, its text split around a tool call, given back as the model
 * wrote it), its tool_use blocks as tool calls, its thinking blocks as reasoning. With tool
 * calls its path names each call's block (`messages.M.content.J`), so an error about core's
 * `messages.N.toolCalls.K.arguments` names the client's `messages.M.content.J.input`.
 */
function convertAssistant(content: Param['content'], index: number, push: Push): void {
  if (typeof content === 'string') return push({ role: 'assistant', content }, index);
  let text = '';
  const toolCalls: ToolCall[] = [];
  const callPaths: string[] = [];
  content.forEach((b, j) => {
    if (b.type === 'text') text = joinAnswerText(text, b.text);
    else if (b.type === 'tool_use') {
      toolCalls.push({ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) });
      callPaths.push(`messages.${index}.content.${j}`);
    }
  });
  const message: ChatMessage = toolCalls.length > 0 ? { role: 'assistant', content: text === '' ? null : text, toolCalls } : { role: 'assistant', content: text };
  const reasoning = reasoningParts(content);
  if (reasoning.length > 0) message.reasoning = reasoning;
  // A mark on a text or tool_use block: the turn's breakpoint, at its end (thinking blocks cannot carry one).
  withMark(message, lastMark(content.filter((b) => b.type === 'text' || b.type === 'tool_use')));
  push(message, toolCalls.length > 0 ? { path: `messages.${index}`, toolCalls: callPaths, callFields: TOOL_USE_FIELDS } : index);
}

function toolChoice(choice: AnthropicMessagesRequest['tool_choice']): ToolChoice | undefined {
  if (!choice) return undefined;
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { name: choice.name };
  }
}

/**
 * `thinking` -> the core request: `enabled` -> `reasoning.budgetTokens` (so any deployment gets the nearest
 * control it has: an OpenAI effort, a Gemini budget; engines drop it where the deployment cannot reason).
 * `disabled` (no thinking) -> `reasoning.budgetTokens: 0`, so a deployment that thinks by default turns it off where
 * it can (Gemini 2.5 Flash: `thinkingBudget: 0`; an OpenAI reasoning model: its lowest `reasoning_effort`, with a
 * warning when that is not `none`). A budget, not effort `none`: an OpenAI-compatible model outside core's family
 * table is sent `none` only where the endpoint is known to take it (Groq, Ollama, `options.reasoningNone`), else no
 * `reasoning_effort` (its default, with a warning), as many such servers refuse `none` (grok-3-mini, vLLM up to
 * 0.15), where a client's own `reasoning_effort: "none"` goes as asked. A warning about it names the client's
 * `thinking` ("thinking disabled was ...": `messagesFieldNames`). Also in `providerOptions.anthropic.thinking` so
 * an Anthropic deployment gets it
 * as it came (the engine sends `{ type: "disabled" }`, no warning). Forms the core field cannot say
 * (`adaptive`, `between_tools`, a `display` setting) also go there. The Anthropic engine takes that field as the
 * form asked for and puts it through the same rules as `reasoning` (dropped where the model cannot think, on a
 * tool turn without signed thinking, with a conflicting temperature/top_p/forced tool; a budget fitted under
 * max_tokens; `adaptive` on the models that take only it, a budget on those without it; `disabled` left out on
 * adaptive-only models): see the engine's applyThinking.
 */
function thinking(body: AnthropicMessagesRequest): { reasoning?: ReasoningOptions; verbatim?: Record<string, unknown> } {
  const t = body.thinking;
  if (!t) return {};
  // Adaptive thinking is steered by `output_config.effort`: it becomes the core effort, so an Anthropic
  // deployment sends the nearest level its model takes (not the engine's default, high) and other deployments
  // think at that effort too.
  const effort = body.output_config?.effort;
  if (t.type === 'adaptive' && effort != null) return { reasoning: { effort }, verbatim: t };
  if (t.type === 'disabled') return { reasoning: { budgetTokens: 0 }, verbatim: t };
  if (t.type === 'enabled') return t.display == null ? { reasoning: { budgetTokens: t.budget_tokens } } : { reasoning: { budgetTokens: t.budget_tokens }, verbatim: t };
  return { verbatim: t };
}

/**
 * `thinking.budget_tokens` must be less than `max_tokens` (@anthropic-ai/sdk 1.14 ThinkingConfigEnabled): a 400
 * naming it, before admission. Not part of `messagesToGenerateRequest`, which count_tokens also uses (its body
 * has no max_tokens).
 */
export function checkThinkingBudget(body: Pick<AnthropicMessagesRequest, 'thinking' | 'max_tokens'>): void {
  const t = body.thinking;
  if (t?.type === 'enabled' && t.budget_tokens >= body.max_tokens) {
    throw new LLMError({
      code: 'invalid_request',
      message: `Invalid request: thinking.budget_tokens: must be less than max_tokens (${t.budget_tokens} >= ${body.max_tokens}); thinking tokens count toward max_tokens`,
      param: 'thinking.budget_tokens',
    });
  }
}

/**
 * `output_config` for Anthropic deployments only: as sent, but without the `effort` that became the core
 * effort (the engine sets it, fitted to the model); undefined when nothing is left.
 */
function anthropicOutputConfig(body: AnthropicMessagesRequest, reasoning: ReasoningOptions | undefined): Record<string, unknown> | undefined {
  const config = body.output_config;
  if (!config) return undefined;
  if (reasoning?.effort === undefined) return config;
  const { effort: _effort, ...rest } = config;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * What only an Anthropic deployment receives of the client's body, said when another provider's deployment answers:
 * each key of the verbatim `output_config` that asks for something (`format`, structured outputs; an `effort` that
 * did not become the core effort), and `thinking.display: "omitted"` (other providers' reasoning is shown as it comes).
 * At most `IGNORED_FIELD_WARNINGS_MAX`, then one `...` counting the others (an `output_config` of thousands of keys
 * stays bounded); undefined (nothing allocated) when there is none.
 */
function anthropicOnlyWarnings(outputConfig: Record<string, unknown> | undefined, thinking: Record<string, unknown> | undefined): CallWarning[] | undefined {
  if (outputConfig === undefined && thinking === undefined) return undefined;
  const out = new CappedWarnings();
  const notSent = (field: string) => {
    if (out.room()) out.push({ code: 'setting_not_sent', field, message: `${field} was not sent: only Anthropic deployments take it, and another provider answered.` });
  };
  for (const key in outputConfig) if (Object.hasOwn(outputConfig, key) && !asksForNothing(outputConfig[key])) notSent(`output_config.${key}`);
  if (thinking?.display === 'omitted') notSent('thinking.display');
  return out.done();
}

/** A system prompt's text blocks (the top-level `system`, a system message of `messages`). */
type SystemText = string | ReadonlyArray<{ text: string; cache_control?: unknown }>;

/**
 * A system prompt (the top-level `system`, or a system message of `messages`): its text blocks joined with "\n"
 * into one system message, as always, marks or not (so every engine but Anthropic's sends the same text, and the
 * caches see the same request). With marks, that message also carries the blocks with their marks as `parts` (see
 * `markedSystemMessage`), which the Anthropic engine sends as the client did: a mark on an empty block, which
 * Anthropic refuses, moves to the nearest non-empty block before it; a mark with nowhere to go is dropped, and
 * without a mark left there are no `parts`. Undefined for an empty prompt (no text: nothing to instruct).
 */
function systemMessage(system: SystemText): ChatMessage | undefined {
  if (typeof system !== 'string' && system.some((b) => b.cache_control)) {
    const marked = markedSystemMessage(system.map((b) => ({ text: b.text, mark: toCacheControl(b.cache_control) })), '\n');
    if (marked) return marked;
  }
  const text = typeof system === 'string' ? system : system.map((b) => b.text).join('\n');
  return text === '' ? undefined : { role: 'system', content: text };
}

/**
 * A system message of `messages` (Claude Opus 4.8's mid-conversation system messages, or one before the first
 * turn) as a core system message in its place; the schema lets only text blocks through. Where it goes upstream
 * is the engine's decision: in place where the model takes it (Anthropic's Opus 4.8, OpenAI-compatible
 * engines), joined into the system prompt elsewhere.
 */
function convertSystem(content: Param['content']): ChatMessage | undefined {
  return systemMessage(typeof content === 'string' ? content : content.filter((b): b is Extract<Block, { type: 'text' }> => b.type === 'text'));
}

/** The path of a string top-level `system`: its text is the core system message's content. */
const SYSTEM_TEXT: ClientMessagePath = { path: 'system', text: true };

/** A marked system prompt's path (`at`) and its `parts`: each non-empty block, by its own index (`at.content.J`). */
function blockPaths(content: Param['content'], at: string): ClientMessagePath {
  const parts: string[] = [];
  if (typeof content !== 'string') content.forEach((b, j) => b.type === 'text' && b.text !== '' && parts.push(`${at}.content.${j}`));
  return { path: at, parts };
}

/**
 * The client's path of the core system message made of the top-level `system` (`converted`): its content (the text,
 * or the blocks' joined text) is `system` (`system.0` for one block); a marked prompt's `parts` are its non-empty
 * blocks, each named by its own index (`system.2`), as `markedSystemMessage` keeps them.
 */
function systemPath(system: NonNullable<AnthropicMessagesRequest['system']>, converted: ChatMessage): ClientMessagePath {
  if (typeof system === 'string') return SYSTEM_TEXT;
  const whole = system.length === 1 ? 'system.0' : 'system';
  if (converted.role !== 'system' || converted.parts === undefined) return whole === 'system' ? SYSTEM_TEXT : { path: whole, text: true };
  const parts: string[] = [];
  system.forEach((b, n) => {
    if (b.text !== '') parts.push(`system.${n}`);
  });
  return { path: whole, text: true, parts };
}

/** A validated Anthropic Messages request as the engine-neutral `GenerateRequest`. */
export function messagesToGenerateRequest(body: AnthropicMessagesRequest): GenerateRequest {
  return convertMessagesRequest(body).request;
}

/**
 * A validated Anthropic Messages request as the engine-neutral `GenerateRequest`, and where its messages came from
 * when core's indexes are not the client's (a system prompt comes first; tool results are messages of their own;
 * an empty system message is none), so errors name the client's message. System messages of `messages` stay where
 * the client put them. `betas`, the request's `anthropic-beta` header: the betas of it the gateway does not act on are
 * said in a warning (see `betaWarning`).
 */
export function convertMessagesRequest(body: AnthropicMessagesRequest, betas?: string | null): ConvertedRequest {
  const system = body.system === undefined ? undefined : systemMessage(body.system);
  const messages: ChatMessage[] = system ? [system] : [];
  // Undefined while each core message is the client's message of the same index (the common case). A system
  // prompt's text is the client's `system` itself: core's `messages.0.content` is `system` (see `systemPath`).
  let paths: ClientMessagePath[] | undefined = system ? [systemPath(body.system!, system)] : undefined;
  const push: Push = (message, path) => {
    if (paths === undefined && path !== messages.length) paths = messages.map((_, j) => j);
    messages.push(message);
    paths?.push(path);
  };
  body.messages.forEach((m, i) => {
    if (m.role === 'user') convertUser(m.content, i, push);
    else if (m.role === 'assistant') convertAssistant(m.content, i, push);
    else {
      // An empty system message is none: the next message's path records the gap.
      const converted = convertSystem(m.content);
      if (converted) push(converted, converted.role === 'system' && converted.parts !== undefined ? blockPaths(m.content, `messages.${i}`) : i);
    }
  });
  const req: GenerateRequest = { messages, maxTokens: body.max_tokens };
  // A final assistant message is a prefill Anthropic continues: asked of every deployment (core's
  // `continueFinalMessage`; an OpenAI-compatible one continues it where its server can, else says it did not).
  if (messages.at(-1)?.role === 'assistant') req.continueFinalMessage = true;
  if (body.temperature !== undefined) req.temperature = body.temperature;
  if (body.top_p !== undefined) req.topP = body.top_p;
  if (body.stop_sequences && body.stop_sequences.length > 0) req.stop = body.stop_sequences;
  if (body.tools && body.tools.length > 0) {
    req.tools = body.tools.map((t) =>
      withMark<ToolDefinition>(
        { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema, ...(t.strict != null ? { strict: t.strict } : {}) },
        toCacheControl(t.cache_control),
      ),
    );
  }
  const choice = toolChoice(body.tool_choice);
  // As Anthropic refuses them: two tools of one name, `any` or a named tool with no tools, a named tool not in `tools`.
  const conflict = toolChoiceConflict(req.tools?.map((t) => t.name) ?? [], choice, MESSAGES_TOOL_PATHS);
  if (conflict) throw new LLMError({ code: 'invalid_request', message: conflict.message, param: conflict.param });
  if (choice !== undefined) req.toolChoice = choice;
  // At most one tool call per answer; with `none` there are none to limit (and Anthropic refuses the flag there).
  if (body.tool_choice?.disable_parallel_tool_use === true && body.tool_choice.type !== 'none') req.parallelToolCalls = false;
  if (body.metadata?.user_id) req.user = body.metadata.user_id;
  withMark(req, toCacheControl(body.cache_control));
  const { reasoning, verbatim } = thinking(body);
  if (reasoning) req.reasoning = reasoning;
  const outputConfig = anthropicOutputConfig(body, reasoning);
  if (body.top_k !== undefined && body.top_k > 0) req.topK = body.top_k;
  if (verbatim || outputConfig) {
    req.providerOptions = {
      anthropic: {
        ...(verbatim ? { thinking: verbatim } : {}),
        ...(outputConfig ? { output_config: outputConfig } : {}),
      },
    };
  }
  noteProviderOnlyFields(req, 'anthropic', anthropicOnlyWarnings(outputConfig, verbatim));
  const beta = betaWarning(betas);
  const nested = beta ? [beta] : undefined;
  return { request: noteIgnoredFields(req, body, MESSAGES_FIELD_RULES, nested), messagePaths: paths, fieldNames: messagesFieldNames(body) };
}
