import { OpenAIChatChunkSchema, type OpenAIChatChunk } from './openai-wire-schemas.js';

export type ChunkReading = { ok: true; chunk: OpenAIChatChunk } | { ok: false; issue: string };

const isNullish = (v: unknown): v is null | undefined => v === null || v === undefined;
const nullishString = (v: unknown) => v === null || v === undefined || typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A number `z.number()` takes (finite: JSON.parse makes 1e400 Infinity), null or absent. */
const nullishNumber = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v));

/** True for a `usage` `OpenAIUsageSchema` accepts whose details, if any, are of the shape it reads (else: the schema decides). */
function isPlainUsage(v: unknown): boolean {
  if (isNullish(v)) return true;
  if (!isObject(v)) return false;
  if (!nullishNumber(v.prompt_tokens) || !nullishNumber(v.completion_tokens) || !nullishNumber(v.total_tokens) || !nullishNumber(v.prompt_cache_hit_tokens)) return false;
  const p = v.prompt_tokens_details;
  if (!isNullish(p) && !(isObject(p) && nullishNumber(p.cached_tokens) && nullishNumber(p.cache_write_tokens))) return false;
  const c = v.completion_tokens_details;
  return isNullish(c) || (isObject(c) && nullishNumber(c.reasoning_tokens));
}

/** True for a `content` the schema accepts: a string, or a list of text/thinking items (Mistral's reasoning models). */
function isContent(v: unknown): boolean {
  if (nullishString(v)) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const part: unknown = v[i];
    if (!isObject(part) || !nullishString(part.type) || !nullishString(part.text)) return false;
    const thinking = part.thinking;
    if (isNullish(thinking)) continue;
    if (!Array.isArray(thinking)) return false;
    for (let j = 0; j < thinking.length; j++) {
      const inner: unknown = thinking[j];
      if (!isObject(inner) || !nullishString(inner.type) || !nullishString(inner.text)) return false;
    }
  }
  return true;
}

/**
 * True when `value` is a content chunk `OpenAIChatChunkSchema` accepts, checked by hand: ids, model,
 * choices with text/reasoning/refusal deltas (`content` a string or a list, `isContent`) and finish reasons (`logprobs` of any shape: the schema takes any, and
 * the decoder reads it on its own when asked), a usage of numbers (the stream's last chunk), no tool calls or
 * error. Never accepts what the schema refuses; anything else (tool calls, errors, odd shapes) is left to the
 * schema. Most chunks of a stream are of this kind, and this costs a fraction of `safeParse`.
 */
function isPlainContentChunk(value: unknown): value is OpenAIChatChunk {
  if (!isObject(value)) return false;
  if (!nullishString(value.id) || !nullishString(value.model) || !isPlainUsage(value.usage) || !isNullish(value.error)) return false;
  const choices = value.choices;
  if (isNullish(choices)) return true;
  if (!Array.isArray(choices)) return false;
  for (let i = 0; i < choices.length; i++) {
    const c: unknown = choices[i];
    if (!isObject(c)) return false;
    const index = c.index;
    if (!isNullish(index) && !(typeof index === 'number' && Number.isFinite(index))) return false;
    if (!nullishString(c.finish_reason)) return false;
    const d = c.delta;
    if (isNullish(d)) continue;
    if (!isObject(d)) return false;
    if (!isContent(d.content) || !nullishString(d.reasoning_content) || !nullishString(d.reasoning) || !nullishString(d.refusal)) return false;
    if (!isNullish(d.tool_calls)) return false;
  }
  return true;
}

/**
 * Reads one parsed stream chunk against the wire schema. The fields the decoder reads have the schema's
 * types either way; a plain content chunk is returned as it is (unknown fields kept, in `usage` too: never read).
 */
export function readOpenAIChunk(value: unknown): ChunkReading {
  if (isPlainContentChunk(value)) return { ok: true, chunk: value };
  const parsed = OpenAIChatChunkSchema.safeParse(value);
  return parsed.success ? { ok: true, chunk: parsed.data } : { ok: false, issue: parsed.error.issues[0]?.message ?? '' };
}
