import { MAX_JSON_DEPTH } from './bounded-json.js';
import { every, isBoolean, isEffort, isExtension, isNonEmptyString, isObject, isPositiveInt, isString, nullish, optional, type Check } from './fast-predicates.js';
import { isModelName } from './model-name.js';
import { RESPONSES_INCLUDE_VALUES } from './responses-include-values.js';
import type { OpenAIResponsesRequest, ResponsesContentPart, ResponsesFunctionCallItem, ResponsesFunctionCallOutputItem, ResponsesInputMessage, ResponsesReasoningItem } from './openai-responses.js';

/*
 * Hand-written checks of the common `POST /v1/responses` bodies and input items, several times cheaper than
 * the zod schemas' `safeParse` (which copies every object it checks). Each is true only when its schema
 * accepts the value unchanged (the schemas have no defaults or transforms); anything else, valid or not, is
 * false, and the schema decides (and names the field). That includes any object with an own `__proto__` key
 * (see `isObject`). check-openai-responses.test.ts holds each to its schema on generated values.
 */

/**
 * `OpenAIResponsesRequestSchema`: a model name, string or item-array `input` (the items are checked one by
 * one when the request is converted), tools, `tool_choice`, `text` (a `json_schema` format included),
 * `reasoning`, the sampling, stream, echo and refused-state fields, `llmrr`: the whole schema, so what an
 * agent sends on every turn (function tools, reasoning, structured output) takes the fast path too.
 */
export function isWellFormedResponsesRequest(body: unknown): body is OpenAIResponsesRequest {
  if (!isObject(body)) return false;
  const b = body;
  if (!isModelName(b.model)) return false;
  const input = b.input;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.length > 0)) return false;
  return (
    nullish(b.tools, (v) => Array.isArray(v) && every(v, isTool)) &&
    nullish(b.instructions, isString) &&
    nullish(b.tool_choice, isToolChoice) &&
    nullish(b.parallel_tool_calls, isBoolean) &&
    nullish(b.max_output_tokens, isPositiveInt) &&
    nullish(b.max_tool_calls, isPositiveInt) &&
    nullish(b.temperature, (v) => typeof v === 'number' && v >= 0 && v <= 2) &&
    nullish(b.top_p, (v) => typeof v === 'number' && v >= 0 && v <= 1) &&
    nullish(b.top_logprobs, (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 20) &&
    nullish(b.text, isText) &&
    nullish(b.reasoning, isReasoning) &&
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

/** `ResponsesReasoningItemSchema`: a reasoning item given back (the gateway's own output item, or OpenAI's). */
export function isWellFormedReasoningItem(v: unknown): v is ResponsesReasoningItem {
  return (
    isObject(v) &&
    v.type === 'reasoning' &&
    nullish(v.summary, isTextPieces) &&
    nullish(v.content, isTextPieces) &&
    nullish(v.encrypted_content, isString) &&
    nullish(v.id, isString) &&
    nullish(v.status, isString)
  );
}

/** A reasoning item's `summary` or `content`: objects with a string `type` and a string `text`. */
function isTextPieces(v: unknown): boolean {
  return Array.isArray(v) && every(v, isTextPiece);
}
function isTextPiece(p: unknown): boolean {
  return isObject(p) && typeof p.type === 'string' && typeof p.text === 'string';
}

/** `ResponsesContentPartSchema` for text parts (`input_text`, `output_text`, `refusal`); images go to the schema. */
export function isWellFormedTextPart(v: unknown): v is ResponsesContentPart {
  if (!isObject(v)) return false;
  if (v.type === 'input_text' || v.type === 'output_text') return typeof v.text === 'string';
  return v.type === 'refusal' && typeof v.refusal === 'string';
}

/** A string, or an array of objects with a string `type` (the parts are checked when converted). */
function isPartsOrString(c: unknown): boolean {
  return typeof c === 'string' || (Array.isArray(c) && every(c, isTypedPart));
}
function isTypedPart(p: unknown): boolean {
  return isObject(p) && typeof p.type === 'string';
}

function isToolChoice(v: unknown): boolean {
  if (typeof v === 'string') return v === 'none' || v === 'auto' || v === 'required';
  return isObject(v) && isNonEmptyString(v.type) && optional(v.name, isNonEmptyString);
}

/** `text`: a `text`, `json_object` or `json_schema` format, a verbosity. */
function isText(v: unknown): boolean {
  if (!isObject(v)) return false;
  const verbosity = v.verbosity;
  return (
    nullish(v.format, isTextFormat) &&
    (verbosity === undefined || verbosity === null || verbosity === 'low' || verbosity === 'medium' || verbosity === 'high')
  );
}

/** `ResponsesTextFormatSchema`. */
function isTextFormat(f: unknown): boolean {
  if (!isObject(f)) return false;
  if (f.type === 'text' || f.type === 'json_object') return true;
  return f.type === 'json_schema' && isToolName(f.name) && isJsonRecord(f.schema) && nullish(f.description, isString) && nullish(f.strict, isBoolean);
}

/** `ResponsesToolSchema`: any non-empty type (the conversion refuses built-in tools by `tools.N.type`). */
function isTool(t: unknown): boolean {
  return (
    isObject(t) &&
    isNonEmptyString(t.type) &&
    optional(t.name, isToolName) &&
    nullish(t.description, isString) &&
    nullish(t.parameters, isJsonRecord) &&
    nullish(t.strict, isBoolean)
  );
}

/**
 * The schemas' tool and json_schema name pattern, `/^[a-zA-Z0-9_-]{1,64}$/`, as a loop over the characters
 * (cheaper than the regex test on V8: it pays for the symbol-key check of `isJsonRecord` on a tool body).
 */
function isToolName(v: unknown): boolean {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45)) return false;
  }
  return true;
}

/**
 * `boundedJson(z.record(z.string(), z.unknown()))` (tool parameters, a json_schema's schema): an object that
 * zod's record takes as it is and copies key for key, nesting at most MAX_JSON_DEPTH levels. The record's
 * copy is a plain `{}` of the object's own enumerable string keys, without an own `__proto__` key (`isObject`
 * refuses one); the values inside are kept as they are (`z.unknown`), own `__proto__` keys and all, so the
 * check accepts those as the schema does. What JSON.parse never makes is left to the schema: a prototype other
 * than `Object.prototype` (a null prototype too, which the record accepts but copies into a plain object), an
 * own `constructor` function other than `Object` (the record refuses most), any own symbol key (the record
 * refuses an enumerable one and drops the others).
 */
function isJsonRecord(v: unknown): boolean {
  return isPlainRecord(v) && nestsWithin(v, 1);
}

/** An object a `z.record(z.string(), ...)` takes as it is and copies key for key (see `isJsonRecord`). */
function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (!isObject(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const ctor = v.constructor;
  return (ctor === Object || typeof ctor !== 'function') && Object.getOwnPropertySymbols(v).length === 0;
}

/**
 * False when `v` (an object or array at nesting level `level`) or anything in it nests deeper than
 * MAX_JSON_DEPTH levels (bounded-json.ts `jsonDepthExceeds`; the recursion stops at the bound). `for...in`
 * visits the own keys (`Object.values`) and inherited enumerable ones, which only ever makes it stricter.
 */
function nestsWithin(v: object, level: number): boolean {
  if (level > MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) {
    // An index loop (holes read as undefined, as `jsonDepthExceeds` sees them): cheaper than the iterator.
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null && !nestsWithin(x, level + 1)) return false;
    }
    return true;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object' && x !== null && !nestsWithin(x, level + 1)) return false;
  }
  return true;
}

const SUMMARIES: ReadonlySet<unknown> = new Set(['auto', 'concise', 'detailed']);

/** `reasoning`: an effort of core's list, a summary (and its older name, `generate_summary`). */
function isReasoning(v: unknown): boolean {
  return isObject(v) && nullish(v.effort, isEffort) && nullish(v.summary, isSummary) && nullish(v.generate_summary, isSummary);
}
function isSummary(v: unknown): boolean {
  return SUMMARIES.has(v);
}

/** A record (`isPlainRecord`) of at most 16 keys (`MAX_METADATA_KEYS`) of at most 64 characters, string values of at most 512. */
function isMetadata(v: unknown): boolean {
  if (!isPlainRecord(v)) return false;
  let keys = 0;
  for (const k in v) {
    const value = v[k];
    if (++keys > 16 || k.length > 64 || typeof value !== 'string' || value.length > 512) return false;
  }
  return true;
}

const INCLUDE_VALUES: ReadonlySet<string> = new Set(RESPONSES_INCLUDE_VALUES);
const SERVICE_TIERS: ReadonlySet<string> = new Set(['auto', 'default', 'flex', 'scale', 'priority']);
