import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { FinishReason } from '../../spec/usage.js';
import type { GeminiGenerateContentResponse, GeminiUsageMetadata } from './gemini-api-types.js';
import { geminiStreamError } from './gemini-error.js';
import { geminiToolCallId } from './gemini-tool-call-id.js';
import { convertGeminiUsage } from './gemini-usage.js';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.js';

/** One server-sent event (what `sseEvents` yields). */
export interface GeminiSseMessage {
  event?: string;
  data: string;
}

export interface GeminiStreamContext {
  provider: string;
  deployment?: string;
  /** The call's signal: when the source fails after it aborted, the error is `aborted`/`timeout`. */
  signal?: AbortSignal;
  onThoughtSignature?: (toolCallId: string, signature: string) => void;
}

/**
 * Decodes :streamGenerateContent?alt=sse chunks (each a GenerateContentResponse) into stream parts.
 * Gemini has no terminal event: a chunk with a `finishReason` (or a prompt `blockReason`) is what makes
 * the end clean. Without one the stream ends with `stream_interrupted`; an `{ error }` chunk ends it with
 * that error. Function calls arrive whole, so each gives one `tool-call-delta` and one `tool-call`.
 */
export async function* decodeGeminiStream(events: AsyncIterable<GeminiSseMessage>, ctx: GeminiStreamContext): AsyncGenerator<StreamPart> {
  const context = { provider: ctx.provider, deployment: ctx.deployment };
  let usage: GeminiUsageMetadata | undefined;
  let finishReason: string | undefined;
  let blocked = false;
  let toolCount = 0;
  let metadataSent = false;

  const finish = (): StreamPart => ({
    type: 'finish',
    finishReason: blocked ? 'content-filter' : (mapGeminiFinishReason(finishReason, toolCount > 0) satisfies FinishReason),
    usage: convertGeminiUsage(usage),
  });
  const fail = (message: string, code: 'invalid_response' | 'stream_interrupted', cause?: unknown): StreamPart => ({
    type: 'error',
    error: new LLMError({ code, message: `${ctx.provider}: ${message}`, cause, ...context }),
  });

  try {
    for await (const message of events) {
      if (message.data.trim() === '') continue;
      let chunk: GeminiGenerateContentResponse;
      try {
        chunk = JSON.parse(message.data) as GeminiGenerateContentResponse;
      } catch (e) {
        yield fail(`stream sent invalid JSON: ${message.data.slice(0, 200)}`, 'invalid_response', e);
        return;
      }
      if (chunk.error) {
        yield { type: 'error', error: geminiStreamError(chunk, context) };
        return;
      }
      if (!metadataSent) {
        metadataSent = true;
        yield { type: 'response-metadata', id: chunk.responseId, model: chunk.modelVersion };
      }
      if (chunk.usageMetadata) usage = chunk.usageMetadata;
      if (chunk.promptFeedback?.blockReason) blocked = true;
      const candidate = chunk.candidates?.[0];
      for (const part of candidate?.content?.parts ?? []) {
        if (part.functionCall) {
          const index = toolCount++;
          const id = geminiToolCallId(part.functionCall, index, chunk.responseId);
          if (part.thoughtSignature) ctx.onThoughtSignature?.(id, part.thoughtSignature);
          const args = JSON.stringify(part.functionCall.args ?? {});
          yield { type: 'tool-call-delta', index, id, name: part.functionCall.name, argumentsDelta: args };
          yield { type: 'tool-call', index, toolCall: { id, name: part.functionCall.name, arguments: args } };
        } else if (typeof part.text === 'string' && part.text !== '') {
          yield part.thought ? { type: 'reasoning-delta', delta: part.text } : { type: 'text-delta', delta: part.text };
        }
      }
      if (candidate?.finishReason) finishReason = candidate.finishReason;
    }
  } catch (e) {
    if (ctx.signal?.aborted) yield { type: 'error', error: abortError(ctx.signal, context) };
    else if (finishReason !== undefined || blocked) yield finish();
    else if (LLMError.isInstance(e)) yield { type: 'error', error: toLLMError(e, context) };
    else yield fail(`stream interrupted: ${e instanceof Error ? e.message : String(e)}`, 'stream_interrupted', e);
    return;
  }
  if (finishReason !== undefined || blocked) yield finish();
  else yield fail('stream ended without a finishReason', 'stream_interrupted');
}
