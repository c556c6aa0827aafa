import { messageText, type DeploymentInfo, type GenerateRequest, type ModelPrice } from '@llmrr/core';

/**
 * Bytes of `text` in UTF-8 (as `new TextEncoder().encode(text).byteLength`, lone surrogates as the 3 bytes
 * of U+FFFD), counted without encoding it.
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for its 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * An upper-bound guess of a request's prompt tokens without a tokenizer: half the UTF-8 bytes of all
 * text (real tokenizers average about 4 bytes a token for English) plus 8 per message and the tool schemas.
 */
export function estimateInputTokens(request: GenerateRequest): number {
  let bytes = 0;
  for (const m of request.messages) bytes += utf8ByteLength(messageText(m)) + 16;
  if (request.tools) bytes += utf8ByteLength(JSON.stringify(request.tools));
  return Math.ceil(bytes / 2);
}

/** The longest prompt-cache TTL a request asks for: `'1h'`, `'5m'`, or undefined when it carries no mark. */
export type PromptCacheMark = '5m' | '1h';

/** A mark's TTL, or undefined for none (`null` and absent are none; anything else asks for a write). */
function markOf(value: unknown): PromptCacheMark | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' && (value as { ttl?: unknown }).ttl === '1h' ? '1h' : '5m';
}

function longer(a: PromptCacheMark | undefined, b: PromptCacheMark | undefined): PromptCacheMark | undefined {
  return a === '1h' || b === '1h' ? '1h' : (a ?? b);
}

/** Depth to which `providerOptions` are searched for a verbatim `cache_control` (blocks sit at depth 3-4). */
const PROVIDER_OPTIONS_DEPTH = 6;

/** The longest TTL among verbatim `cache_control` fields in provider options (e.g. Anthropic system blocks). */
function verbatimMark(value: unknown, depth: number): PromptCacheMark | undefined {
  if (depth > PROVIDER_OPTIONS_DEPTH || typeof value !== 'object' || value === null) return undefined;
  let found: PromptCacheMark | undefined;
  if (Array.isArray(value)) {
    for (const item of value) if ((found = longer(found, verbatimMark(item, depth + 1))) === '1h') return found;
    return found;
  }
  for (const [key, item] of Object.entries(value)) {
    found = longer(found, key === 'cache_control' ? markOf(item) : verbatimMark(item, depth + 1));
    if (found === '1h') return found;
  }
  return found;
}

/**
 * The longest prompt-cache TTL the request asks for: its `cacheControl`, those of its messages, their parts
 * and its tools, and `cache_control` given verbatim in `providerOptions`. Undefined when there is none.
 */
export function promptCacheMark(request: GenerateRequest): PromptCacheMark | undefined {
  let found = markOf(request.cacheControl);
  for (const m of request.messages) {
    found = longer(found, markOf(m.cacheControl));
    if (Array.isArray(m.content)) for (const part of m.content) found = longer(found, markOf(part.cacheControl));
  }
  for (const t of request.tools ?? []) found = longer(found, markOf(t.cacheControl));
  if (found !== '1h' && request.providerOptions) found = longer(found, verbatimMark(request.providerOptions, 0));
  return found;
}

/**
 * The dearest rate a prompt token can be charged at (USD per 1M tokens): `input` without marks; with marks
 * the dearest of `input` and the write rates the marks allow (`ModelPrice` fallbacks: `cacheWrite` ->
 * `input`; `cacheWrite1h` -> `cacheWrite` -> `input`). A 1-hour mark allows both TTLs (the marks after it
 * may be 5-minute ones).
 */
export function maxInputRate(price: ModelPrice, mark: PromptCacheMark | undefined): number {
  if (mark === undefined) return price.input;
  const fiveMinutes = price.cacheWrite ?? price.input;
  const rate = Math.max(price.input, fiveMinutes);
  return mark === '1h' ? Math.max(rate, price.cacheWrite1h ?? fiveMinutes) : rate;
}

/**
 * The most a request can cost on any of the given deployments (USD): prompt estimate (`inputTokens`, else
 * `estimateInputTokens`) at the input price plus max output tokens at the output price. A request with
 * prompt-cache marks may have its whole prompt written to the cache, so its prompt is priced at the dearest
 * write rate its marks allow (`maxInputRate`: Claude 1.25x input for 5 minutes, 2x for 1 hour); a request
 * without marks is priced at the input rate as before. Deployments without a price count as 0.
 */
export function estimateMaxCostUsd(request: GenerateRequest, deployments: readonly DeploymentInfo[], defaultMaxOutputTokens: number, inputTokens = estimateInputTokens(request)): number {
  const mark = promptCacheMark(request);
  let max = 0;
  for (const d of deployments) {
    if (!d.price) continue;
    const out = request.maxTokens ?? d.config.maxOutputTokens ?? defaultMaxOutputTokens;
    const cost = (inputTokens * maxInputRate(d.price, mark) + out * d.price.output) / 1_000_000;
    if (cost > max) max = cost;
  }
  return max;
}
