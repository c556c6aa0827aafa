import { estimateTokens } from '../../pricing/estimate-tokens.js';
import type { GenerateResult } from '../../spec/engine-v1.js';
import { convertOpenAIUsage } from './convert-openai-usage.js';
import { finishOfAnswer, mapOpenAIFinishReason } from './map-openai-finish-reason.js';
import { openAIAnswerLogprobs } from './openai-answer-logprobs.js';
import { OpenAIChatResponseSchema, type OpenAIChatResponse } from './openai-wire-schemas.js';
import { readOpenAIContentParts } from './read-openai-content-parts.js';

export type ChatResponseReading = { ok: true; response: OpenAIChatResponse } | { ok: false; issue: string | undefined };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nullishString = (v: unknown) => v === null || v === undefined || typeof v === 'string';
const nullishNumber = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v));

function isUsage(u: unknown): boolean {
  if (u === null || u === undefined) return true;
  if (!isObject(u)) return false;
  if (!nullishNumber(u.prompt_tokens) || !nullishNumber(u.completion_tokens) || !nullishNumber(u.total_tokens) || !nullishNumber(u.prompt_cache_hit_tokens)) return false;
  const p = u.prompt_tokens_details;
  if (p !== null && p !== undefined && !(isObject(p) && nullishNumber(p.cached_tokens))) return false;
  const c = u.completion_tokens_details;
  return c === null || c === undefined || (isObject(c) && nullishNumber(c.reasoning_tokens));
}

function isToolCalls(calls: unknown): boolean {
  if (calls === null || calls === undefined) return true;
  if (!Array.isArray(calls)) return false;
  for (let i = 0; i < calls.length; i++) {
    const c: unknown = calls[i];
    if (!isObject(c) || !nullishString(c.id) || !nullishString(c.type)) return false;
    const f = c.function;
    if (!isObject(f) || typeof f.name !== 'string' || !nullishString(f.arguments)) return false;
  }
  return true;
}

/**
 * True when `value` is a chat completion `OpenAIChatResponseSchema` accepts, checked by hand. `logprobs` is not
 * checked (the schema takes any value): `convertOpenAIChatResponse` reads it on its own, only when asked.
 */
function isChatResponse(value: unknown): value is OpenAIChatResponse {
  if (!isObject(value) || !nullishString(value.id) || !nullishString(value.model) || !isUsage(value.usage)) return false;
  const choices = value.choices;
  if (!Array.isArray(choices) || choices.length === 0) return false;
  for (let i = 0; i < choices.length; i++) {
    const c: unknown = choices[i];
    if (!isObject(c) || !nullishString(c.finish_reason)) return false;
    const m = c.message;
    if (!isObject(m)) return false;
    if (!nullishString(m.content) || !nullishString(m.reasoning_content) || !nullishString(m.reasoning) || !nullishString(m.refusal)) return false;
    if (!isToolCalls(m.tool_calls)) return false;
  }
  return true;
}

/**
 * Reads a parsed chat completion against the wire schema: checked by hand (a fraction of `safeParse`'s
 * cost) and returned as it is (unknown fields kept, never read); what the check refuses goes to the schema,
 * which words the issue.
 */
export function readOpenAIChatResponse(value: unknown): ChatResponseReading {
  if (isChatResponse(value)) return { ok: true, response: value };
  const parsed = OpenAIChatResponseSchema.safeParse(value);
  return parsed.success ? { ok: true, response: parsed.data } : { ok: false, issue: parsed.error.issues[0]?.message };
}

/**
 * A parsed chat-completions response -> GenerateResult. Usage is estimated (and marked) when absent. `logprobs`
 * (the request sent `logprobs: true`): choice 0's `logprobs.content` as the result's `logprobs`, only the answer's
 * tokens (`openAIAnswerLogprobs`: not a reasoning parser's reasoning tokens); none when the provider sent none, an
 * empty list, or a malformed field. Not asked for: the field is not read.
 */
export function convertOpenAIChatResponse(response: OpenAIChatResponse, estimateInputTokens: () => number, logprobs = false): GenerateResult {
  // The schema guarantees at least one choice.
  const choice = response.choices[0]!;
  const message = choice.message;
  let content = message.content;
  let reasoning = message.reasoning_content ?? message.reasoning ?? undefined;
  if (Array.isArray(content)) {
    // Mistral's reasoning models: a list of thinking and text items (none of text: the refusal, if any, as for null).
    const read = readOpenAIContentParts(content);
    content = read.text || null;
    reasoning ||= read.reasoning || undefined;
  }
  // The refusal is kept apart from the content (OpenAI sends one or the other; a server may send both).
  const refusal = message.refusal || undefined;
  const text = content ?? '';
  const calls = (message.tool_calls ?? []).map((c, i) => ({
    // An empty id (some servers send "") is made up as a missing one is, as the stream does (`OpenAIStreamDecoder`):
    // the client could not answer a call with no id (a tool message needs one).
    id: c.id || `call_${response.id || 'response'}_${i}`,
    name: c.function.name,
    arguments: c.function.arguments ?? '',
  }));
  // A call without a function name cannot be answered: left out, as the stream leaves it out (`OpenAIStreamDecoder`).
  const toolCalls = calls.filter((c) => c.name !== '');
  let usage;
  if (response.usage) {
    usage = convertOpenAIUsage(response.usage);
  } else {
    const inputTokens = estimateInputTokens();
    const outputText = text + (refusal ?? '') + (reasoning ?? '') + calls.map((c) => c.name + c.arguments).join('');
    const outputTokens = estimateTokens(outputText);
    usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
  }
  const finishReason = choice.finish_reason ? mapOpenAIFinishReason(choice.finish_reason) : undefined;
  const result: GenerateResult = {
    text,
    toolCalls,
    finishReason: finishOfAnswer(finishReason, toolCalls.length > 0),
    usage,
    ...(refusal ? { refusal } : {}),
    ...(response.id ? { id: response.id } : {}),
    ...(response.model ? { providerModel: response.model } : {}),
    ...(reasoning ? { reasoning } : {}),
  };
  if (logprobs) {
    const tokens = openAIAnswerLogprobs(choice.logprobs, text, reasoning !== undefined && reasoning !== '');
    if (tokens) result.logprobs = tokens;
  }
  return result;
}
