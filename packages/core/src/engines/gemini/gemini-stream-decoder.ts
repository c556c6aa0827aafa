import type { StreamPart } from '../../spec/stream-parts.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { FinishReason, Usage } from '../../spec/usage.js';
import { ProviderStreamDecoder, type ProviderStreamContext } from '../shared/provider-stream-decoder.js';
import type { GeminiGenerateContentResponse, GeminiUsageMetadata } from './gemini-api-types.js';
import { convertGeminiLogprobs } from './convert-gemini-logprobs.js';
import { geminiStreamError } from './gemini-error.js';
import { geminiToolCallId } from './gemini-tool-call-id.js';
import { convertGeminiUsage } from './gemini-usage.js';
import { geminiFinishError, mapGeminiFinishReason } from './map-gemini-finish-reason.js';

export interface GeminiStreamContext extends ProviderStreamContext {
  onThoughtSignature?: (toolCallId: string, signature: string) => void;
  /** What the engine changed or left out of the request: a `warnings` part before the first chunk's parts. Absent or empty: none. */
  warnings?: CallWarning[] | undefined;
}

/**
 * Turns the `data:` payloads of :streamGenerateContent?alt=sse (each a GenerateContentResponse) into stream
 * parts. The prompt's counts come as a `usage` part as soon as a chunk reports them (see `promptUsage`).
 * Gemini has no terminal event: a chunk with a `finishReason` (or a prompt `blockReason`) is what makes
 * the end clean, so `finish` comes from `end()` (or from `interrupted()` when the connection drops after
 * it). Without one the stream ends with `stream_interrupted`; an `{ error }` chunk or invalid JSON ends it at
 * once (`done`). Function calls arrive whole, so each gives one `tool-call-delta` and one `tool-call`. A
 * `finishReason` of a failed tool call (`MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`) ends it with a `usage`
 * part and an `invalid_response` error (`geminiFinishError`), not a finish. A chunk's
 * `logprobsResult` (the tokens of that chunk) becomes one `logprobs` part right after the chunk's last `text-delta`
 * (at the chunk's end when it has no text).
 */
export class GeminiStreamDecoder extends ProviderStreamDecoder {
  private usage: GeminiUsageMetadata | undefined;
  private finishReason: string | undefined;
  private blocked = false;
  private toolCount = 0;
  private metadataSent = false;
  /** The prompt's usage last handed out as a `usage` part. */
  private promptSent: Usage | undefined;

  /** The `warnings` part still to hand out (first, with the first chunk's parts), if any. */
  private head: StreamPart | undefined;

  constructor(private readonly ctx: GeminiStreamContext) {
    super(ctx);
    if (ctx.warnings && ctx.warnings.length > 0) this.head = { type: 'warnings', warnings: ctx.warnings };
  }

  protected override ended(): StreamPart {
    return this.completed() ?? this.fail('stream ended without a finishReason', 'stream_interrupted');
  }

  /** After the finishReason chunk (or a blocked prompt) the answer is complete, even when the connection is cut. */
  protected override completed(): StreamPart | undefined {
    return this.finishReason !== undefined || this.blocked ? this.finish() : undefined;
  }

  /**
   * The prompt's usage (input, with cache reads) when a chunk before the last reports it for the first time or
   * with other counts (Gemini repeats `usageMetadata` on every chunk), so a stream that breaks before its
   * `finishReason` is still billed for its prompt, as Anthropic's are from `message_start`. Its output is 0: the
   * output is known only at the end, and whoever bills a broken stream estimates it from the text sent. The
   * `finish` part carries the final usage, which replaces this one. Undefined when there is nothing new.
   */
  private promptUsage(chunk: GeminiGenerateContentResponse): Usage | undefined {
    if (!chunk.usageMetadata || chunk.candidates?.[0]?.finishReason || chunk.promptFeedback?.blockReason) return undefined;
    const { inputTokens, cachedInputTokens } = convertGeminiUsage(chunk.usageMetadata);
    const sent = this.promptSent;
    if (inputTokens <= 0 || (sent && sent.inputTokens === inputTokens && sent.cachedInputTokens === cachedInputTokens)) return undefined;
    const usage: Usage = { inputTokens, outputTokens: 0, totalTokens: inputTokens };
    if (cachedInputTokens !== undefined) usage.cachedInputTokens = cachedInputTokens;
    return (this.promptSent = usage);
  }

  /** Pushes the parts of one chunk. */
  protected override read(data: string, parts: StreamPart[]): void {
    if (this.head !== undefined) {
      parts.push(this.head);
      this.head = undefined;
    }
    if (data.trim() === '') return;
    let chunk: GeminiGenerateContentResponse;
    try {
      chunk = JSON.parse(data) as GeminiGenerateContentResponse;
    } catch (e) {
      parts.push(this.fail(`stream sent invalid JSON: ${data.slice(0, 200)}`, 'invalid_response', e));
      return;
    }
    if (chunk.error) {
      parts.push(this.terminal({ type: 'error', error: geminiStreamError(chunk, this.context) }));
      return;
    }
    if (!this.metadataSent) {
      this.metadataSent = true;
      parts.push({ type: 'response-metadata', id: chunk.responseId, model: chunk.modelVersion });
    }
    if (chunk.usageMetadata) this.usage = chunk.usageMetadata;
    const prompt = this.promptUsage(chunk);
    if (prompt) parts.push({ type: 'usage', usage: prompt });
    if (chunk.promptFeedback?.blockReason) this.blocked = true;
    const candidate = chunk.candidates?.[0];
    let afterText = -1;
    for (const part of candidate?.content?.parts ?? []) {
      if (part.functionCall) {
        const index = this.toolCount++;
        const id = geminiToolCallId(part.functionCall, index, chunk.responseId);
        if (part.thoughtSignature) this.ctx.onThoughtSignature?.(id, part.thoughtSignature);
        const args = JSON.stringify(part.functionCall.args ?? {});
        parts.push({ type: 'tool-call-delta', index, id, name: part.functionCall.name, argumentsDelta: args });
        parts.push({ type: 'tool-call', index, toolCall: { id, name: part.functionCall.name, arguments: args } });
      } else if (typeof part.text === 'string' && part.text !== '') {
        parts.push(part.thought ? { type: 'reasoning-delta', delta: part.text } : { type: 'text-delta', delta: part.text });
        if (!part.thought) afterText = parts.length;
      }
    }
    const logprobs = convertGeminiLogprobs(candidate?.logprobsResult);
    if (logprobs && logprobs.length > 0) {
      const part: StreamPart = { type: 'logprobs', logprobs };
      if (afterText >= 0) parts.splice(afterText, 0, part);
      else parts.push(part);
    }
    if (candidate?.finishReason) {
      this.finishReason = candidate.finishReason;
      // The model failing to make a tool call: an error, not a finish (see `geminiFinishError`), after the usage
      // Gemini bills for it.
      const failed = geminiFinishError(candidate.finishReason, candidate.finishMessage, this.context);
      if (failed) {
        parts.push({ type: 'usage', usage: convertGeminiUsage(this.usage) });
        parts.push(this.terminal({ type: 'error', error: failed }));
      }
    }
  }

  private finish(): StreamPart {
    const finishReason: FinishReason = this.blocked ? 'content-filter' : mapGeminiFinishReason(this.finishReason, this.toolCount > 0);
    return this.terminal({ type: 'finish', finishReason, usage: convertGeminiUsage(this.usage) });
  }
}
