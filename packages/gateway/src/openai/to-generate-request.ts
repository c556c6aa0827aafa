import { LLMError, prefillIndex, type CacheControl, type ChatMessage, type ContentPart, type GenerateRequest, type ResponseFormat, type ToolChoice, type ToolDefinition } from '@llmrr/core';
import { joinAnswerText } from '../schemas/answer-text.js';
import { toCacheControl, withMark } from '../schemas/cache-control.js';
import type { ClientMessagePaths, ConvertedRequest, JoinedMessagePath } from '../schemas/client-message-paths.js';
import { markedSystemMessage, type SystemBlock } from '../schemas/marked-system-message.js';
import { chatNestedWarnings } from '../schemas/chat-nested-fields.js';
import { asksForNothing, CappedWarnings, noteIgnoredFields } from '../schemas/ignored-fields.js';
import { logprobsAsking } from '../schemas/logprobs-asking.js';
import { chatFieldNames } from '../schemas/route-field-names.js';
import { CHAT_FIELD_RULES, topKOf, type OpenAIChatMessage, type OpenAIChatRequest } from '../schemas/openai-chat.js';
import { IMAGE_DETAIL_NOT_SENT, notSent } from '../schemas/responses-nested-fields.js';
import { toolChoiceConflict, type ToolPaths } from '../schemas/tool-choice-conflict.js';
import { COMPLETION_FIELD_RULES, type OpenAICompletionRequest } from '../schemas/openai-completions.js';
import { functionResult, legacyMessagePath, legacyToolCall, legacyToolFields, legacyToolPaths } from './legacy-functions.js';

type TextOrParts = string | Array<{ type: 'text'; text: string; cache_control?: unknown }> | null | undefined;

/**
 * A system, developer or tool message's text: its parts joined with "\n", as `/v1/messages` joins a turn's blocks and
 * vLLM a message's text parts (parts the client wrote apart do not run together).
 */
function joinText(content: TextOrParts): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('\n');
}

/**
 * An assistant message's text: its text parts and the refusal parts given back (their `refusal`), joined by
 * `joinAnswerText` (the model's own answer in pieces, as on `/v1/messages` and the Responses API).
 */
function assistantText(content: string | Array<{ type: 'text'; text: string } | { type: 'refusal'; refusal: string }>): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const p of content) text = joinAnswerText(text, p.type === 'refusal' ? p.refusal : p.text);
  return text;
}

function imagePart(url: string): ContentPart {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { type: 'image', mediaType: m[1]!, data: m[2]! } : { type: 'image', url };
}

/**
 * The breakpoint of a message whose core form has no parts (assistant, tool, a system or developer message with
 * string content): the message's own `cache_control`, else its last marked part's; it sits at the message's end.
 */
function messageMark(m: { cache_control?: unknown; content?: string | ReadonlyArray<{ cache_control?: unknown }> | null }): CacheControl | undefined {
  const own = toCacheControl(m.cache_control);
  if (own || m.content == null || typeof m.content === 'string') return own;
  let mark: CacheControl | undefined;
  for (const p of m.content) mark = toCacheControl(p.cache_control) ?? mark;
  return mark;
}

/** A content array with no part carries nothing: refused as OpenAI does (`messages.N.content`). */
function nonEmpty<T>(content: string | T[], index: number): string | T[] {
  if (typeof content !== 'string' && content.length === 0) {
    throw new LLMError({ code: 'invalid_request', message: `messages.${index}.content: an empty array; expected at least one content part`, param: `messages.${index}.content` });
  }
  return content;
}

function convertMessage(m: Exclude<OpenAIChatMessage, { role: 'function' }>, index: number, warnings: CappedWarnings): ChatMessage {
  if (m.role === 'user') return convertUser(m, index, warnings);
  const message =
    (m.role === 'system' || m.role === 'developer') && typeof m.content !== 'string'
      ? systemParts(m.content, toCacheControl(m.cache_control), index)
      : withMark(convertOther(m, index), messageMark(m));
  // The author's name on a system, developer or assistant message (a user message's is set by convertUser).
  return m.role !== 'tool' && m.name ? withName(message, m.name) : message;
}

/** `message` (a system or assistant message) with its author `name`. */
function withName(message: ChatMessage, name: string): ChatMessage {
  return message.role === 'system' || message.role === 'assistant' ? { ...message, name } : message;
}

/**
 * A system or developer message with content parts: one system message, the parts joined with "\n" as without marks. With
 * marked parts it also carries them as `parts` with their marks (see `markedSystemMessage`; the message's own mark
 * a mark on its last part), which the Anthropic engine sends as separate system blocks, each breakpoint where the
 * client put it, as on `/v1/messages`; every other engine sends the joined text.
 */
function systemParts(parts: Array<{ type: 'text'; text: string; cache_control?: unknown }>, own: CacheControl | undefined, index: number): ChatMessage {
  nonEmpty(parts, index);
  const blocks: SystemBlock[] = parts.map((p) => ({ text: p.text, mark: toCacheControl(p.cache_control) }));
  if (own) blocks[blocks.length - 1]!.mark = own;
  return markedSystemMessage(blocks, '\n') ?? { role: 'system', content: joinText(parts) };
}

/**
 * A user message: its parts keep their own marks; a `file` or `input_audio` part is a 400 `unsupported` naming it; the message's `cache_control` is a breakpoint at its end (the
 * core message's own). An image's `detail` other than `auto` (which no engine takes) is a warning in `warnings`.
 */
function convertUser(m: Extract<OpenAIChatMessage, { role: 'user' }>, index: number, warnings: CappedWarnings): ChatMessage {
  const parts = nonEmpty(m.content, index);
  const content: string | ContentPart[] =
    typeof parts === 'string'
      ? parts
      : parts.map((p, k): ContentPart => {
          if (p.type === 'text') return withMark<ContentPart>({ type: 'text', text: p.text }, toCacheControl(p.cache_control));
          if (p.type === 'file' || p.type === 'input_audio') {
            throw new LLMError({ code: 'unsupported', message: `${p.type} content is not supported by the gateway (text and images only)`, param: `messages.${index}.content.${k}.type` });
          }
          const detail = p.image_url.detail;
          if (detail != null && detail !== 'auto' && warnings.room()) warnings.push(notSent(`messages.${index}.content.${k}.image_url.detail`, `${detail} ${IMAGE_DETAIL_NOT_SENT}`));
          return withMark(imagePart(p.image_url.url), toCacheControl(p.cache_control));
        });
  const message: ChatMessage = m.name ? { role: 'user', content, name: m.name } : { role: 'user', content };
  return withMark(message, toCacheControl(m.cache_control));
}

function convertOther(m: Exclude<OpenAIChatMessage, { role: 'user' | 'function' }>, index: number): ChatMessage {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinText(nonEmpty(m.content, index)) };
    case 'assistant': {
      let toolCalls = m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
      // A legacy `function_call` given back: the turn's tool call (after any `tool_calls`).
      if (m.function_call) toolCalls = [...(toolCalls ?? []), legacyToolCall(m.function_call, index)];
      const content = m.content == null ? null : assistantText(m.content);
      // A refusal given back (`message.refusal`, as this gateway and OpenAI answer it) is the turn's text, after its
      // content, as a `refusal` part given back is (and on `/v1/responses`).
      const text = m.refusal ? joinAnswerText(content ?? '', m.refusal) : content;
      // The turn's reasoning given back (`reasoning_content`, as DeepSeek and this gateway answer it), with tool calls
      // or not: DeepSeek's thinking mode needs every assistant turn's of a tool loop, the text answer after the tool
      // results included (the engine sends it where the deployment wants it).
      const given = (m as { reasoning_content?: unknown }).reasoning_content;
      const reasoning = typeof given === 'string' && given !== '' ? [{ type: 'reasoning' as const, text: given }] : undefined;
      if (toolCalls && toolCalls.length > 0) {
        return reasoning ? { role: 'assistant', content: text, toolCalls, reasoning } : { role: 'assistant', content: text, toolCalls };
      }
      // A refusal echoed back from an earlier answer has null content; anything else needs content or tool calls.
      if (text === null && m.refusal == null) {
        throw new LLMError({ code: 'invalid_request', message: `messages.${index}.content: an assistant message needs content or tool_calls`, param: `messages.${index}.content` });
      }
      return reasoning ? { role: 'assistant', content: text ?? '', reasoning } : { role: 'assistant', content: text ?? '' };
    }
    case 'tool':
      return { role: 'tool', toolCallId: m.tool_call_id, content: joinText(nonEmpty(m.content, index)) };
  }
}

const CHAT_TOOL_PATHS: ToolPaths = { name: (i) => `tools.${i}.function.name`, choiceName: 'tool_choice.function.name' };

/**
 * An answer in audio (`modalities` with `"audio"`, or `audio`'s voice and format), which no deployment of the gateway
 * gives: a 400 `unsupported` naming the field, as an `input_audio` part is (a text answer is not what was asked).
 */
function refuseAudioAnswer(body: Pick<OpenAIChatRequest, 'modalities' | 'audio'>): void {
  const param = body.modalities?.includes('audio') ? 'modalities' : body.audio != null ? 'audio' : undefined;
  if (param !== undefined) {
    throw new LLMError({ code: 'unsupported', message: `${param}: an audio answer is not supported by the gateway (text only)`, param });
  }
}

function toolChoice(choice: OpenAIChatRequest['tool_choice']): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  return typeof choice === 'string' ? choice : { name: choice.function.name };
}

function responseFormat(format: OpenAIChatRequest['response_format']): ResponseFormat | undefined {
  if (!format) return undefined;
  if (format.type === 'json_schema') {
    const js = format.json_schema;
    if (!js.schema) throw new LLMError({ code: 'invalid_request', message: 'response_format.json_schema.schema is required', param: 'response_format.json_schema.schema' });
    return {
      type: 'json_schema',
      name: js.name,
      ...(js.description !== undefined ? { description: js.description } : {}),
      schema: js.schema,
      ...(js.strict != null ? { strict: js.strict } : {}),
    };
  }
  return { type: format.type };
}

function stops(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop == null) return undefined;
  return typeof stop === 'string' ? [stop] : stop;
}

/** `frequency_penalty` / `presence_penalty` (null: none) as the core request's. */
function penalties(body: Pick<OpenAIChatRequest, 'frequency_penalty' | 'presence_penalty'>, req: GenerateRequest): void {
  if (body.frequency_penalty != null) req.frequencyPenalty = body.frequency_penalty;
  if (body.presence_penalty != null) req.presencePenalty = body.presence_penalty;
}

/**
 * `logprobs: true` (and `top_logprobs`) as the core request's `logprobs`. `top_logprobs` above 0 without
 * `logprobs: true` is refused, as OpenAI does ("`logprobs` must be set to `true` if this parameter is used"); 0 or
 * null asks for nothing, so it passes.
 */
function chatLogprobs(body: Pick<OpenAIChatRequest, 'logprobs' | 'top_logprobs'>, req: GenerateRequest): void {
  if (body.logprobs === true) req.logprobs = logprobsAsking(body.top_logprobs);
  else if (body.top_logprobs != null && body.top_logprobs > 0) {
    throw new LLMError({ code: 'invalid_request', message: 'Invalid request: top_logprobs: logprobs must be true to use top_logprobs', param: 'top_logprobs' });
  }
}

/**
 * vLLM's `continue_final_message: true` (with `add_generation_prompt: false`) as the core request's
 * `continueFinalMessage`: the final assistant message is continued where the deployment can (as on `/v1/messages`), else
 * a `setting_not_sent` warning names it. Refused: with `add_generation_prompt: true` (as vLLM refuses it), and when the
 * last message is not the assistant's text to continue, core's prefill (`prefillIndex`: not an assistant's, or one with
 * tool calls, a legacy `function_call` or blank text), whose answer would be a new turn, said nowhere and cached.
 * `add_generation_prompt: false` alone asks for a prompt without the assistant's turn opened, which no engine sends: a
 * warning.
 */
function continuation(body: Pick<OpenAIChatRequest, 'continue_final_message' | 'add_generation_prompt' | 'messages'>, req: GenerateRequest, nested: CappedWarnings): void {
  if (body.continue_final_message === true) {
    if (body.add_generation_prompt === true) {
      throw new LLMError({
        code: 'invalid_request',
        message: 'Invalid request: add_generation_prompt: cannot be true with continue_final_message (the final message is continued, no new turn is opened); send false or leave it out',
        param: 'add_generation_prompt',
      });
    }
    if (prefillIndex(req.messages) === undefined) {
      const last = `messages.${body.messages.length - 1}`;
      const why = body.messages.at(-1)?.role === 'assistant' ? `is the assistant's but has no text to continue (it has tool_calls or a function_call, or its text is blank)` : `must be the assistant's, the text to continue`;
      throw new LLMError({ code: 'invalid_request', message: `Invalid request: continue_final_message: the last message (${last}) ${why}`, param: 'continue_final_message' });
    }
    req.continueFinalMessage = true;
  } else if (body.add_generation_prompt === false && nested.room()) {
    nested.push(notSent('add_generation_prompt', ADD_GENERATION_PROMPT_NOT_SENT));
  }
}

/**
 * What `add_generation_prompt: false` alone gets: the answer to the request without it, a new assistant turn, except
 * where the last message is the assistant's and the deployment continues it by itself (Anthropic, Gemini, llama.cpp
 * server, the local engines). (Short enough for the `x-llmrr-warnings` header, which takes a message of 200 characters.)
 */
const ADD_GENERATION_PROMPT_NOT_SENT =
  "was not sent: the answer is a new turn, unless the last message is the assistant's and the deployment continues it by itself (continue_final_message: true asks for it).";

/** A validated OpenAI chat request as the engine-neutral `GenerateRequest`. */
export function chatToGenerateRequest(body: OpenAIChatRequest): GenerateRequest {
  return convertChatRequest(body).request;
}

/**
 * A validated OpenAI chat request as the engine-neutral `GenerateRequest`. Each client message is one core message
 * (a marked system message too), so core's message indexes are the client's: `messagePaths` is undefined, but for a
 * history with legacy turns (an assistant `function_call`, a `function` message), whose fields the client names
 * otherwise (`legacyMessagePath`). A request with legacy `functions` and no `parallel_tool_calls` asks for one call
 * (`parallelToolCalls: false`), as OpenAI answers it with one `function_call`.
 * `fieldNames`: the client's names of core's fields (`frequency_penalty`).
 */
export function convertChatRequest(body: OpenAIChatRequest): ConvertedRequest {
  refuseAudioAnswer(body);
  // The warnings about fields below the top level: the messages' first (`messages.N.content.K.image_url.detail`).
  const nested = new CappedWarnings();
  // The latest assistant message with a legacy `function_call`: the call a `function` message answers.
  let callAt: number | undefined;
  // Made at the first legacy turn only (most histories have none).
  let paths: Array<number | JoinedMessagePath> | undefined;
  const messages: ChatMessage[] = body.messages.map((m, i) => {
    if (m.role === 'function' || (m.role === 'assistant' && m.function_call)) {
      paths ??= body.messages.map((_, k) => k);
      paths[i] = legacyMessagePath(m, i)!;
    }
    if (m.role === 'function') return withMark(functionResult(m, i, callAt), messageMark(m));
    if (m.role === 'assistant' && m.function_call) callAt = i;
    return convertMessage(m, i, nested);
  });
  const req: GenerateRequest = { messages };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) req.maxTokens = maxTokens;
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.topP = body.top_p;
  const stop = stops(body.stop);
  if (stop) req.stop = stop;
  if (body.seed != null) req.seed = body.seed;
  penalties(body, req);
  if (body.logit_bias != null && asksForNothing(body.logit_bias) === false) req.logitBias = body.logit_bias;
  if (body.tools && body.tools.length > 0) {
    req.tools = body.tools.map((t) =>
      withMark<ToolDefinition>(
        {
          name: t.function.name,
          ...(t.function.description !== undefined ? { description: t.function.description } : {}),
          parameters: t.function.parameters ?? { type: 'object', properties: {} },
          ...(t.function.strict != null ? { strict: t.function.strict } : {}),
        },
        toCacheControl(t.cache_control),
      ),
    );
  }
  let choice = toolChoice(body.tool_choice);
  let toolPaths = CHAT_TOOL_PATHS;
  let legacyTools = false;
  if (body.functions !== undefined || body.function_call !== undefined) {
    const legacy = legacyToolFields(body);
    if (legacy.tools) req.tools = legacy.tools;
    legacyTools = legacy.tools !== undefined;
    if (legacy.choice !== undefined) choice = legacy.choice;
    toolPaths = legacyToolPaths(body, CHAT_TOOL_PATHS);
  }
  const conflict = toolChoiceConflict(req.tools?.map((t) => t.name) ?? [], choice, toolPaths);
  if (conflict) throw new LLMError({ code: 'invalid_request', message: `Invalid request: ${conflict.param}: ${conflict.message}`, param: conflict.param });
  if (choice !== undefined) req.toolChoice = choice;
  if (body.parallel_tool_calls != null) req.parallelToolCalls = body.parallel_tool_calls;
  else if (legacyTools) req.parallelToolCalls = false;
  const format = responseFormat(body.response_format);
  if (format) req.responseFormat = format;
  if (body.user) req.user = body.user;
  if (body.prompt_cache_key) req.promptCacheKey = body.prompt_cache_key;
  if (body.reasoning_effort != null) req.reasoning = { effort: body.reasoning_effort };
  chatLogprobs(body, req);
  if (body.verbosity != null) req.verbosity = body.verbosity;
  const topK = topKOf(body.top_k);
  if (topK !== undefined) req.topK = topK;
  continuation(body, req, nested);
  return { request: noteIgnoredFields(req, body, CHAT_FIELD_RULES, chatNestedWarnings(body, nested)), messagePaths: paths as ClientMessagePaths | undefined, fieldNames: chatFieldNames(body) };
}

/** A validated legacy completion request: the prompt becomes one user message. */
export function completionToGenerateRequest(body: OpenAICompletionRequest): GenerateRequest {
  const prompt = typeof body.prompt === 'string' ? body.prompt : body.prompt[0]!;
  if (body.suffix) throw new LLMError({ code: 'unsupported', message: 'suffix (fill-in-the-middle) is not supported', param: 'suffix' });
  const req: GenerateRequest = { messages: [{ role: 'user', content: prompt }] };
  if (body.max_tokens != null) req.maxTokens = body.max_tokens;
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.topP = body.top_p;
  const stop = stops(body.stop);
  if (stop) req.stop = stop;
  if (body.seed != null) req.seed = body.seed;
  penalties(body, req);
  if (body.logit_bias != null && asksForNothing(body.logit_bias) === false) req.logitBias = body.logit_bias;
  if (body.user) req.user = body.user;
  // OpenAI's legacy `logprobs` (0-5) is the number of alternatives per token; 0 still asks for the chosen token's.
  if (body.logprobs != null) req.logprobs = logprobsAsking(body.logprobs);
  const topK = topKOf(body.top_k);
  if (topK !== undefined) req.topK = topK;
  return noteIgnoredFields(req, body, COMPLETION_FIELD_RULES, chatNestedWarnings(body));
}
