import { isModelName } from './model-name.js';
import { RESPONSES_INCLUDE_VALUES } from './responses-include-values.js';
import type { OpenAIResponsesRequest, ResponsesContentPart, ResponsesFunctionCallItem, ResponsesFunctionCallOutputItem, ResponsesInputMessage } from './openai-responses.js';

/*
 * Hand-written checks of the common `POST /v1/responses` bodies and input items, several times cheaper than
 * the zod schemas' `safeParse` (which copies every object it checks). Each is true only when its schema
 * accepts the value unchanged (the schemas have no defaults or transforms); anything else, valid or not, is
 * false, and the schema decides (and names the field). That includes any object with an own `__proto__` key
 * (see `isObject`). check-openai-responses.test.ts holds each to its schema on generated values.
 */

/**
 * `OpenAIResponsesRequestSchema`: a model name, string or item-array `input` (the items are checked one by
 * one when the request is converted), the sampling, stream, echo and refused-state fields, `llmrr`. False for
 * non-empty `tools`, a `json_schema` text format and any non-null `reasoning` (the schema decides those).
 */
export function isWellFormedResponsesRequest(body: unknown): body is OpenAIResponsesRequest {
  if (!isObject(body)) return false;
  const b = body;
  if (!isModelName(b.model)) return false;
  const input = b.input;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.length > 0)) return false;
  return (
    (b.reasoning === undefined || b.reasoning === null) &&
    nullish(b.tools, (v) => Array.isArray(v) && v.length === 0) &&
    nullish(b.instructions, isString) &&
    nullish(b.tool_choice, isToolChoice) &&
    nullish(b.parallel_tool_calls, isBoolean) &&
    nullish(b.max_output_tokens, isPositiveInt) &&
    nullish(b.max_tool_calls, isPositiveInt) &&
    nullish(b.temperature, (v) => typeof v === 'number' && v >= 0 && v <= 2) &&
    nullish(b.top_p, (v) => typeof v === 'number' && v >= 0 && v <= 1) &&
    nullish(b.top_logprobs, (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 20) &&
    nullish(b.text, isText) &&
    nullish(b.stream, isBoolean) &&
    nullish(b.stream_options, (v) => isObject(v) && optional(v.include_obfuscation, isBoolean)) &&
    nullish(b.store, isBoolean) &&
    nullish(b.background, isBoolean) &&
    nullish(b.previous_response_id, isString) &&
    nullish(b.conversation, (v) => typeof v === 'string' || (isObject(v) && typeof v.id === 'string')) &&
    nullish(b.prompt, (v) => isObject(v) && typeof v.id === 'string') &&
    nullish(b.truncation, (v) => v === 'auto' || v === 'disabled') &&
    nullish(b.include, (v) => Array.isArray(v) && every(v, (x) => typeof x === 'string' && INCLUDE_VALUES.has(x))) &&
    nullish(b.metadata, isMetadata) &&
    nullish(b.user, isString) &&
    nullish(b.safety_identifier, isString) &&
    nullish(b.prompt_cache_key, isString) &&
    nullish(b.service_tier, (v) => typeof v === 'string' && SERVICE_TIERS.has(v)) &&
    optional(b.llmrr, isExtension)
  );
}

/** `ResponsesInputMessageSchema`: a message item whose content is a string or an array of typed parts. */
export function isWellFormedInputMessage(v: unknown): v is ResponsesInputMessage {
  if (!isObject(v)) return false;
  const role = v.role;
  return (
    (v.type === undefined || v.type === 'message') &&
    (role === 'user' || role === 'assistant' || role === 'system' || role === 'developer') &&
    isPartsOrString(v.content) &&
    optional(v.id, isString) &&
    optional(v.status, isString)
  );
}

/** `ResponsesFunctionCallItemSchema`. */
export function isWellFormedFunctionCall(v: unknown): v is ResponsesFunctionCallItem {
  return (
    isObject(v) &&
    v.type === 'function_call' &&
    isNonEmptyString(v.call_id) &&
    isNonEmptyString(v.name) &&
    typeof v.arguments === 'string' &&
    optional(v.id, isString) &&
    optional(v.status, isString)
  );
}

/** `ResponsesFunctionCallOutputItemSchema`. */
export function isWellFormedFunctionCallOutput(v: unknown): v is ResponsesFunctionCallOutputItem {
  return isObject(v) && v.type === 'function_call_output' && isNonEmptyString(v.call_id) && isPartsOrString(v.output) && nullish(v.id, isString) && nullish(v.status, isString);
}

/** `ResponsesContentPartSchema` for text parts (`input_text`, `output_text`, `refusal`); images go to the schema. */
export function isWellFormedTextPart(v: unknown): v is ResponsesContentPart {
  if (!isObject(v)) return false;
  if (v.type === 'input_text' || v.type === 'output_text') return typeof v.text === 'string';
  return v.type === 'refusal' && typeof v.refusal === 'string';
}

type Check = (v: unknown) => boolean;

/**
 * A plain object without an own `__proto__` key: JSON.parse makes one, and the schemas' copy of an object
 * drops it, so an object that has one is left to the schema (at every level).
 */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.hasOwn(v, '__proto__');
}
function isString(v: unknown): v is string {
  return typeof v === 'string';
}
function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
}
function isPositiveInt(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) > 0;
}
/** Every element, holes included (`Array.prototype.every` skips holes; the schemas do not). */
function every(items: readonly unknown[], check: Check): boolean {
  for (const x of items) if (!check(x)) return false;
  return true;
}
function optional(v: unknown, check: Check): boolean {
  return v === undefined || check(v);
}
function nullish(v: unknown, check: Check): boolean {
  return v === undefined || v === null || check(v);
}

/** A string, or an array of objects with a string `type` (the parts are checked when converted). */
function isPartsOrString(c: unknown): boolean {
  return typeof c === 'string' || (Array.isArray(c) && every(c, (p) => isObject(p) && typeof p.type === 'string'));
}

function isToolChoice(v: unknown): boolean {
  if (typeof v === 'string') return v === 'none' || v === 'auto' || v === 'required';
  return isObject(v) && isNonEmptyString(v.type) && optional(v.name, isNonEmptyString);
}

/** `text`: a `text` or `json_object` format (a `json_schema` one goes to the schema), a verbosity. */
function isText(v: unknown): boolean {
  if (!isObject(v)) return false;
  const verbosity = v.verbosity;
  return (
    nullish(v.format, (f) => isObject(f) && (f.type === 'text' || f.type === 'json_object')) &&
    (verbosity === undefined || verbosity === null || verbosity === 'low' || verbosity === 'medium' || verbosity === 'high')
  );
}

/** Keys of at most 64 characters, string values of at most 512 (`isObject` refuses a `__proto__` key). */
function isMetadata(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const k in v) {
    const value = v[k];
    if (k.length > 64 || typeof value !== 'string' || value.length > 512) return false;
  }
  return true;
}

const INCLUDE_VALUES: ReadonlySet<string> = new Set(RESPONSES_INCLUDE_VALUES);
const SERVICE_TIERS: ReadonlySet<string> = new Set(['auto', 'default', 'flex', 'scale', 'priority']);
const EXTENSION_KEYS: ReadonlySet<string> = new Set(['strategy', 'explain', 'fallbacks', 'cache']);

/** `LlmrrExtensionSchema`: a strict object (no other keys). */
function isExtension(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const k in v) if (!EXTENSION_KEYS.has(k)) return false;
  return (
    optional(v.strategy, isNonEmptyString) &&
    optional(v.explain, isBoolean) &&
    optional(v.fallbacks, (f) => Array.isArray(f) && every(f, isNonEmptyString)) &&
    optional(v.cache, isBoolean)
  );
}
