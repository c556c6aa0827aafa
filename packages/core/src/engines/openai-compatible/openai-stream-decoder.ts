import { LLMError } from '../../errors/llm-error.js';
import { toLLMError } from '../../errors/to-llm-error.js';
import { estimateTokens } from '../../pricing/estimate-tokens.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { FinishReason, Usage } from '../../spec/usage.js';
import { ContentChunkTemplate, type TemplateField } from './content-chunk-template.js';
import { convertOpenAIUsage } from './convert-openai-usage.js';
import { finishOfAnswer, mapOpenAIFinishReason } from './map-openai-finish-reason.js';
import { openAIAnswerLogprobs } from './openai-answer-logprobs.js';
import { openAIStreamError, topLevelStreamError } from './map-openai-error.js';
import { openAIWholeAnswerParts } from './openai-whole-answer-parts.js';
import type { OpenAIChatChunk, OpenAIToolCallDelta } from './openai-wire-schemas.js';
import { readOpenAIChunk } from './read-openai-chunk.js';
import { readOpenAIContentParts } from './read-openai-content-parts.js';

export interface OpenAIStreamDecoderOptions {
  /** Provider name for errors (`openai`, `groq`, ...). */
  provider: string;
  deployment?: string;
  /** Estimated prompt tokens, used only when the stream reports no usage. */
  estimateInputTokens: () => number;
  /** What the engine left out of the request: a `warnings` part before the parts of the first chunk. Absent or empty: none. */
  warnings?: CallWarning[] | undefined;
  /**
   * Read `choices[].logprobs` (the request sent `logprobs: true`) into `logprobs` parts. Default false: the field
   * is not looked at, whatever a server sends in it.
   */
  logprobs?: boolean | undefined;
  /** Called when the body turned out to be a whole JSON answer (see `whole`), before the rest of it is read. */
  onWholeAnswer?: (() => void) | undefined;
}

type Choice = NonNullable<OpenAIChatChunk['choices']>[number];
type Delta = NonNullable<Choice['delta']>;

/** Choice 0 of a chunk (the only one a request asks for). */
function firstChoice(choices: OpenAIChatChunk['choices']): Choice | undefined {
  if (!choices) return undefined;
  for (let i = 0; i < choices.length; i++) if ((choices[i]!.index ?? 0) === 0) return choices[i];
  return undefined;
}

interface ToolCallState {
  /** The id every part of this call carries: the upstream's, or one made up on the call's first piece. */
  id: string;
  /** The id the upstream sent, if any (tells apart index-less calls sent whole). */
  upstreamId: string | undefined;
  /** The upstream `index` (or position, when `index` is missing) its pieces come at. */
  upstreamIndex: number;
  name: string;
  arguments: string;
  /** Its first delta went out (a call waits for its name: see `toolCallDelta`). */
  opened: boolean;
}

/**
 * Turns the `data:` payloads of an OpenAI chat-completions SSE stream into our stream parts.
 * Feed each payload to `decode`; when the source ends, call `end` (or `interrupted` if reading failed).
 * After a terminal part (`finish` or `error`) `done` is true and further input is ignored.
 *
 * Only choice 0 is read (requests never ask for `n > 1`). With `options.logprobs`, a chunk's `logprobs.content`
 * becomes a `logprobs` part right after that chunk's `text-delta` (before its tool-call parts): only the answer's
 * tokens (`openAIAnswerLogprobs`), so a chunk of reasoning alone gives none, and neither do tokens without text
 * between the reasoning and the answer's first text. A malformed `logprobs` ends the stream's logprobs there (the
 * parts before it stay); the stream goes on.
 */
export class OpenAIStreamDecoder {
  private terminated = false;
  private metadataSent = false;
  private responseId: string | undefined;
  private finishReason: FinishReason | undefined;
  private usage: Usage | undefined;
  /** Made on the first tool call (most streams have none). Keyed by our index (the parts' `index`). */
  private toolCalls: Map<number, ToolCallState> | undefined;
  /**
   * Upstream index (or position, when `index` is missing) -> our index, for the upstream indexes that were reused
   * by a second call (see `toolCallDelta`); made on the first such reuse. An index not here is our index as well.
   */
  private reusedIndexes: Map<number, number> | undefined;
  private toolCallsEmitted = false;
  /** The answer's text (reasoning, content, tool names and arguments), for a usage estimate when the provider sends none. */
  private outputText = '';
  private chunks = 0;
  /** Content chunks like an earlier one are read without JSON.parse (see ContentChunkTemplate). */
  private template: ContentChunkTemplate | undefined;
  private learning = 2;
  /** The same for reasoning chunks (a reasoning model's thinking, before its answer). */
  private reasoningTemplate: ContentChunkTemplate | undefined;
  private reasoningLearning = 2;
  private templateHits = 0;
  private templateMisses = 0;
  /** `options.logprobs`, until a malformed `logprobs` turns it off. */
  private readLogprobs: boolean;
  /** Reasoning text came, and no answer text yet (tokens without text then are not known to be the answer's). */
  private beforeAnswer = false;

  /** The `warnings` part still to hand out (with the first chunk's parts), if any. */
  private head: StreamPart | undefined;

  constructor(private readonly options: OpenAIStreamDecoderOptions) {
    if (options.warnings && options.warnings.length > 0) this.head = { type: 'warnings', warnings: options.warnings };
    this.readLogprobs = options.logprobs === true;
  }

  /** True once a terminal part was produced. */
  get done(): boolean {
    return this.terminated;
  }

  /** Number of chunks decoded so far. */
  get chunkCount(): number {
    return this.chunks;
  }

  /** Parts for one SSE `data:` payload (a JSON chunk or `[DONE]`). */
  decode(data: string): StreamPart[] {
    if (this.terminated) return [];
    if (this.head !== undefined) return this.withHead(data);
    if (this.template) {
      const content = this.template.content(data);
      if (content !== undefined) return this.templated(content);
    }
    if (this.reasoningTemplate) {
      const reasoning = this.reasoningTemplate.content(data);
      if (reasoning !== undefined) return this.templatedReasoning(reasoning);
    }
    // Servers that vary each chunk (a per-chunk nonce): stop trying.
    if ((this.template || this.reasoningTemplate) && ++this.templateMisses > this.templateHits + 4) {
      this.template = undefined;
      this.reasoningTemplate = undefined;
    }
    if (data.trim() === '[DONE]') return this.doneMarker();
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch (e) {
      return this.fail(
        new LLMError({
          code: 'invalid_response',
          message: `${this.options.provider} sent a stream chunk that is not JSON: ${data.slice(0, 200)}`,
          provider: this.options.provider,
          deployment: this.options.deployment,
          cause: e,
        }),
      );
    }
    const read = readOpenAIChunk(json);
    if (!read.ok) {
      return this.fail(
        new LLMError({
          code: 'invalid_response',
          message: `${this.options.provider} sent an unexpected stream chunk: ${read.issue} in ${data.slice(0, 200)}`,
          provider: this.options.provider,
          deployment: this.options.deployment,
          details: json,
        }),
      );
    }
    const chunk = read.chunk;
    this.chunks++;
    if (chunk.error) return this.fail(openAIStreamError(chunk.error, this.options));
    if (!chunk.choices) {
      // An error sent in place of a chunk (vLLM's `object: "error"`, FastChat's `error_code`): not a chunk of the answer.
      const error = topLevelStreamError(json);
      if (error !== undefined) return this.fail(openAIStreamError(error, this.options));
    }

    const parts: StreamPart[] = [];
    if (!this.metadataSent && (chunk.id || chunk.model)) {
      this.metadataSent = true;
      this.responseId = chunk.id ?? undefined;
      const metadata: Extract<StreamPart, { type: 'response-metadata' }> = { type: 'response-metadata' };
      if (chunk.id) metadata.id = chunk.id;
      if (chunk.model) metadata.model = chunk.model;
      parts.push(metadata);
    }
    const choice = firstChoice(chunk.choices);
    const delta = choice?.delta;
    let reasoning: string | null | undefined;
    let content: string | null | undefined;
    if (delta) {
      let answer = delta.content;
      reasoning = delta.reasoning_content ?? delta.reasoning;
      if (Array.isArray(answer)) {
        // Mistral's reasoning models: a list of thinking and text items.
        const read = readOpenAIContentParts(answer);
        answer = read.text;
        reasoning ||= read.reasoning;
      }
      if (reasoning) {
        this.outputText += reasoning;
        parts.push({ type: 'reasoning-delta', delta: reasoning });
        this.beforeAnswer = true;
      }
      content = answer;
      if (content) {
        this.outputText += content;
        parts.push({ type: 'text-delta', delta: content });
        this.beforeAnswer = false;
      }
    }
    // Right after the text-delta of the same chunk (the tokens that text is made of), before its refusal (the
    // `logprobs.content` tokens are not the refusal's) and its tool calls.
    if (this.readLogprobs && choice !== undefined && choice.logprobs != null) this.pushLogprobs(parts, choice.logprobs, content, reasoning);
    if (delta?.refusal) {
      // The refusal, marked: kept apart from the content (`GenerateResult.refusal`), as `generate` does.
      this.outputText += delta.refusal;
      parts.push({ type: 'text-delta', delta: delta.refusal, refusal: true });
      this.beforeAnswer = false;
    }
    delta?.tool_calls?.forEach((call, position) => {
      const part = this.toolCallDelta(call, position);
      if (part) parts.push(part);
    });
    if (choice?.finish_reason) {
      this.finishReason = mapOpenAIFinishReason(choice.finish_reason);
      parts.push(...this.completeToolCalls());
    }
    if (chunk.usage) {
      this.usage = convertOpenAIUsage(chunk.usage);
      parts.push({ type: 'usage', usage: this.usage });
    }
    if (delta) this.learn(data, chunk, delta, content, reasoning);
    return parts;
  }

  /** A chunk's answer tokens as a `logprobs` part (see the class comment), if any. */
  private pushLogprobs(parts: StreamPart[], value: unknown, content: string | null | undefined, reasoning: string | null | undefined): void {
    if (!content && !reasoning && this.beforeAnswer) return;
    const tokens = openAIAnswerLogprobs(value, content ?? '', !!reasoning, () => (this.readLogprobs = false));
    if (tokens) parts.push({ type: 'logprobs', logprobs: tokens });
  }

  /** The first chunk's parts after the `warnings` part (the one field check per chunk: nothing else on the hot path). */
  private withHead(data: string): StreamPart[] {
    const head = this.head!;
    this.head = undefined;
    const parts = this.decode(data);
    parts.unshift(head);
    return parts;
  }

  /** A chunk that matched the template: what the full path gives for a content-only chunk. */
  private templated(content: string): StreamPart[] {
    this.chunks++;
    this.templateHits++;
    if (!content) return [];
    this.outputText += content;
    this.beforeAnswer = false;
    return [{ type: 'text-delta', delta: content }];
  }

  /** A chunk that matched the reasoning template: what the full path gives for a reasoning-only chunk. */
  private templatedReasoning(reasoning: string): StreamPart[] {
    this.chunks++;
    this.templateHits++;
    if (!reasoning) return [];
    this.outputText += reasoning;
    this.beforeAnswer = true;
    return [{ type: 'reasoning-delta', delta: reasoning }];
  }

  /**
   * A template from a chunk with text (`content`, or else `reasoning`, as read from its choice 0's `delta`), while that
   * kind has none and tries are left.
   */
  private learn(data: string, chunk: OpenAIChatChunk, delta: Delta, content: string | null | undefined, reasoning: string | null | undefined): void {
    if (content) {
      if (this.learning === 0 || this.template) return;
      this.learning--;
      this.template = ContentChunkTemplate.learn(data, chunk);
    } else if (reasoning) {
      if (this.reasoningLearning === 0 || this.reasoningTemplate) return;
      this.reasoningLearning--;
      const field: TemplateField = delta.reasoning_content != null ? 'reasoning_content' : 'reasoning';
      this.reasoningTemplate = ContentChunkTemplate.learn(data, chunk, field);
    }
  }

  /**
   * The value of an `error:` line (llama.cpp's server reports a failed stream so, then sends `[DONE]`): an
   * error part with the upstream's message, classified as `openAIStreamError` classifies an error chunk.
   */
  errorField(value: string): StreamPart[] {
    if (this.terminated) return [];
    let body: unknown;
    try {
      body = JSON.parse(value);
    } catch {
      body = value;
    }
    return this.fail(openAIStreamError(body, this.options));
  }

  /**
   * `[DONE]`: the answer ends with the `finish_reason` it had (none: `other`, or `tool-calls` with tool calls).
   * `[DONE]` before any chunk is not an answer (a server that failed and said so in a way not read here): `stream_interrupted`.
   */
  private doneMarker(): StreamPart[] {
    if (this.chunks > 0) return this.finish(this.finishReason);
    return this.fail(
      new LLMError({
        code: 'stream_interrupted',
        message: `${this.options.provider} stream sent [DONE] before any chunk`,
        provider: this.options.provider,
        deployment: this.options.deployment,
      }),
    );
  }

  /**
   * The source ended without an error. A stream that saw neither `[DONE]` nor a `finish_reason`
   * was cut short: that is a `stream_interrupted` error, never a clean end.
   */
  end(): StreamPart[] {
    if (this.terminated) return [];
    if (this.finishReason !== undefined) return this.finish(this.finishReason);
    return this.fail(
      new LLMError({
        code: 'stream_interrupted',
        message: `${this.options.provider} stream ended after ${this.chunks} chunks without a finish_reason or [DONE]`,
        provider: this.options.provider,
        deployment: this.options.deployment,
      }),
    );
  }

  /** A whole JSON answer began (a body starting with `{`: a server that ignored `stream: true`). */
  wholeStart(): void {
    this.options.onWholeAnswer?.();
  }

  /**
   * The parts of a whole JSON body (`openAIWholeAnswerParts`: a chat completion's, or an error object's error part);
   * undefined for anything else (decoded as SSE then, which ends `stream_interrupted`).
   */
  whole(text: string): StreamPart[] | undefined {
    if (this.terminated) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parts = openAIWholeAnswerParts(json, this.options);
    if (parts) this.terminated = true;
    return parts;
  }

  /** Reading the source failed (connection reset, socket closed). */
  interrupted(cause: unknown): StreamPart[] {
    if (this.terminated) return [];
    if (LLMError.isInstance(cause) && cause.code !== 'network_error') return this.fail(toLLMError(cause, this.options));
    const detail = cause instanceof Error ? `${cause.message}${cause.cause instanceof Error ? ` (${cause.cause.message})` : ''}` : String(cause);
    return this.fail(
      new LLMError({
        code: 'stream_interrupted',
        message: `${this.options.provider} stream was interrupted after ${this.chunks} chunks: ${detail}`,
        provider: this.options.provider,
        deployment: this.options.deployment,
        cause,
      }),
    );
  }

  /**
   * One piece of a tool call. The call's id is fixed on its first piece: the upstream's, or (when the
   * upstream sends none) `call_<responseId>_<index>`, made up then and sent on that first delta, so every
   * part of the call (deltas and the complete `tool-call`) names the same id. A later upstream id does not
   * rename a call whose id was already sent.
   *
   * A call waits for its function name: its pieces before the name go out with it, in its first delta. A call
   * that never gets one (an upstream's tool parser that failed part-way) cannot be answered: it sends no part, is
   * left out of the complete calls and does not make the finish `tool-calls` (`answersCalls`).
   *
   * A piece that names a function under an id other than the upstream id of the call at its index starts a new
   * call, at our next free index: servers that send parallel calls each whole at one reused `index: 0` (Ollama,
   * SGLang, NVIDIA Dynamo) or with no `index` at all. A piece without a function name belongs to the call at its
   * index whatever its id: some servers put a new id on every argument piece of one call (Poolside, OCI, some
   * proxies). Later pieces at that upstream index belong to the newest call.
   */
  private toolCallDelta(call: OpenAIToolCallDelta, position: number): StreamPart | undefined {
    const toolCalls = (this.toolCalls ??= new Map());
    const upstreamIndex = call.index ?? position;
    let index = this.reusedIndexes?.get(upstreamIndex) ?? upstreamIndex;
    const existing = toolCalls.get(index);
    // Our index taken by a call of another upstream index (one that moved there), or a function named under a new id:
    // a new call.
    if (
      existing &&
      (existing.upstreamIndex !== upstreamIndex || (call.id && call.function?.name && existing.upstreamId && existing.upstreamId !== call.id))
    ) {
      index = Math.max(...toolCalls.keys()) + 1;
      (this.reusedIndexes ??= new Map()).set(upstreamIndex, index);
    }
    let state = toolCalls.get(index);
    if (!state) {
      state = { id: call.id || `call_${this.responseId ?? 'stream'}_${index}`, upstreamId: call.id || undefined, upstreamIndex, name: '', arguments: '', opened: false };
      toolCalls.set(index, state);
    } else if (call.id && !state.upstreamId) {
      state.upstreamId = call.id;
    }
    const name = call.function?.name ?? undefined;
    const args = call.function?.arguments ?? '';
    // (The name counts once in the estimate: an upstream may repeat it on every piece.)
    const firstName = name !== undefined && name !== '' && !state.name;
    if (firstName) state.name = name;
    state.arguments += args;
    this.outputText += (firstName ? name : '') + args;
    if (!state.opened) {
      if (!state.name) return undefined;
      state.opened = true;
      return { type: 'tool-call-delta', index, id: state.id, name: state.name, argumentsDelta: state.arguments };
    }
    return {
      type: 'tool-call-delta',
      index,
      ...(call.id ? { id: state.id } : {}),
      ...(name ? { name } : {}),
      argumentsDelta: args,
    };
  }

  /** Some tool call got its name (only those are answered: see `toolCallDelta`). */
  private answersCalls(): boolean {
    if (this.toolCalls === undefined) return false;
    for (const s of this.toolCalls.values()) if (s.opened) return true;
    return false;
  }

  private completeToolCalls(): StreamPart[] {
    if (this.toolCallsEmitted) return [];
    this.toolCallsEmitted = true;
    if (this.toolCalls === undefined) return [];
    return [...this.toolCalls.entries()]
      .filter(([, s]) => s.opened)
      .sort(([a], [b]) => a - b)
      .map(([index, s]) => ({
        type: 'tool-call' as const,
        index,
        toolCall: { id: s.id, name: s.name, arguments: s.arguments },
      }));
  }

  /** `reason` undefined: the stream gave no `finish_reason`. */
  private finish(reason: FinishReason | undefined): StreamPart[] {
    const parts = this.completeToolCalls();
    const finishReason = finishOfAnswer(reason, this.answersCalls());
    const usage = this.usage ?? this.estimatedUsage();
    this.terminated = true;
    parts.push({ type: 'finish', finishReason, usage });
    return parts;
  }

  private fail(error: LLMError): StreamPart[] {
    this.terminated = true;
    return [{ type: 'error', error }];
  }

  private estimatedUsage(): Usage {
    const inputTokens = this.options.estimateInputTokens();
    const outputTokens = estimateTokens(this.outputText);
    return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
  }
}
