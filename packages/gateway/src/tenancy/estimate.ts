import { CACHED_QUESTION_FACTOR, semanticLookupAsks, tierPrice, utf8ByteLength, type CascadeVerifierBound, type DeploymentInfo, type GenerateRequest, type ModelPrice } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/** Bytes of `text` in UTF-8, counted without encoding it: core's, the count its semantic cache's guard uses too. */
export { utf8ByteLength };

/**
 * Prompt tokens assumed per image part. Images are priced by their pixels, which the gateway does not read: this is
 * above the most one image is billed by the providers' documented rules: Anthropic's largest image (Claude up to 4.6:
 * about 1,600 tokens, 1.15 megapixels; Opus 4.7: 2,576 px on the long edge, about 3.75 megapixels, one token a
 * 28x28 patch: under 4,800), OpenAI's patch-priced models (at most 1,536 32x32 patches times the model's factor:
 * gpt-4.1-nano's 2.46 makes 3,779) and tile-priced GPT-4o (8 tiles of 170 and 85: 1,445), Gemini 3 (1,120 at high
 * media resolution) and Gemini 2.x (258 a 768x768 tile: up to 19 tiles, a 3072x3072 image is 16). Not a bound of
 * gpt-4o-mini's tile price (2,833 and 5,667 a tile, up to 48,169 tokens, at a rate that makes an image cost what
 * GPT-4o's does) nor of a Gemini 2.x image of more than 19 tiles.
 */
export const IMAGE_INPUT_TOKENS = 5_000;

/**
 * Prompt tokens a provider adds, unseen, to a call that has tools or asks for a JSON answer: Anthropic's tool-use
 * system prompt ("Tool use pricing and tokens": 159 to 530 tokens by model and tool_choice, 346 for auto/none and 313
 * for any/tool on the Claude 4 models), which a JSON response format pays too (core's Anthropic engine makes it a
 * forced tool), and counted for a verbatim Anthropic `output_config.format` as well. Above the other providers'
 * wrapping: OpenAI renders its functions in the system message as a TypeScript namespace (a few tokens of wrapping,
 * each definition fewer tokens than its JSON bytes), Gemini bills its function declarations and response schema.
 */
export const TOOL_PROMPT_TOKENS = 600;

/**
 * The fixed text of core's Anthropic JSON-mode tool, which a JSON response format becomes: its name
 * (`options.jsonToolName`, at most 64 bytes), its instruction (about 100 bytes), its JSON keys, a `json_object`'s
 * schema and `strict`: under 256 bytes. The format's name, description and schema are counted apart.
 */
const JSON_TOOL_TOKENS = 256;

/**
 * Tokens of framing assumed per message and per tool call (role, separators, the reply's priming: OpenAI counts 3 a
 * message and 3 for the reply; a SentencePiece tokenizer's leading-space piece is one more).
 */
const FRAMING_TOKENS = 8;

/**
 * An upper bound of a request's prompt tokens without a tokenizer: one token a UTF-8 byte of everything the
 * provider reads, the most a byte-level BPE tokenizer (OpenAI's cl100k_base / o200k_base; Claude's and Gemini's
 * for odd text, through their byte fallback) makes of a text: "a\nb\nc\n...", random base64, digits between
 * punctuation are one token a byte. Counted: message text, names, an assistant turn's tool calls (id, name and
 * arguments) and reasoning blocks sent back (text, or a redacted block's data), a tool result's call id, the tool
 * schemas, a json_schema response format (schema, name, description) and the provider options sent as they are
 * (Messages' `thinking` and `output_config`, serialized only when present); plus `FRAMING_TOKENS` per message and
 * per tool call; `TOOL_PROMPT_TOKENS` once with tools or a JSON answer format (a response format other than text, or
 * an `output_config.format`) and `JSON_TOOL_TOKENS` for a response format's forced tool; each image counts
 * `IMAGE_INPUT_TOKENS` (a tool result's images, in its `parts`, too: its text is its `content`). It is the budget
 * reservation's prompt and the tokens-per-minute charge before the call: it must not fall below what the call is
 * billed, so concurrent calls cannot spend past a budget. English prose is about 4 bytes a token, so a typical
 * prompt is reserved about 4 times over until the call settles at its real cost (and `finish` corrects the
 * `tpm` charge to the real usage). Not a count to show: `count_tokens` answers core's typical estimate
 * (`estimateRequestTokens`). A walk over string lengths; only the tool and response schemas and the provider options
 * (small objects) are serialized.
 */
export function estimateInputTokens(request: GenerateRequest): number {
  let tokens = 0;
  for (const m of request.messages) {
    tokens += FRAMING_TOKENS;
    const c = m.content;
    if (typeof c === 'string') tokens += utf8ByteLength(c);
    else if (Array.isArray(c)) {
      for (const part of c) tokens += part.type === 'text' ? utf8ByteLength(part.text) : IMAGE_INPUT_TOKENS;
    }
    if (m.role === 'assistant') {
      if (m.toolCalls) for (const call of m.toolCalls) tokens += FRAMING_TOKENS + utf8ByteLength(call.id) + utf8ByteLength(call.name) + utf8ByteLength(call.arguments);
      if (m.reasoning) for (const r of m.reasoning) tokens += utf8ByteLength(r.text) + (r.redactedData ? r.redactedData.length : 0);
    } else if (m.role !== 'system' && m.name) tokens += utf8ByteLength(m.name);
    if (m.role === 'tool') {
      tokens += utf8ByteLength(m.toolCallId);
      if (Array.isArray(m.parts)) for (const part of m.parts) if (part?.type === 'image') tokens += IMAGE_INPUT_TOKENS;
    }
  }
  const tools = request.tools;
  let toolPrompt = tools !== undefined && tools.length > 0;
  if (tools) tokens += utf8ByteLength(JSON.stringify(tools));
  const format = request.responseFormat;
  if (format && format.type !== 'text') {
    toolPrompt = true;
    tokens += JSON_TOOL_TOKENS;
    if (format.type === 'json_schema') {
      tokens += utf8ByteLength(JSON.stringify(format.schema) ?? '');
      if (format.name) tokens += utf8ByteLength(format.name);
      if (format.description) tokens += utf8ByteLength(format.description);
    }
  }
  const options = request.providerOptions;
  if (options) {
    // Sent as they are (Messages' `thinking` and `output_config`): their bytes, and a JSON output format's allowance.
    tokens += utf8ByteLength(JSON.stringify(options) ?? '');
    const outputConfig = options.anthropic?.output_config;
    if (typeof outputConfig === 'object' && outputConfig !== null && (outputConfig as { format?: unknown }).format != null) toolPrompt = true;
  }
  return toolPrompt ? tokens + TOOL_PROMPT_TOKENS : tokens;
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

/**
 * Depth to which `providerOptions` are searched for a verbatim `cache_control` (`providerOptions` itself is
 * depth 0). Anthropic's deepest marked blocks sit at depth 10: `anthropic.messages[i].content[j]` is at 5, a
 * tool_result's text, image, search-result or document block at 7, a search result's text at 9, the text of a
 * document with a `content` source inside a tool_result at 10. Deeper objects are tool inputs and schemas,
 * where a `cache_control` key is no mark; the bound only caps the work for odd in-process objects.
 */
const PROVIDER_OPTIONS_DEPTH = 32;

/**
 * The longest TTL among verbatim `cache_control` fields in provider options (e.g. Anthropic system blocks,
 * message content blocks, the blocks of a tool_result). Breadth first, every object searched once at the
 * shallowest depth it is reached (so a cyclic or shared in-process object ends the search), without recursion.
 */
function verbatimMark(root: object): PromptCacheMark | undefined {
  const seen = new Set<object>([root]);
  let level: object[] = [root];
  let found: PromptCacheMark | undefined;
  for (let depth = 0; depth <= PROVIDER_OPTIONS_DEPTH && level.length > 0; depth++) {
    const next: object[] = [];
    const visit = (item: unknown): void => {
      if (typeof item === 'object' && item !== null && !seen.has(item)) {
        seen.add(item);
        next.push(item);
      }
    };
    for (const value of level) {
      if (Array.isArray(value)) {
        for (const item of value) visit(item);
        continue;
      }
      for (const [key, item] of Object.entries(value)) {
        if (key !== 'cache_control') visit(item);
        else if ((found = longer(found, markOf(item))) === '1h') return found;
      }
    }
    level = next;
  }
  return found;
}

/**
 * The longest prompt-cache TTL the request asks for: its `cacheControl`, those of its messages, their parts
 * (a system message's marked `parts` too) and its tools, and `cache_control` given verbatim in `providerOptions`. Undefined when there is none.
 */
export function promptCacheMark(request: GenerateRequest): PromptCacheMark | undefined {
  let found = markOf(request.cacheControl);
  for (const m of request.messages) {
    found = longer(found, markOf(m.cacheControl));
    if (Array.isArray(m.content)) for (const part of m.content) found = longer(found, markOf(part.cacheControl));
    if (m.role === 'system' && m.parts) for (const part of m.parts) found = longer(found, markOf(part.cacheControl));
  }
  for (const t of request.tools ?? []) found = longer(found, markOf(t.cacheControl));
  if (found !== '1h' && request.providerOptions) found = longer(found, verbatimMark(request.providerOptions));
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

/** A rate in pico-dollars a token, as `computeCost` charges it (USD per 1M tokens x 1e6, rounded; 0 when not above 0). */
function picoPerToken(usdPerMillion: number): number {
  return usdPerMillion > 0 ? Math.round(usdPerMillion * 1e6) : 0;
}

/**
 * `inputTokens` at `inputRate` plus `outputTokens` at `outputRate` (USD per 1M tokens), in USD rounded up to
 * the nano-dollar: summed in integer pico-dollars as `computeCost` prices (exact; BigInt past 2^53), so the
 * bound never falls a floating-point rounding short of what `computeCost` charges at those rates (a cascade's
 * rate, 0.27 + 3.75 = 4.02, times 1125 tokens is 4522.499... in floating point). Token counts that are not
 * finite non-negative numbers, and rates too large for a safe integer, keep the plain floating-point product.
 */
function boundUsd(inputTokens: number, inputRate: number, outputTokens: number, outputRate: number): number {
  const input = Math.ceil(inputTokens);
  const output = Math.ceil(outputTokens);
  const inPico = picoPerToken(inputRate);
  const outPico = picoPerToken(outputRate);
  if (!(input >= 0 && output >= 0 && Number.isSafeInteger(input) && Number.isSafeInteger(output) && Number.isSafeInteger(inPico) && Number.isSafeInteger(outPico))) {
    return (inputTokens * inputRate + outputTokens * outputRate) / 1_000_000;
  }
  const pico = input * inPico + output * outPico;
  if (Number.isSafeInteger(pico)) {
    const rest = pico % 1000;
    return ((pico - rest) / 1000 + (rest > 0 ? 1 : 0)) / 1e9;
  }
  return Number((BigInt(input) * BigInt(inPico) + BigInt(output) * BigInt(outPico) + 999n) / 1000n) / 1e9;
}

/**
 * The most a request can cost on any of the given deployments (USD, rounded up to the nano-dollar): prompt
 * estimate (`inputTokens`, else `estimateInputTokens`) at the input price plus max output tokens at the output
 * price. A request with prompt-cache marks may have its whole prompt written to the cache, so its prompt is
 * priced at the dearest write rate its marks allow (`maxInputRate`: Claude 1.25x input for 5 minutes, 2x for
 * 1 hour); a request without marks is priced at the input rate as before. A price with long-context tiers
 * (`ModelPrice.longContext`) is taken at the highest tier whose threshold the prompt ESTIMATE is above (core's
 * `tierPrice`, as `computeCost` bills the provider's count, which the estimate, an upper bound, is never under), and output at the dearer of `output` and `reasoningOutput`. A cascade runs two calls: with
 * `steps` (what the router may call for each step, by step name: its deployments and its fallbacks) it costs
 * at most the dearest of its weak step plus the dearest of its strong step, each at its own output cap;
 * otherwise its own price (core's `models()`: each step's price summed, each step's dearest marked rate in its
 * write prices), which bounds both steps but not a step's fallbacks. A cascade whose custom verifier declares its
 * bound (`CascadeInfo.verifierBound`) adds one judgement at it (`verifierBoundUsd`). Deployments without a price count as 0.
 */
export function estimateMaxCostUsd(
  request: GenerateRequest,
  deployments: readonly DeploymentInfo[],
  defaultMaxOutputTokens: number,
  inputTokens = estimateInputTokens(request),
  steps?: ReadonlyMap<string, readonly DeploymentInfo[]>,
): number {
  const mark = promptCacheMark(request);
  const dearest = (list: readonly DeploymentInfo[]): number => {
    let max = 0;
    for (const d of list) {
      const cost = callBound(request, d, mark, inputTokens, defaultMaxOutputTokens);
      if (cost > max) max = cost;
    }
    return max;
  };
  let max = 0;
  for (const d of deployments) {
    const weak = d.cascade && steps?.get(d.cascade.weak);
    const strong = d.cascade && steps?.get(d.cascade.strong);
    let cost = weak && strong && weak.length > 0 && strong.length > 0 ? dearest(weak) + dearest(strong) : callBound(request, d, mark, inputTokens, defaultMaxOutputTokens);
    const verifier = d.cascade?.verifierBound;
    if (verifier) cost += verifierBoundUsd(verifier, inputTokens, outputBound(request.maxTokens ?? defaultMaxOutputTokens, weak || [])!);
    if (cost > max) max = cost;
  }
  return max;
}

/**
 * The tokens of one judgement of a cascade's custom verifier, by its declared bound (core's `CascadeVerifierBound`):
 * its prompt (its own `promptTokens`, the request's prompt, twice the weak answer's bound `answerTokens`, as a guard
 * call's prompt counts a cached answer) and its output.
 */
function verifierTokens(bound: CascadeVerifierBound, inputTokens: number, answerTokens: number): { prompt: number; output: number } {
  return { prompt: bound.promptTokens + inputTokens + 2 * answerTokens, output: bound.outputTokens };
}

/** What one judgement can cost at most (USD, rounded up to the nano-dollar), by the verifier's declared bound and price. */
function verifierBoundUsd(bound: CascadeVerifierBound, inputTokens: number, answerTokens: number): number {
  const t = verifierTokens(bound, inputTokens, answerTokens);
  return boundUsd(t.prompt, bound.price.input, t.output, bound.price.output);
}

/** The most one call of `request` can cost on `d` (0 without a price), as `estimateMaxCostUsd` prices it. */
function callBound(request: GenerateRequest, d: DeploymentInfo, mark: PromptCacheMark | undefined, inputTokens: number, defaultMaxOutputTokens: number): number {
  if (!d.price) return 0;
  // The router sends a deployment at most its `maxOutputTokens` (core's `outputCap`): a larger `maxTokens` is capped.
  const cap = d.config.maxOutputTokens;
  const out = request.maxTokens === undefined ? (cap ?? defaultMaxOutputTokens) : cap !== undefined && request.maxTokens > cap ? cap : request.maxTokens;
  const price = tierPrice(d.price, inputTokens);
  return boundUsd(inputTokens, maxInputRate(price, mark), out, maxOutputRate(price));
}

/** The dearest rate an output token can be charged at: `output`, or `reasoningOutput` when dearer. */
function maxOutputRate(price: ModelPrice): number {
  return price.reasoningOutput !== undefined && price.reasoningOutput > price.output ? price.reasoningOutput : price.output;
}

/**
 * The most output tokens a request with `maxTokens` can get from any of `deployments`: the router caps it at each
 * deployment's `maxOutputTokens` (core's `outputCap`), so when every one has a cap, at the largest of them.
 * `maxTokens` itself otherwise (undefined stays undefined).
 */
export function outputBound(maxTokens: number | undefined, deployments: readonly DeploymentInfo[]): number | undefined {
  if (maxTokens === undefined || deployments.length === 0) return maxTokens;
  let largest = 0;
  for (const d of deployments) {
    const cap = d.config.maxOutputTokens;
    if (cap === undefined || cap >= maxTokens) return maxTokens;
    if (cap > largest) largest = cap;
  }
  return largest;
}

/**
 * The most tokens a request can use on any of `deployments` (its tokens-per-minute charge before the call): the
 * prompt (`inputTokens`) and the output bound of one call (`outputBound`, or `defaultOutputTokens` without a
 * `maxTokens`); a cascade with `steps` (as for `estimateMaxCostUsd`) makes two calls, each sent the prompt: the
 * prompt twice, and each step's output bound, and the tokens of its custom verifier's judgement when it declares
 * its bound (`verifierTokens`). With a semantic-cache model `guard`, each call's lookup may pay one guard call before
 * it (`guardCallTokens`): one more, two for a cascade.
 */
export function estimateRequestTokenBound(
  request: GenerateRequest,
  deployments: readonly DeploymentInfo[],
  inputTokens: number,
  defaultOutputTokens: number,
  steps?: ReadonlyMap<string, readonly DeploymentInfo[]>,
  guard?: SemanticGuardPricing,
): number {
  const maxTokens = request.maxTokens;
  const output = outputBound(maxTokens, deployments) ?? defaultOutputTokens;
  let max = inputTokens + output;
  let calls = 1;
  if (steps) {
    for (const d of deployments) {
      const weak = d.cascade && steps.get(d.cascade.weak);
      const strong = d.cascade && steps.get(d.cascade.strong);
      if (!weak || !strong || weak.length === 0 || strong.length === 0) continue;
      calls = 2;
      const weakOutput = outputBound(maxTokens, weak) ?? defaultOutputTokens;
      let both = 2 * inputTokens + weakOutput + (outputBound(maxTokens, strong) ?? defaultOutputTokens);
      const verifier = d.cascade!.verifierBound;
      if (verifier) {
        const t = verifierTokens(verifier, inputTokens, weakOutput);
        both += t.prompt + t.output;
      }
      if (both > max) max = both;
    }
  }
  if (!guard) return max;
  // The cached answer in the guard's prompt is no longer than the output bound; an `adapt` rewrite is capped by the guard model.
  return max + calls * guardCallTokens(guard.mode, inputTokens, output, outputBound(maxTokens, guard.deployments) ?? defaultOutputTokens);
}

/** A router's semantic-cache model guard: how it guards (`verify`, `adapt`) and the deployments `guardModel` names. */
export interface SemanticGuardPricing {
  mode: 'verify' | 'adapt';
  deployments: readonly DeploymentInfo[];
}

/**
 * The router's model guard, when its semantic cache has one (`guard` `verify` or `adapt` with a `guardModel`) and
 * looks `request` up for `tenant` (core's `semanticLookupAsks`: not an opted-out tenant, a cacheable request without
 * `logprobs`, a text question its embedder tells from others: `local-use` skips a Chinese, emoji-only or German one,
 * which can pay no guard call; the caller leaves out a call that reads no cache, `llmrr.cache: false`):
 * the deployments of that name or alias among the router's shared deployments (`models(null)`, not even a v3
 * `defaultTenant`'s view: the guard call is the router's own, not resolved in a tenant's view). Undefined otherwise.
 */
export async function semanticGuardOf(router: GatewayRouter, request: GenerateRequest, tenant: string | undefined): Promise<SemanticGuardPricing | undefined> {
  const semantic = router.routerConfig?.cache?.semantic;
  if (!semantic || (semantic.guard !== 'verify' && semantic.guard !== 'adapt') || semantic.guardModel === undefined) return undefined;
  // No lookup, so no guard call, for a request, tenant or question the semantic cache leaves out (its own rule).
  if (!(await semanticLookupAsks(request, semantic, tenant))) return undefined;
  const name = semantic.guardModel;
  return { mode: semantic.guard, deployments: router.models(null).filter((d) => d.name === name || d.alias === name) };
}

/** The model guard's own prompt text (instructions and labels) in tokens, rounded up: under 512 bytes. */
const GUARD_PROMPT_TOKENS = 256;
/** Output cap of a `verify` call (YES/NO). */
const VERIFY_OUTPUT_TOKENS = 3;

/**
 * A guard call's prompt bound (see `estimateGuardMaxCostUsd`): its instructions, the live question (within the prompt),
 * the cached question (`CACHED_QUESTION_FACTOR` times the prompt) and the cached answer.
 */
function guardPromptTokens(inputTokens: number, maxTokens: number): number {
  return GUARD_PROMPT_TOKENS + Math.ceil((1 + CACHED_QUESTION_FACTOR) * inputTokens) + 2 * maxTokens;
}

/**
 * The most tokens one guard call can use, as `estimateGuardMaxCostUsd` bounds it: its prompt with a cached answer of at
 * most `answerTokens`, and its output (`adapt`: at most `adaptTokens`).
 */
function guardCallTokens(mode: SemanticGuardPricing['mode'], inputTokens: number, answerTokens: number, adaptTokens: number): number {
  return guardPromptTokens(inputTokens, answerTokens) + (mode === 'verify' ? VERIFY_OUTPUT_TOKENS : adaptTokens);
}

/**
 * The most one guard call of a semantic lookup can cost (USD, rounded up to the nano-dollar), for a request
 * whose `maxTokens` is set (admission sets it): its prompt holds the guard's instructions, the live question
 * (within the request's prompt, `inputTokens`), the cached question (core's model guard shows at most
 * `CACHED_QUESTION_FACTOR` times the request's message text, `shownCachedQuestion`: counted as that many prompts)
 * and the cached answer (stored for a request of the same `maxTokens`, so no longer than its output bound on the
 * `candidates` (`outputBound`): counted twice that, for the guard's tokenizer); `verify` answers in 3 tokens,
 * `adapt` in at most `maxTokens` capped by the guard deployments. The dearest guard deployment counts.
 */
export function estimateGuardMaxCostUsd(
  request: GenerateRequest,
  guard: SemanticGuardPricing,
  defaultMaxOutputTokens: number,
  inputTokens = estimateInputTokens(request),
  candidates: readonly DeploymentInfo[] = [],
): number {
  const maxTokens = request.maxTokens ?? defaultMaxOutputTokens;
  const prompt = guardPromptTokens(inputTokens, outputBound(maxTokens, candidates)!);
  const output = guard.mode === 'verify' ? VERIFY_OUTPUT_TOKENS : outputBound(maxTokens, guard.deployments)!;
  let max = 0;
  for (const d of guard.deployments) {
    if (!d.price) continue;
    const price = tierPrice(d.price, prompt);
    const cost = boundUsd(prompt, price.input, output, maxOutputRate(price));
    if (cost > max) max = cost;
  }
  return max;
}
