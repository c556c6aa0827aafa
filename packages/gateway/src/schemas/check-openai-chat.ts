import { MAX_TOP_LOGPROBS, VERBOSITIES } from '@llmrr/core';
import { isCacheControlWire } from './cache-control.js';
import { every, isBoolean, isEffort, isExtension, isNonEmptyString, isObject, isPositiveInt, isString, nullish, optional } from './fast-predicates.js';
import { isModelName } from './model-name.js';
import type { OpenAIChatRequest } from './openai-chat.js';

/**
 * A hand-written check of the common `POST /v1/chat/completions` bodies, about ten times cheaper than
 * `OpenAIChatRequestSchema.safeParse` (which copies every object it checks). True only when the schema
 * accepts `body` unchanged (it has no defaults or transforms): a string model, messages of any role with
 * text (or text and image) content, assistant refusal parts and tool calls, `cache_control` on parts and messages (the same
 * check as the schema's, `isCacheControlWire`), the sampling, penalty and stream fields, `parallel_tool_calls`, `prompt_cache_key`,
 * `reasoning_effort`, `logprobs`, `top_logprobs`, `verbosity`, `top_k`, `continue_final_message`, `add_generation_prompt`, `llmrr`.
 * Anything else, valid or not (tools, tool_choice, response_format, legacy `functions` / `function_call` (and a
 * `function` message or an assistant's `function_call`), `logit_bias`, `modalities`, `audio`, a `file` or `input_audio` part, which the
 * conversion refuses as unsupported, an unsafe integer, an object at any level with an own `__proto__` key...), is false, and the schema decides (and names the field).
 * check-openai-chat.test.ts holds it to the schema. The model name
 * check (`isModelName`: length and control characters) is a character loop over the name.
 */
export function isWellFormedChatRequest(body: unknown): body is OpenAIChatRequest {
  if (!isObject(body)) return false;
  const b = body as Record<string, unknown>;
  if (!isModelName(b.model)) return false;
  const messages = b.messages;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  if (!every(messages, isMessage)) return false;
  return (
    b.tools === undefined &&
    b.tool_choice === undefined &&
    b.response_format === undefined &&
    b.functions === undefined &&
    b.function_call === undefined &&
    b.logit_bias === undefined &&
    b.modalities === undefined &&
    b.audio === undefined &&
    nullish(b.max_tokens, isPositiveInt) &&
    nullish(b.max_completion_tokens, isPositiveInt) &&
    nullish(b.temperature, (v) => typeof v === 'number' && v >= 0 && v <= 2) &&
    nullish(b.top_p, (v) => typeof v === 'number' && v >= 0 && v <= 1) &&
    nullish(b.n, (v) => v === 1) &&
    nullish(b.stop, isStop) &&
    nullish(b.seed, Number.isSafeInteger) &&
    nullish(b.stream, isBoolean) &&
    nullish(b.stream_options, (v) => isObject(v) && optional(v.include_usage, isBoolean) && nullish(v.include_obfuscation, isBoolean)) &&
    nullish(b.parallel_tool_calls, isBoolean) &&
    nullish(b.frequency_penalty, isPenalty) &&
    nullish(b.presence_penalty, isPenalty) &&
    optional(b.user, isString) &&
    nullish(b.prompt_cache_key, isString) &&
    nullish(b.reasoning_effort, isEffort) &&
    nullish(b.logprobs, isBoolean) &&
    nullish(b.top_logprobs, isTopLogprobs) &&
    nullish(b.verbosity, isVerbosity) &&
    nullish(b.top_k, isTopK) &&
    nullish(b.continue_final_message, isBoolean) &&
    nullish(b.add_generation_prompt, isBoolean) &&
    optional(b.llmrr, isExtension)
  );
}

/** `PenaltySchema`: a number from -2 to 2 (NaN and the infinities fail the range, as zod refuses them). */
function isPenalty(v: unknown): boolean {
  return typeof v === 'number' && v >= -2 && v <= 2;
}
/** `TopKSchema`: an integer from -1 (0 and -1 are the servers' "off"). */
export function isTopK(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= -1;
}
/** `top_logprobs`: an integer from 0 to `MAX_TOP_LOGPROBS`. */
function isTopLogprobs(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TOP_LOGPROBS;
}
const VERBOSITY: ReadonlySet<unknown> = new Set(VERBOSITIES);
function isVerbosity(v: unknown): boolean {
  return VERBOSITY.has(v);
}
function isStop(v: unknown): boolean {
  return typeof v === 'string' || (Array.isArray(v) && v.length <= 4 && every(v, isString));
}

function isTextPart(p: unknown): boolean {
  return isObject(p) && p.type === 'text' && typeof p.text === 'string' && optional(p.cache_control, isCacheControlWire);
}
function isUserPart(p: unknown): boolean {
  if (!isObject(p)) return false;
  if (!optional(p.cache_control, isCacheControlWire)) return false;
  if (p.type === 'text') return typeof p.text === 'string';
  if (p.type !== 'image_url' || !isObject(p.image_url)) return false;
  const { url, detail } = p.image_url;
  return isNonEmptyString(url) && (detail === undefined || detail === 'auto' || detail === 'low' || detail === 'high');
}
function isTextContent(c: unknown): boolean {
  return typeof c === 'string' || (Array.isArray(c) && every(c, isTextPart));
}
/** An assistant message's part: text, or a refusal given back (`{ type: 'refusal', refusal }`). */
function isAssistantPart(p: unknown): boolean {
  return isTextPart(p) || (isObject(p) && p.type === 'refusal' && typeof p.refusal === 'string' && optional(p.cache_control, isCacheControlWire));
}
function isToolCall(c: unknown): boolean {
  return isObject(c) && isNonEmptyString(c.id) && c.type === 'function' && isObject(c.function) && isNonEmptyString(c.function.name) && typeof c.function.arguments === 'string';
}

/**
 * OpenAI's rule for a tool's (and a legacy function's) name: 1 to 64 letters, digits, `_` or `-`. A message's author
 * `name` is any string here: core refuses one outside OpenAI's characters only where it would reach OpenAI or Azure
 * OpenAI (`ResolvedEndpoint.checkMessageNames`), a 400 naming `messages.N.name` before the call.
 */
export const OPENAI_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

function isMessage(m: unknown): boolean {
  if (!isObject(m) || !optional(m.cache_control, isCacheControlWire)) return false;
  switch (m.role) {
    case 'system':
    case 'developer':
      return isTextContent(m.content) && optional(m.name, isString);
    case 'user':
      return (typeof m.content === 'string' || (Array.isArray(m.content) && every(m.content, isUserPart))) && optional(m.name, isString);
    case 'assistant':
      return (
        nullish(m.content, (c) => typeof c === 'string' || (Array.isArray(c) && every(c, isAssistantPart))) &&
        optional(m.tool_calls, (v) => Array.isArray(v) && every(v, isToolCall)) &&
        m.function_call === undefined &&
        optional(m.name, isString) &&
        nullish(m.refusal, isString)
      );
    case 'tool':
      return isNonEmptyString(m.tool_call_id) && isTextContent(m.content);
    default:
      return false;
  }
}
