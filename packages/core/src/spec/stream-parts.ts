import type { LLMError } from '../errors/llm-error.js';
import type { TokenLogprob } from './logprobs.js';
import type { ToolCall } from './messages.js';
import type { FinishReason, Usage } from './usage.js';
import type { CallWarning } from './warnings.js';

/**
 * What a stream yields. A stream ends with exactly one `finish` or one `error` part;
 * an error after content is a part the consumer sees, never a silent end.
 */
export type StreamPart =
  | { type: 'response-metadata'; id?: string; model?: string }
  /** Answer text; `refusal: true`: a piece of the model's refusal instead (`GenerateResult.refusal`, not `text`). */
  | { type: 'text-delta'; delta: string; refusal?: boolean }
  /**
   * Reasoning text. A reasoning block the provider signs ends with a part that carries its `signature`
   * (usually with an empty `delta`); the next reasoning part starts a new block. A part with `redactedData`
   * is one whole encrypted block (its `delta` is empty). See `ReasoningPart`.
   */
  | { type: 'reasoning-delta'; delta: string; signature?: string; redactedData?: string }
  /** A piece of a tool call. `index` identifies the call across deltas; `id`/`name` arrive on the first. */
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  /** A complete tool call, emitted once its deltas are done. */
  | { type: 'tool-call'; index: number; toolCall: ToolCall }
  /**
   * Log probabilities of answer tokens (asked for with `GenerateRequest.logprobs`): emitted right after the
   * `text-delta` part whose text these tokens make up (tokens without text may come in a part of their own).
   * All `logprobs` parts of a stream, in order, are the result's `logprobs`.
   */
  | { type: 'logprobs'; logprobs: TokenLogprob[] }
  | { type: 'usage'; usage: Usage }
  /**
   * What the engine did not do as asked (see `CallWarning`). At most one per stream, before the first content
   * part (engines emit it first, once the request is mapped); consumers that do not show warnings skip it.
   */
  | { type: 'warnings'; warnings: CallWarning[] }
  /**
   * The end. `stopSequence`: the request's `stop` sequence the model stopped on (`finishReason` is then `stop`),
   * where the engine knows which (Anthropic; the local gguf and onnx engines, which match `stop` themselves); absent
   * elsewhere, OpenAI-compatible servers and Gemini do not say.
   */
  | { type: 'finish'; finishReason: FinishReason; usage: Usage; stopSequence?: string }
  | { type: 'error'; error: LLMError };

export type StreamPartType = StreamPart['type'];

/** True for parts that carry model output: after one of these a stream may no longer fail over. */
export function isContentPart(part: StreamPart): boolean {
  return (
    part.type === 'text-delta' ||
    part.type === 'reasoning-delta' ||
    part.type === 'tool-call-delta' ||
    part.type === 'tool-call'
  );
}
