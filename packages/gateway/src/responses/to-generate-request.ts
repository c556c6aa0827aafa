import { LLMError, formatPath, type ChatMessage, type ContentPart, type GenerateRequest, type LogprobsOptions, type ReasoningPart, type ResponseFormat, type ToolChoice } from '@llmrr/core';
import type { z } from 'zod';
import { joinAnswerText } from '../schemas/answer-text.js';
import type { ConvertedRequest, JoinedMessagePath } from '../schemas/client-message-paths.js';
import { fastCheckOf } from '../schemas/fast-check.js';
import { CappedWarnings, noteIgnoredFields } from '../schemas/ignored-fields.js';
import { logprobsAsking } from '../schemas/logprobs-asking.js';
import { LOGPROBS_INCLUDE } from '../schemas/responses-include-values.js';
import { IMAGE_DETAIL_NOT_SENT, notSent, responsesNestedWarnings } from '../schemas/responses-nested-fields.js';
import { responsesFieldNames } from '../schemas/route-field-names.js';
import { toolChoiceConflict, type ToolPaths } from '../schemas/tool-choice-conflict.js';
import {
  ResponsesContentPartSchema,
  ResponsesFunctionCallItemSchema,
  ResponsesFunctionCallOutputItemSchema,
  ResponsesInputMessageSchema,
  ResponsesReasoningItemSchema,
  RESPONSES_FIELD_RULES,
  type OpenAIResponsesRequest,
} from '../schemas/openai-responses.js';
import { decryptReasoning } from './reasoning-encrypted-content.js';

type ContentPart0 = z.infer<typeof ResponsesContentPartSchema>;

/** Why an input item kind is refused: the gateway keeps no state and runs no built-in tools. */
const STATEFUL_ITEM = 'refers to a stored item; the gateway keeps no responses, so send the item itself (with the Vercel AI SDK: providerOptions.openai.store = false)';

function invalid(param: string, message: string, code: 'invalid_request' | 'unsupported' = 'invalid_request'): never {
  throw new LLMError({ code, message: `${code === 'invalid_request' ? 'Invalid request: ' : ''}${param}: ${message}`, param });
}

/**
 * Parses `value` with `schema` (a well-formed common value passes the schema's fast check, see
 * schemas/check-openai-responses.ts, and is returned as it is); the first issue becomes a 400 naming the field under `at`.
 */
function parseAt<S extends z.ZodType>(schema: S, value: unknown, at: string): z.output<S> {
  if (fastCheckOf(schema)?.(value)) return value as z.output<S>;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = formatPath([...at.split('.'), ...issue.path]);
  return invalid(path, issue.message);
}

function imagePart(url: string): ContentPart {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { type: 'image', mediaType: m[1]!, data: m[2]! } : { type: 'image', url };
}

/**
 * The content parts of a message or a function output, as core parts (`images` false: text only). An image's
 * `detail` other than `auto` (which no engine takes) is a warning in `warnings`.
 */
function convertParts(raw: Array<{ type: string }>, at: string, images: boolean, warnings: CappedWarnings): ContentPart[] {
  return raw.map((p, i): ContentPart => {
    const where = `${at}.${i}`;
    if (p.type === 'input_file' || p.type === 'input_audio') invalid(`${where}.type`, `${p.type} content is not supported by the gateway (text and images only)`, 'unsupported');
    if (p.type !== 'input_text' && p.type !== 'output_text' && p.type !== 'refusal' && p.type !== 'input_image') {
      invalid(`${where}.type`, `unknown content part type "${p.type}"; expected input_text, output_text, refusal or input_image`);
    }
    const part: ContentPart0 = parseAt(ResponsesContentPartSchema, p, where);
    if (part.type === 'input_image') {
      if (!images) invalid(`${where}.type`, 'images are only accepted in user messages and function_call_output items', 'unsupported');
      if (part.file_id) invalid(`${where}.file_id`, 'file ids need the Files API, which the gateway does not serve; send image_url (a URL or a data: URL)', 'unsupported');
      if (!part.image_url) invalid(`${where}.image_url`, 'an input_image needs image_url');
      if (part.detail != null && part.detail !== 'auto' && warnings.room()) warnings.push(notSent(`${where}.detail`, `${part.detail} ${IMAGE_DETAIL_NOT_SENT}`));
      return imagePart(part.image_url);
    }
    return { type: 'text', text: part.type === 'refusal' ? part.refusal : part.text };
  });
}

/**
 * The text of content parts: joined with "\n" for parts the client wrote apart (a system or developer message, a
 * function output), as chat completions and `/v1/messages` join them; by `joinAnswerText` for an assistant message's
 * parts, the model's own answer in pieces (`answer`).
 */
function textOf(parts: ContentPart[], answer = false): string {
  if (!answer) return parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
  let text = '';
  for (const p of parts) if (p.type === 'text') text = joinAnswerText(text, p.text);
  return text;
}

/** A message's entry in the request's `messagePaths` while its turn is being joined (then read as a `JoinedMessagePath`). */
type Joined = JoinedMessagePath & { toolCalls?: string[] };

/** A function_call_output item's names of core's tool message fields: `call_id` is its `toolCallId`, `output` its `content`. */
const OUTPUT_ITEM_FIELDS = { toolCallId: 'call_id', content: 'output' } as const;

/** Content part types, which belong in a message's `content`, not directly in `input`. */
const CONTENT_PART_TYPES = new Set(['input_text', 'output_text', 'refusal', 'input_image', 'input_file', 'input_audio']);

/** `null`, `an array`, `an object`, `a string`...: what a JSON value is, for an error message. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  const kind = Array.isArray(value) ? 'array' : typeof value;
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

/**
 * A reasoning item given back as core reasoning parts: the blocks of the gateway's `encrypted_content` (signed, so
 * the Anthropic engine sends them back; see reasoning-encrypted-content.ts), else its text (`content` pieces joined,
 * else the `summary` parts joined with a blank line) as one unsigned part (what the OpenAI-compatible engine sends
 * as `reasoning_content` where the deployment wants it back: the `deepseek` preset); none when it has no text.
 */
function reasoningParts(item: unknown, at: string, warnings: CappedWarnings): ReasoningPart[] {
  const r = parseAt(ResponsesReasoningItemSchema, item, at);
  if (r.encrypted_content != null && r.encrypted_content !== '') {
    const signed = decryptReasoning(r.encrypted_content, `${at}.encrypted_content`, (w) => {
      if (warnings.room()) warnings.push(w);
    });
    if (signed) return signed;
  }
  const text = r.content?.length ? r.content.map((p) => p.text).join('') : (r.summary ?? []).map((p) => p.text).join('\n\n');
  return text === '' ? [] : [{ type: 'reasoning', text }];
}

/**
 * The input items as chat messages, and the item each message came from (`paths`, filled in: `input.N`, or
 * `input` for a string input, which is the message's text itself; a function_call_output item's entry names its
 * fields, `call_id` and `output`); function calls and text after them join the assistant turn before them (its entry
 * names the item of each call and of its text), and reasoning items make no message (they are the reasoning of the
 * assistant turn after them, as chat completions takes a turn's `reasoning_content` back, else of the assistant turn
 * right before them; with neither they are dropped, with a warning naming each), so a message's index is not always
 * its item's.
 */
function convertInput(input: OpenAIResponsesRequest['input'], paths: Array<string | Joined>, warnings: CappedWarnings): ChatMessage[] {
  if (typeof input === 'string') {
    paths.push({ path: 'input', text: true });
    return [{ role: 'user', content: input }];
  }
  const out: ChatMessage[] = [];
  /**
   * Reasoning items since the last message (and the items they came from, `input.N`): the next assistant turn's
   * reasoning, else (a tool, user or system message next, or the end of the input) the assistant turn's right before
   * them (between a turn's calls and their outputs, or after its message); with no assistant turn there, dropped with
   * a warning naming each item.
   */
  let reasoning: ReasoningPart[] | undefined;
  let reasoningAt: string[] | undefined;
  /** Pending reasoning, before a message that is no assistant turn or at the end: the turn's before it, else dropped. */
  const settleReasoning = () => {
    const last = out.at(-1);
    if (last?.role === 'assistant') withReasoning(last);
    else {
      for (const item of reasoningAt!) {
        if (warnings.room()) warnings.push(notSent(item, 'was not sent: a reasoning item is the reasoning of an assistant turn next to it (the one after it, else the one before it), and this one has none.'));
      }
      reasoning = undefined;
    }
    reasoningAt = undefined;
  };
  const push = (m: ChatMessage, at: string | Joined) => {
    if (reasoning) settleReasoning();
    out.push(m);
    paths.push(at);
  };
  /** `m` (an assistant turn) with the reasoning items before it (or within it) as its reasoning, in order. */
  const withReasoning = <M extends Extract<ChatMessage, { role: 'assistant' }>>(m: M): M => {
    if (reasoning) {
      if (m.reasoning) m.reasoning.push(...reasoning);
      else m.reasoning = reasoning;
      reasoning = undefined;
      reasoningAt = undefined;
    }
    return m;
  };
  /** The last message's entry as a joined one, to record the items that join its turn. */
  const joined = (): Joined => {
    const last = paths.at(-1)!;
    if (typeof last !== 'string') return last;
    const entry: Joined = { path: last };
    paths[paths.length - 1] = entry;
    return entry;
  };
  input.forEach((item, index) => {
    const at = `input.${index}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) invalid(at, `expected an object (a message or an item such as function_call_output), got ${kindOf(item)}`);
    const type: unknown = (item as { type?: unknown }).type;
    if (type !== undefined && typeof type !== 'string') invalid(`${at}.type`, `expected a string, got ${kindOf(type)}`);
    if (type === undefined || type === 'message') {
      const m = parseAt(ResponsesInputMessageSchema, item, at);
      if (typeof m.content !== 'string' && m.content.length === 0) invalid(`${at}.content`, 'an empty array; expected at least one content part');
      const parts = typeof m.content === 'string' ? m.content : convertParts(m.content, `${at}.content`, m.role === 'user', warnings);
      const text = typeof parts === 'string' ? parts : textOf(parts, m.role === 'assistant');
      if (m.role === 'system' || m.role === 'developer') push({ role: 'system', content: text }, at);
      else if (m.role === 'user') push({ role: 'user', content: parts }, at); // parts kept apart, as on chat completions
      else {
        // Text after function calls whose outputs have not come yet (the gateway's own streamed output is
        // [message, function_call, message]): it joins that assistant turn, so the tool results still follow
        // the turn with the calls, as chat completions and Anthropic require.
        const last = out.at(-1);
        if (last?.role === 'assistant' && (last.toolCalls?.length ?? 0) > 0) {
          if (text !== '') {
            // The turn's text came from this item when it had none before (the turn started with a function call).
            if ((last.content ?? '') === '') joined().content = at;
            last.content = joinAnswerText(last.content ?? '', text);
          }
          withReasoning(last);
        } else push(withReasoning({ role: 'assistant', content: text }), at);
      }
      return;
    }
    if (type === 'function_call') {
      const c = parseAt(ResponsesFunctionCallItemSchema, item, at);
      const call = { id: c.call_id, name: c.name, arguments: c.arguments };
      const last = out.at(-1);
      // Each call's own item is recorded, so an error about core's `messages.N.toolCalls.K` names it (input.M).
      if (last?.role === 'assistant') {
        (last.toolCalls ??= []).push(call);
        const entry = joined();
        (entry.toolCalls ??= []).push(at);
        withReasoning(last);
      } else push(withReasoning({ role: 'assistant', content: null, toolCalls: [call] }), { path: at, toolCalls: [at] });
      return;
    }
    if (type === 'function_call_output') {
      const o = parseAt(ResponsesFunctionCallOutputItemSchema, item, at);
      if (typeof o.output === 'string') {
        push({ role: 'tool', toolCallId: o.call_id, content: o.output }, { path: at, fields: OUTPUT_ITEM_FIELDS });
        return;
      }
      // An output with an image (a screenshot tool's) keeps its parts, in order, as core's tool message `parts`:
      // the Anthropic engine sends them as the tool_result's blocks, engines that take only text send `content`
      // and warn about each image (`messages.N.parts.K`, named `input.N.output.K`).
      const parts = convertParts(o.output, `${at}.output`, true, warnings);
      // Core's `content` is the text parts joined with "\n" (the images left out).
      const content = textOf(parts.filter((p) => p.type === 'text'));
      if (!parts.some((p) => p.type === 'image')) push({ role: 'tool', toolCallId: o.call_id, content }, { path: at, fields: OUTPUT_ITEM_FIELDS });
      else push({ role: 'tool', toolCallId: o.call_id, content, parts }, { path: at, fields: OUTPUT_ITEM_FIELDS, parts: parts.map((_, k) => `${at}.output.${k}`) });
      return;
    }
    // The model's own reasoning from an earlier turn: it becomes the reasoning of the assistant turn after it (or before it).
    if (type === 'reasoning') {
      const parts = reasoningParts(item, at, warnings);
      if (parts.length > 0) {
        (reasoning ??= []).push(...parts);
        (reasoningAt ??= []).push(at);
      }
      return;
    }
    if (type === 'item_reference') invalid(`${at}.type`, `item_reference ${STATEFUL_ITEM}`, 'unsupported');
    if (CONTENT_PART_TYPES.has(type)) {
      invalid(`${at}.type`, `"${type}" is a content part, not an input item; put it in a message: { "role": "user", "content": [{ "type": "${type}", ... }] }`);
    }
    invalid(`${at}.type`, `input items of type "${type}" are not supported (built-in tools are not served); expected message, function_call or function_call_output`, 'unsupported');
  });
  if (reasoning) settleReasoning();
  return out;
}

function tools(body: OpenAIResponsesRequest): GenerateRequest['tools'] {
  if (!body.tools || body.tools.length === 0) return undefined;
  return body.tools.map((t, i) => {
    if (t.type !== 'function') invalid(`tools.${i}.type`, `"${t.type}" tools are not supported; the gateway serves function tools only`, 'unsupported');
    if (t.name === undefined) invalid(`tools.${i}.name`, 'a function tool needs a name');
    return {
      name: t.name,
      ...(t.description != null ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: 'object', properties: {} },
      // Absent stays absent (the provider's default), not OpenAI Responses' strict-by-default: see the README.
      ...(t.strict != null ? { strict: t.strict } : {}),
    };
  });
}

const RESPONSES_TOOL_PATHS: ToolPaths = { name: (i) => `tools.${i}.name`, choiceName: 'tool_choice.name' };

function toolChoice(choice: OpenAIResponsesRequest['tool_choice']): ToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') return choice;
  if (choice.type !== 'function') invalid('tool_choice.type', `tool_choice of type "${choice.type}" is not supported; use auto, none, required or { type: "function", name }`, 'unsupported');
  if (choice.name === undefined) invalid('tool_choice.name', 'a function tool_choice needs a name');
  return { name: choice.name };
}

function responseFormat(format: NonNullable<OpenAIResponsesRequest['text']>['format']): ResponseFormat | undefined {
  if (!format) return undefined;
  if (format.type === 'json_schema') {
    return {
      type: 'json_schema',
      name: format.name,
      ...(format.description != null ? { description: format.description } : {}),
      schema: format.schema,
      ...(format.strict != null ? { strict: format.strict } : {}),
    };
  }
  return { type: format.type };
}

/** Fields that need state or features the gateway does not have: a 400 `unsupported` naming the field. */
function refuseUnsupported(body: OpenAIResponsesRequest): void {
  if (body.previous_response_id != null) invalid('previous_response_id', 'the gateway keeps no responses; send the whole conversation as input', 'unsupported');
  if (body.conversation != null) invalid('conversation', 'the gateway keeps no conversations; send the whole conversation as input', 'unsupported');
  if (body.background === true) invalid('background', 'background responses need stored responses, which the gateway does not keep', 'unsupported');
  if (body.prompt != null) invalid('prompt', 'stored prompt templates are not supported; send instructions and input', 'unsupported');
}

/**
 * `include: ["message.output_text.logprobs"]` asks for the answer's log probabilities, `top_logprobs` (0-20) for
 * that many alternatives per token. `top_logprobs` above 0 without the include asks for them too: OpenAI documents
 * the include as what returns them, but a client that names how many alternatives it wants wants them.
 */
function responsesLogprobs(body: Pick<OpenAIResponsesRequest, 'include' | 'top_logprobs'>): LogprobsOptions | undefined {
  const top = body.top_logprobs;
  if (body.include?.includes(LOGPROBS_INCLUDE) === true || (top != null && top > 0)) return logprobsAsking(top);
  return undefined;
}

/**
 * A validated Responses API request as the engine-neutral `GenerateRequest`, with the client's path of each of its
 * messages (`instructions`, `input.N`), so errors and warnings about a message name the client's item. `count`: the
 * body of a token count (`POST /v1/responses/input_tokens`), which needs no turn to answer (no input, absent or
 * null there, or system and developer messages alone, count what they are).
 */
export function convertResponsesRequest(body: OpenAIResponsesRequest, count = false): ConvertedRequest {
  refuseUnsupported(body);
  const paths: Array<string | Joined> = [];
  // The warnings about fields below the top level: the input's first (`input.N.content.K.detail`), then the others.
  const nested = new CappedWarnings();
  // (A count's body may have none: `ResponsesInputTokensRequest`.)
  const input = body.input as OpenAIResponsesRequest['input'] | null | undefined;
  const messages = input == null ? [] : convertInput(input, paths, nested);
  // Reasoning items make no message: input holding nothing else (or only system and developer messages) has no
  // turn to answer. Refused here, naming `input`, before the call (core would name `messages`, after admission).
  // A count (`count`) counts it, as OpenAI's does: what a prompt's fixed part (instructions, tools) costs.
  if (!count && messages.every((m) => m.role === 'system')) {
    invalid('input', 'no user, assistant or function_call_output item to answer (reasoning items belong to the assistant turn after them; system and developer messages alone are not a conversation)');
  }
  if (body.instructions != null && body.instructions !== '') {
    messages.unshift({ role: 'system', content: body.instructions });
    paths.unshift({ path: 'instructions', text: true });
  }
  // A count of no input nor instructions (the tools alone, or nothing): core counts a request of one message at least.
  if (messages.length === 0) {
    messages.push({ role: 'system', content: '' });
    paths.push('input');
  }
  const req: GenerateRequest = { messages };
  if (body.max_output_tokens != null) req.maxTokens = body.max_output_tokens;
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.topP = body.top_p;
  const defs = tools(body);
  if (defs) req.tools = defs;
  const choice = toolChoice(body.tool_choice);
  const conflict = toolChoiceConflict(defs?.map((t) => t.name) ?? [], choice, RESPONSES_TOOL_PATHS);
  if (conflict) invalid(conflict.param, conflict.message);
  if (choice !== undefined) req.toolChoice = choice;
  if (body.parallel_tool_calls != null) req.parallelToolCalls = body.parallel_tool_calls;
  const format = responseFormat(body.text?.format);
  if (format) req.responseFormat = format;
  const user = body.user ?? body.safety_identifier;
  if (user) req.user = user;
  if (body.prompt_cache_key) req.promptCacheKey = body.prompt_cache_key;
  if (body.reasoning?.effort != null) req.reasoning = { effort: body.reasoning.effort };
  if (body.text?.verbosity != null) req.verbosity = body.text.verbosity;
  const logprobs = responsesLogprobs(body);
  if (logprobs) req.logprobs = logprobs;
  return { request: noteIgnoredFields(req, body, RESPONSES_FIELD_RULES, responsesNestedWarnings(body, nested)), messagePaths: paths, fieldNames: responsesFieldNames(body) };
}
