import { LLMError } from '../../errors/llm-error.js';
import type { ChatMessage, ContentPart, GenerateRequest, ImagePart, ReasoningPart, ResponseFormat, ToolChoice, ToolDefinition } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type {
  AnthropicCacheControl,
  AnthropicImageSource,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicRequestMessage,
  AnthropicSystemBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultContentBlock,
} from './anthropic-api-types.js';
import { fitAnthropicCacheBreakpoints, hasOneHourCacheControl, EXTENDED_CACHE_TTL_BETA, toAnthropicCacheControl } from './anthropic-cache-control.js';
import { AnthropicCallWarnings } from './anthropic-call-warnings.js';
import { toolArgumentsObject } from '../shared/tool-arguments-object.js';
import { anthropicModelTakesMidConversationSystem } from './anthropic-mid-conversation-models.js';
import { applyParallelToolUse } from './anthropic-parallel-tool-use.js';
import { anthropicModelTakesStrictTools, anthropicStrictToolsOffReason } from './anthropic-strict-tools.js';
import { ANTHROPIC_STRICT_LIMITS, fitsAnthropicStrict } from './fits-anthropic-strict.js';
import { applyThinking } from './apply-anthropic-thinking.js';
import { anthropicDeploymentTakesTemperatureAbove1, fitAnthropicSampling } from './fit-anthropic-sampling.js';
import { placeSystemMessages, type ConvertedEntry } from './place-anthropic-system-messages.js';
import { asksLogitBias, logitBiasNotSent } from '../shared/logit-bias.js';
import { mergeProviderOptions } from '../shared/merge-provider-options.js';
import { anthropicToolUseId } from './anthropic-tool-use-id.js';
import { isSentAssistantText, isSentAssistantTurn, isSentReasoning } from './anthropic-assistant-turn.js';

export interface AnthropicRequestSettings {
  modelId: string;
  /** `max_tokens` when the request sets none (Anthropic requires it). */
  defaultMaxTokens: number;
  /** The deployment's most output tokens per call (config `maxOutputTokens`): `max_tokens` raised for thinking stays within it. */
  maxOutputTokens?: number;
  /** False: the deployment cannot think (no `reasoning` capability), and `request.reasoning` (and a `providerOptions.anthropic.thinking`) is dropped. Default true. */
  reasoning?: boolean;
  /** Name of the tool that carries JSON-mode answers. */
  jsonToolName: string;
  provider: string;
  deployment?: string;
  /**
   * Whether the deployment takes mid-conversation system messages (`{ role: "system" }` inside `messages`).
   * Default: `anthropicModelTakesMidConversationSystem(modelId)` (Claude Opus 4.8 ids).
   */
  midConversationSystem?: boolean;
  /**
   * Whether the deployment takes strict tool use (`tools[].strict`). Default: `anthropicModelTakesStrictTools(modelId)`;
   * the engine resolves it once (its option `strictTools`).
   */
  strictTools?: boolean;
  /** Set: why strict tool use is off (for the warning), when `strictTools` is false. */
  strictToolsOff?: string;
  /** The `anthropic-beta` value a strict tool needs on this deployment's platform (Microsoft Foundry), if any. */
  strictToolsBeta?: string;
  /**
   * Whether the deployment takes a `temperature` above 1 (else it is sent as 1). Default:
   * `anthropicDeploymentTakesTemperatureAbove1(modelId)`; the engine resolves it once with its base URL.
   */
  takesTemperatureAbove1?: boolean;
}

/** Strict schemas sent so far in one request, against `ANTHROPIC_STRICT_LIMITS`. */
interface StrictBudget {
  tools: number;
  optional: number;
  unions: number;
}

/**
 * `strict: true` for a tool (`field`: `tools.N.strict` or `responseFormat.strict`) whose `schema` fits Anthropic's
 * strict mode (`fitsAnthropicStrict`) and the request's limits; else undefined, with a `setting_not_sent` warning
 * saying why.
 */
function strictIfFits(schema: Record<string, unknown>, field: string, budget: StrictBudget, notes: AnthropicCallWarnings): true | undefined {
  const fit = fitsAnthropicStrict(schema);
  let why: string | undefined;
  if (!fit.fits) why = `${fit.why} (Anthropic's strict mode refuses it with a 400)`;
  else if (budget.tools + 1 > ANTHROPIC_STRICT_LIMITS.tools) why = `a request takes at most ${ANTHROPIC_STRICT_LIMITS.tools} strict tools`;
  else if (budget.optional + fit.optional > ANTHROPIC_STRICT_LIMITS.optional) why = `the strict schemas of a request take at most ${ANTHROPIC_STRICT_LIMITS.optional} optional properties`;
  else if (budget.unions + fit.unions > ANTHROPIC_STRICT_LIMITS.unions) why = `the strict schemas of a request take at most ${ANTHROPIC_STRICT_LIMITS.unions} union types (anyOf or a type array)`;
  if (why !== undefined || !fit.fits) {
    notes.add('setting_not_sent', field, `${field} was not sent: ${why}; the tool went without strict.`);
    return undefined;
  }
  budget.tools++;
  budget.optional += fit.optional;
  budget.unions += fit.unions;
  return true;
}

/**
 * A strict schema without its root `$schema` (the dialect it is written in, a meta key: zod's `toJSONSchema` and the
 * openai SDK's `zodTextFormat` add it), which Anthropic's strict mode refuses though it describes nothing to enforce.
 * The schema itself when it has none.
 */
function withoutMetaSchema<S extends Record<string, unknown>>(schema: S): S {
  if (!Object.hasOwn(schema, '$schema')) return schema;
  const { $schema: _dialect, ...rest } = schema;
  return rest as S;
}

export interface ConvertedAnthropicRequest {
  body: AnthropicMessagesRequest;
  /** Set when JSON mode is on: the tool whose input is the answer (its calls become text, not tool calls). */
  jsonToolName?: string;
  /** `anthropic-beta` values the body needs (the extended cache TTL beta when a 1-hour breakpoint is sent). */
  betas?: string[];
  /** What the body does not do as the request asked (see `CallWarning`); absent when it does everything. */
  warnings?: CallWarning[];
}

type ErrorContext = Pick<AnthropicRequestSettings, 'provider' | 'deployment'>;

/** The converter's context: where errors come from, and the warnings of the request. */
interface ConvertContext extends ErrorContext {
  notes: AnthropicCallWarnings;
}

type Mark = AnthropicCacheControl | undefined;

function sameTtl(a: AnthropicCacheControl, b: AnthropicCacheControl): boolean {
  return (a.ttl ?? '5m') === (b.ttl ?? '5m');
}

function dropped(ctx: ConvertContext, field: string, why: string): void {
  ctx.notes.add('cache_control_dropped', field, `The cache breakpoint was not sent: ${why}.`);
}

function invalid(ctx: ErrorContext, param: string, message: string, code: 'invalid_request' | 'unsupported' = 'invalid_request'): LLMError {
  return new LLMError({ code, message: `${ctx.provider}: ${message}`, param, provider: ctx.provider, deployment: ctx.deployment });
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageSource(part: ImagePart, param: string, ctx: ErrorContext): AnthropicImageSource {
  if (part.data !== undefined) {
    if (!part.mediaType) throw invalid(ctx, `${param}.mediaType`, `${param}: base64 image data needs a mediaType (e.g. image/png)`);
    return { type: 'base64', media_type: part.mediaType, data: part.data };
  }
  if (part.url !== undefined) {
    const m = DATA_URL.exec(part.url);
    if (m) return { type: 'base64', media_type: m[1]!, data: m[2]! };
    if (/^https?:\/\//i.test(part.url)) return { type: 'url', url: part.url };
    throw invalid(ctx, `${param}.url`, `${param}.url must be an http(s) URL or a base64 data: URL`);
  }
  throw invalid(ctx, param, `${param}: an image needs either url or data`);
}

/**
 * The block with `cache_control` set, when there is one (key order: the block's fields, then the mark); the
 * marked block is remembered as coming from the request's `field`.
 */
function marked<B extends AnthropicRequestBlock | AnthropicSystemBlock>(block: B, mark: Mark, field: string, ctx: ConvertContext): B {
  return mark ? ctx.notes.marked({ ...block, cache_control: mark }, field) : block;
}

function userBlocks(content: string | ContentPart[], param: string, ctx: ConvertContext): AnthropicRequestBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: AnthropicRequestBlock[] = [];
  content.forEach((part, j) => {
    const field = `${param}.${j}.cacheControl`;
    const mark = toAnthropicCacheControl(part.cacheControl, field, ctx);
    if (part.type === 'text') {
      // An empty text part is not sent, and its mark with it (Anthropic refuses a mark on empty text).
      if (part.text !== '') blocks.push(marked({ type: 'text', text: part.text }, mark, field, ctx));
      else if (mark) dropped(ctx, field, 'an empty text part is not sent, and empty text cannot carry one');
    } else if (part.type === 'image') {
      blocks.push(marked({ type: 'image', source: imageSource(part, `${param}.${j}`, ctx) }, mark, field, ctx));
    } else {
      throw invalid(ctx, `${param}.${j}.type`, `${param}.${j}: unknown content part type "${(part as { type: unknown }).type}"`);
    }
  });
  return blocks;
}

/** The content sent for an error tool result that has none: Anthropic refuses `is_error` with empty content. */
const EMPTY_ERROR_RESULT = 'Error';

/**
 * A tool message's result: its `parts` as text and image blocks, in order (empty text left out: Anthropic refuses
 * an empty text block), else (no parts, or none but empty text) its `content` text; an error result with no content
 * at all as `EMPTY_ERROR_RESULT`. A part's own mark is not sent (a tool result's breakpoint is its message's
 * `cacheControl`): dropped, with a warning.
 */
function toolResultContent(message: Extract<ChatMessage, { role: 'tool' }>, param: string, ctx: ConvertContext): string | AnthropicToolResultContentBlock[] {
  const blocks = toolResultBlocks(message, param, ctx);
  if (blocks.length > 0) return blocks;
  if (message.isError === true && (message.content ?? '').trim() === '') return EMPTY_ERROR_RESULT;
  return message.content;
}

function toolResultBlocks(message: Extract<ChatMessage, { role: 'tool' }>, param: string, ctx: ConvertContext): AnthropicToolResultContentBlock[] {
  const parts = message.parts;
  if (parts === undefined) return [];
  if (!Array.isArray(parts)) throw invalid(ctx, `${param}.parts`, `${param}.parts must be an array of content parts`);
  const blocks: AnthropicToolResultContentBlock[] = [];
  parts.forEach((part, j) => {
    if (part?.cacheControl) dropped(ctx, `${param}.parts.${j}.cacheControl`, "a tool result's breakpoint is its message's cacheControl");
    if (part?.type === 'text') {
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
    } else if (part?.type === 'image') {
      blocks.push({ type: 'image', source: imageSource(part, `${param}.parts.${j}`, ctx) });
    } else {
      throw invalid(ctx, `${param}.parts.${j}.type`, `${param}.parts.${j}: unknown content part type "${(part as { type?: unknown } | null)?.type}"`);
    }
  });
  return blocks;
}

/**
 * An assistant turn's reasoning parts -> its `thinking` / `redacted_thinking` blocks, in order, unchanged (with
 * thinking and tools Anthropic requires the last turn's signed blocks back as they came). A part with neither
 * a signature nor redacted data (another provider's reasoning) cannot be verified by Anthropic and is left out
 * (`isSentReasoning`).
 */
function reasoningBlocks(parts: ReasoningPart[] | undefined, param: string, ctx: ErrorContext): AnthropicRequestBlock[] {
  if (parts === undefined) return [];
  if (!Array.isArray(parts)) throw invalid(ctx, param, `${param} must be an array of reasoning parts`);
  const blocks: AnthropicRequestBlock[] = [];
  parts.forEach((part, j) => {
    if (part?.type !== 'reasoning') throw invalid(ctx, `${param}.${j}.type`, `${param}.${j}: expected a reasoning part (type "reasoning")`);
    if (!isSentReasoning(part)) return;
    if (part.redactedData !== undefined) blocks.push({ type: 'redacted_thinking', data: part.redactedData });
    else blocks.push({ type: 'thinking', thinking: part.text, signature: part.signature! });
  });
  return blocks;
}

/**
 * A message-level breakpoint -> a mark on the message's last block, unless that block has its own (a part's
 * mark wins) or cannot carry one (a thinking block, or a tool result with empty content).
 */
function markLast(content: AnthropicRequestBlock[], mark: Mark, field: string, ctx: ConvertContext): void {
  if (!mark) return;
  const last = content[content.length - 1];
  if (!last) return;
  if (last.type === 'thinking' || last.type === 'redacted_thinking') return dropped(ctx, field, 'the message ends in a thinking block, which cannot carry one');
  if (last.cache_control) {
    if (!sameTtl(last.cache_control, mark)) dropped(ctx, field, "the message's last block carries its own breakpoint, which wins");
    return;
  }
  if (last.type === 'tool_result' && last.content === '') return dropped(ctx, field, 'an empty tool result cannot carry one');
  content[content.length - 1] = ctx.notes.marked({ ...last, cache_control: mark }, field);
}

/** A system, user or assistant message's author `name`: Anthropic has none (`setting_not_sent` `messages.N.name`). */
function authorNameNotSent(name: string | undefined, param: string, ctx: ConvertContext): void {
  if (name) ctx.notes.add('setting_not_sent', `${param}.name`, `${param}.name was not sent: Anthropic messages carry no author name.`);
}

function convertMessage(message: ChatMessage, i: number, ctx: ConvertContext): AnthropicRequestMessage | undefined {
  const param = `messages.${i}`;
  const markField = `${param}.cacheControl`;
  const mark = toAnthropicCacheControl(message.cacheControl, markField, ctx);
  switch (message.role) {
    case 'user': {
      const content = userBlocks(message.content, `${param}.content`, ctx);
      if (content.length === 0) throw invalid(ctx, `${param}.content`, `${param}.content must not be empty`);
      markLast(content, mark, markField, ctx);
      authorNameNotSent(message.name, param, ctx);
      return { role: 'user', content };
    }
    case 'assistant': {
      const content: AnthropicRequestBlock[] = reasoningBlocks(message.reasoning, `${param}.reasoning`, ctx);
      // Text that is only white space (a model's "\n\n" before its tool calls, given back) is not sent: Anthropic
      // refuses it ("text content blocks must contain non-whitespace text"). Nothing is lost with it.
      if (isSentAssistantText(message.content)) content.push({ type: 'text', text: message.content });
      message.toolCalls?.forEach((call, j) => {
        content.push({
          type: 'tool_use',
          id: anthropicToolUseId(call.id),
          name: call.name,
          // Arguments that are not a JSON object go as `{ _raw }` (Anthropic takes `input` only as an object).
          input: toolArgumentsObject(call.arguments, `${param}.toolCalls.${j}.arguments`, 'Anthropic', ctx.notes),
        });
      });
      // An empty assistant turn carries nothing, and Anthropic rejects empty content: leave it out. The same rule
      // (`isSentAssistantTurn`) tells the prefill refusal whether this turn ends the conversation.
      if (!isSentAssistantTurn(message)) {
        if (mark) dropped(ctx, markField, 'an empty assistant turn is not sent');
        return undefined;
      }
      markLast(content, mark, markField, ctx);
      authorNameNotSent(message.name, param, ctx);
      return { role: 'assistant', content };
    }
    case 'tool': {
      // An empty id is one (as the call's `tool_use.id`): both go as the same id Anthropic takes (`anthropicToolUseId`).
      if (typeof message.toolCallId !== 'string') throw invalid(ctx, `${param}.toolCallId`, `${param}.toolCallId is required`);
      const result: AnthropicRequestBlock = { type: 'tool_result', tool_use_id: anthropicToolUseId(message.toolCallId), content: toolResultContent(message, param, ctx) };
      if (message.isError === true) result.is_error = true;
      const content: AnthropicRequestBlock[] = [result];
      markLast(content, mark, markField, ctx);
      return { role: 'user', content };
    }
    default:
      throw invalid(ctx, `${param}.role`, `${param}.role "${(message as { role: unknown }).role}" is not supported`);
  }
}

function inputSchema(tool: ToolDefinition, param: string, ctx: ErrorContext): Record<string, unknown> {
  const schema = tool.parameters ?? {};
  if (schema.type !== undefined && schema.type !== 'object') {
    throw invalid(ctx, `${param}.parameters.type`, `${param}.parameters must describe an object (type "object")`);
  }
  return { type: 'object', ...schema };
}

function convertToolChoice(choice: ToolChoice, tools: AnthropicTool[], ctx: ErrorContext): AnthropicToolChoice {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any' };
  if (!tools.some((t) => t.name === choice.name)) {
    throw invalid(ctx, 'toolChoice.name', `toolChoice.name "${choice.name}" is not one of the request's tools`);
  }
  return { type: 'tool', name: choice.name };
}

function jsonTool(format: Exclude<ResponseFormat, { type: 'text' }>, name: string, ctx: ErrorContext): AnthropicTool {
  if (format.type === 'json_object') {
    return {
      name,
      description: 'Give your complete answer as a JSON object: the input of this tool is the answer.',
      input_schema: { type: 'object', additionalProperties: true },
    };
  }
  const schema = format.schema;
  if (schema.type !== undefined && schema.type !== 'object') {
    throw invalid(
      ctx,
      'responseFormat.schema.type',
      'responseFormat.schema must describe an object: Anthropic JSON mode answers through a tool input, which is always an object',
      'unsupported',
    );
  }
  const label = format.name ? ` "${format.name}"` : '';
  const how = `Give your complete answer as JSON matching the schema${label}: the input of this tool is the answer.`;
  return {
    name,
    // The format's description (what the answer is for) leads the tool's description, which the model reads.
    description: format.description ? `${format.description}\n\n${how}` : how,
    input_schema: { type: 'object', ...schema },
  };
}

/**
 * One system message's blocks: its text as one block with the message's mark; with `parts` carrying a mark, one
 * block per non-empty part with its own mark (the message's mark on the last one), as the client sent them. An
 * empty system message or part is not sent, and its mark with it. `parts` without any mark: the text as one block
 * (what every other engine sends).
 */
function systemBlocks(message: Extract<ChatMessage, { role: 'system' }>, i: number, ctx: ConvertContext): AnthropicSystemBlock[] {
  const ownField = `messages.${i}.cacheControl`;
  const own = toAnthropicCacheControl(message.cacheControl, ownField, ctx);
  const parts = message.parts;
  if (parts !== undefined) {
    if (!Array.isArray(parts)) throw invalid(ctx, `messages.${i}.parts`, `messages.${i}.parts must be an array of text parts`);
    const blocks: AnthropicSystemBlock[] = [];
    parts.forEach((part, k) => {
      const param = `messages.${i}.parts.${k}`;
      if (typeof part !== 'object' || part === null || part.type !== 'text' || typeof part.text !== 'string') {
        throw invalid(ctx, param, `${param} must be a text part { type: "text", text: string }`);
      }
      const field = `${param}.cacheControl`;
      const mark = toAnthropicCacheControl(part.cacheControl, field, ctx);
      if (part.text !== '') blocks.push(marked({ type: 'text', text: part.text }, mark, field, ctx));
      else if (mark) dropped(ctx, field, 'an empty text part is not sent, and empty text cannot carry one');
    });
    const last = blocks.at(-1);
    if (last && own) {
      if (last.cache_control && !sameTtl(last.cache_control, own)) {
        dropped(ctx, ctx.notes.fieldOf(last) ?? `messages.${i}.parts`, "the system message's own breakpoint on the same block wins");
      }
      blocks[blocks.length - 1] = marked(last, own, ownField, ctx);
    }
    if (blocks.some((b) => b.cache_control !== undefined)) return blocks;
  }
  if (message.content !== '') return [marked({ type: 'text', text: message.content }, own, ownField, ctx)];
  if (own) dropped(ctx, ownField, 'an empty system message is not sent');
  return [];
}

/**
 * A last assistant message (a prefill the answer continues) whose last block is text ending in white space: that
 * text without it, with a `setting_changed` warning (`messages.N.content`, `index` the request's message). Anthropic
 * refuses it: 400 "final assistant content cannot end with trailing whitespace". The block is the converter's own.
 */
function trimFinalAssistantText(messages: ReadonlyArray<{ role: string; content: unknown }>, index: number, notes: AnthropicCallWarnings): void {
  const last = messages.at(-1);
  if (last?.role !== 'assistant' || !Array.isArray(last.content)) return;
  const block = last.content.at(-1) as AnthropicRequestBlock | undefined;
  if (block?.type !== 'text' || !/\s$/.test(block.text)) return;
  block.text = block.text.trimEnd();
  notes.add('setting_changed', `messages.${index}.content`, `messages.${index}.content was sent without its trailing white space: Anthropic refuses a final assistant message (a prefill) that ends in it.`);
}

/** The copy of a block given verbatim through providerOptions, its mark remembered as coming from `field`. */
function copyVerbatim<B extends object>(block: B, field: string, ctx: ConvertContext): B {
  const copy = { ...block };
  return (copy as { cache_control?: unknown }).cache_control != null ? ctx.notes.marked(copy, field) : copy;
}

/**
 * Our request -> an Anthropic Messages body. System messages before the first other message join into `system`
 * (one text block each instead when one of them carries a cache breakpoint, and one per part of a system message
 * whose `parts` carry breakpoints); a later one goes in place as a mid-conversation `{ role: "system" }` message
 * where the deployment takes them, its position is legal and the converted turns are sent (no
 * `providerOptions.anthropic.messages`), else into `system` too, with a `system_message_hoisted` warning
 * (`placeSystemMessages`); a system message that `providerOptions.anthropic.system` keeps out of the body (the
 * leading ones, and hoisted ones) has a `setting_not_sent` warning instead;
 * tool results become user `tool_result` blocks (their `parts` as text and image blocks, `isError` as `is_error`); JSON mode becomes a forced tool (see docs/core/anthropic.md);
 * `parallelToolCalls: false` becomes `tool_choice.disable_parallel_tool_use` (`applyParallelToolUse`); `topK` becomes
 * `top_k` (which, like a temperature, drops thinking: `applyThinking`); a tool's `strict` (and a strict
 * `responseFormat`, on the forced tool) becomes `strict` where the deployment takes strict tool use
 * (`settings.strictTools`) and, for `true`, the schema fits Anthropic's strict rules and limits
 * (`fitsAnthropicStrict`), else a `setting_not_sent` warning saying why (with `settings.strictToolsBeta` in `betas`
 * when a strict tool goes out); `verbosity` and `logprobs` have no Anthropic
 * equivalent.
 * What the body leaves out or changes (a setting with no Anthropic equivalent, a cache mark dropped or sent with
 * another TTL, a hoisted system message, tool-call arguments that are not a JSON object sent as `{ _raw }`:
 * `toolArgumentsObject`) is in `warnings`.
 * Throws `invalid_request` / `unsupported` LLMErrors naming the offending field.
 */
export function convertToAnthropicRequest(request: GenerateRequest, settings: AnthropicRequestSettings): ConvertedAnthropicRequest {
  const ctx: ConvertContext = { provider: settings.provider, deployment: settings.deployment, notes: new AnthropicCallWarnings() };
  const notes = ctx.notes;
  if (!Array.isArray(request.messages)) throw invalid(ctx, 'messages', 'messages must be an array');
  // Given verbatim, these replace the converted top-level prompt and turns (below): a system message cannot go there.
  const verbatimSystem = request.providerOptions?.anthropic?.system !== undefined;
  const verbatimMessages = request.providerOptions?.anthropic?.messages !== undefined;

  const system: AnthropicSystemBlock[] = [];
  const entries: ConvertedEntry[] = [];
  let turns = 0;
  let runs = 0;
  let started = false;
  let lastTurn = -1;
  request.messages.forEach((message, i) => {
    if (message.role === 'system') {
      const blocks = systemBlocks(message, i, ctx);
      authorNameNotSent(message.name, `messages.${i}`, ctx);
      if (!started) {
        system.push(...blocks);
        if (verbatimSystem && blocks.length > 0) {
          notes.add('setting_not_sent', `messages.${i}`, 'The system message was not sent: providerOptions.anthropic.system replaced the top-level system prompt it belongs to.');
        }
      } else if (blocks.length > 0) {
        const last = entries[entries.length - 1];
        if (last?.role === 'system') {
          last.blocks.push(...blocks);
          last.indexes.push(i);
        } else {
          entries.push({ role: 'system', blocks, indexes: [i] });
          runs++;
        }
      }
      return;
    }
    started = true;
    const converted = convertMessage(message, i, ctx);
    if (converted) {
      entries.push(converted);
      turns++;
      lastTurn = i;
    }
  });
  if (turns === 0) throw invalid(ctx, 'messages', 'messages must contain at least one user, assistant or tool message');

  const maxTokens = request.maxTokens ?? settings.defaultMaxTokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw invalid(ctx, 'maxTokens', 'maxTokens must be a positive integer');

  const takesMid = runs > 0 && (settings.midConversationSystem ?? anthropicModelTakesMidConversationSystem(settings.modelId));
  const placed = placeSystemMessages(entries, system, { takesMid, verbatimMessages, verbatimSystem }, notes);
  const body: AnthropicMessagesRequest = { model: settings.modelId, max_tokens: maxTokens, messages: placed };
  if (system.length > 0) body.system = system.some((b) => b.cache_control !== undefined) ? system : system.map((b) => b.text).join('\n\n');
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  // Sampling settings win over thinking, top_k as temperature and top_p (Anthropic refuses each with thinking):
  // applyThinking drops thinking for them, with a `setting_not_sent` `reasoning` warning.
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.stop && request.stop.length > 0) body.stop_sequences = request.stop;
  // Anthropic's range and rules (temperature 0..1, not with top_p on newer models, no blank stop sequence), warned.
  if (body.temperature !== undefined || body.stop_sequences !== undefined) {
    fitAnthropicSampling(body, settings.modelId, settings.takesTemperatureAbove1 ?? anthropicDeploymentTakesTemperatureAbove1(settings.modelId), notes);
  }
  if (!verbatimMessages) trimFinalAssistantText(placed, lastTurn, notes);
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  const automatic = toAnthropicCacheControl(request.cacheControl, 'cacheControl', ctx);
  if (automatic) body.cache_control = automatic;
  if (request.seed !== undefined) notes.add('setting_not_sent', 'seed', 'seed was not sent: Anthropic has no seed.');
  // A penalty of 0 is no penalty, which is what Anthropic samples with: nothing lost, nothing to say.
  for (const field of ['frequencyPenalty', 'presencePenalty'] as const) {
    const penalty = request[field];
    if (penalty !== undefined && penalty !== 0) notes.add('setting_not_sent', field, `${field} was not sent: Anthropic has no sampling penalties.`);
  }
  if (asksLogitBias(request.logitBias)) notes.push(logitBiasNotSent('Anthropic'));
  if (request.verbosity !== undefined) {
    notes.add('setting_not_sent', 'verbosity', 'verbosity was not sent: Anthropic has no verbosity setting (output_config.effort trades thoroughness for tokens across thinking and tool calls, and carries reasoning.effort).');
  }
  if (request.logprobs !== undefined) notes.add('setting_not_sent', 'logprobs', 'logprobs was not sent: Anthropic does not return token log probabilities.');
  if (typeof request.promptCacheKey === 'string' && request.promptCacheKey !== '') {
    notes.add('setting_not_sent', 'promptCacheKey', 'promptCacheKey was not sent: Anthropic has no cache key (it caches by prompt prefix); the router still used it for prompt-cache affinity.');
  }

  // The engine resolves it once (its option `strictTools`); a direct caller gets the model table's answer.
  const takesStrict = settings.strictTools ?? anthropicModelTakesStrictTools(settings.modelId);
  const strictOff = settings.strictToolsOff ?? anthropicStrictToolsOffReason(settings.modelId);
  const budget: StrictBudget = { tools: 0, optional: 0, unions: 0 };
  const tools = (request.tools ?? []).map((tool, k): AnthropicTool => {
    const field = `tools.${k}.cacheControl`;
    const mark = toAnthropicCacheControl(tool.cacheControl, field, ctx);
    let input_schema = inputSchema(tool, `tools.${k}`, ctx);
    // `strict: true` where the deployment takes strict tool use and the schema fits its rules; else warned. `false`
    // goes as given where strict tool use exists, and asks for nothing elsewhere.
    let strict: boolean | undefined;
    if (tool.strict === true) {
      if (!takesStrict) notes.add('setting_not_sent', `tools.${k}.strict`, `tools.${k}.strict was not sent: ${strictOff}.`);
      else {
        input_schema = withoutMetaSchema(input_schema);
        strict = strictIfFits(input_schema, `tools.${k}.strict`, budget, notes);
      }
    } else if (tool.strict === false && takesStrict) strict = false;
    const converted: AnthropicTool = {
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      input_schema,
      ...(strict !== undefined ? { strict } : {}),
      ...(mark ? { cache_control: mark } : {}),
    };
    return mark ? notes.marked(converted, field) : converted;
  });
  if (tools.length > 0) body.tools = tools;
  if (request.toolChoice !== undefined) {
    if (tools.length > 0) body.tool_choice = convertToolChoice(request.toolChoice, tools, ctx);
    else if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
      throw invalid(ctx, 'toolChoice', 'toolChoice requires a tool call but the request has no tools');
    }
  }

  let jsonToolName: string | undefined;
  const format = request.responseFormat;
  // A `required` or named toolChoice with tools makes the answer a call of one of them (OpenAI's contract): JSON
  // mode's answer tool is not added, since `any` would let the model call it instead of a client tool.
  const callForced = tools.length > 0 && (request.toolChoice === 'required' || typeof request.toolChoice === 'object');
  if (format && format.type !== 'text' && !callForced) {
    jsonToolName = settings.jsonToolName;
    const clash = tools.findIndex((t) => t.name === jsonToolName);
    if (clash >= 0) {
      throw invalid(ctx, `tools.${clash}.name`, `tools.${clash}.name "${jsonToolName}" is reserved for JSON mode on this engine (set options.jsonToolName)`);
    }
    const answerTool = jsonTool(format, jsonToolName, ctx);
    // JSON mode is a forced tool: `strict` makes it a strict tool where the model takes strict tool use.
    if (format.type === 'json_schema' && format.strict === true) {
      if (!takesStrict) notes.add('setting_not_sent', 'responseFormat.strict', `responseFormat.strict was not sent: JSON mode on Anthropic is a forced tool, and ${strictOff}.`);
      else {
        answerTool.input_schema = withoutMetaSchema(answerTool.input_schema);
        if (strictIfFits(answerTool.input_schema, 'responseFormat.strict', budget, notes)) answerTool.strict = true;
      }
    }
    body.tools = tools.length === 0 ? [answerTool] : [...tools, answerTool];
    // `none` keeps the client's tools (the history's tool_use blocks refer to them) and forces the JSON answer;
    // `auto` or no choice: either a real tool call or the JSON answer, never free text.
    body.tool_choice = tools.length === 0 || request.toolChoice === 'none' ? { type: 'tool', name: jsonToolName } : { type: 'any' };
  }

  // `providerOptions.anthropic.thinking` picks the thinking form and goes through the same graceful rules as
  // `request.reasoning` (applyThinking); any other providerOptions.anthropic field is sent as it is, and an
  // `output_config` there is merged over the effort set here. Those fields are given to applyThinking too: a
  // top_k, temperature, top_p or tool_choice set there conflicts with thinking as much as the request's own.
  // A field whose value is undefined is not given (as `verbatimSystem` and `verbatimMessages` above decide): it is
  // left out here, so that it neither overwrites the converted field nor counts as given below.
  // `model` and `stream` are the engine's: the deployment's model (which the router priced, limited and checked),
  // `stream` as the call is made; a `model` given is not sent, with a warning unless it is the deployment's own.
  const given = Object.entries(request.providerOptions?.anthropic ?? {}).filter(([, value]) => value !== undefined);
  const { thinking: thinkingOption, output_config: outputConfig, model: modelOption, stream: _stream, ...extra } = Object.fromEntries(given);
  if (modelOption !== undefined && modelOption !== body.model) {
    notes.add('setting_not_sent', 'providerOptions.anthropic.model', `providerOptions.anthropic.model was not sent: the deployment's model ${body.model} was sent (configure another deployment for another model).`);
  }
  for (const warning of applyThinking(body, request, settings, settings.provider, thinkingOption, extra)) notes.push(warning);
  if (thinkingOption !== undefined && (typeof thinkingOption !== 'object' || thinkingOption === null || Array.isArray(thinkingOption))) {
    body.thinking = thinkingOption as AnthropicMessagesRequest['thinking'];
  }
  if (outputConfig !== undefined) {
    const ours = body.output_config;
    const merged = typeof outputConfig === 'object' && outputConfig !== null && typeof ours === 'object' && ours !== null;
    body.output_config = (merged ? { ...ours, ...outputConfig } : outputConfig) as AnthropicMessagesRequest['output_config'];
  }
  // Own fields only: a `__proto__` field is sent as one, never made the body's prototype.
  mergeProviderOptions(body as Record<string, unknown>, extra);
  applyParallelToolUse(body, request, Object.hasOwn(extra, 'tool_choice'), notes);
  // Blocks given verbatim through providerOptions are copied before the breakpoints are fitted (which may
  // remove or change their marks): the caller's request is never modified.
  const verbatim = 'providerOptions.anthropic';
  if (Array.isArray(extra.system)) body.system = (extra.system as AnthropicSystemBlock[]).map((b, k) => copyVerbatim(b, `${verbatim}.system.${k}.cache_control`, ctx));
  if (Array.isArray(extra.tools)) body.tools = (extra.tools as AnthropicTool[]).map((t, k) => copyVerbatim(t, `${verbatim}.tools.${k}.cache_control`, ctx));
  if (Array.isArray(extra.messages)) {
    body.messages = (extra.messages as AnthropicRequestMessage[]).map((m, i) =>
      Array.isArray(m?.content) ? { ...m, content: m.content.map((b, j) => copyVerbatim(b, `${verbatim}.messages.${i}.content.${j}.cache_control`, ctx)) } : m,
    );
  }
  if (extra.cache_control !== undefined) notes.automaticField = `${verbatim}.cache_control`;
  fitAnthropicCacheBreakpoints(body, notes);
  const converted: ConvertedAnthropicRequest = { body };
  if (jsonToolName !== undefined) converted.jsonToolName = jsonToolName;
  const betas: string[] = [];
  if (hasOneHourCacheControl(body)) betas.push(EXTENDED_CACHE_TTL_BETA);
  if (settings.strictToolsBeta !== undefined && body.tools?.some((t) => t.strict === true)) betas.push(settings.strictToolsBeta);
  if (betas.length > 0) converted.betas = betas;
  if (notes.warnings) converted.warnings = notes.warnings;
  return converted;
}
