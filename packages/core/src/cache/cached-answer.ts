import type { CallWarning, FinishReason, ReasoningPart, TokenLogprob, ToolCall, Usage } from '../spec/index.js';

/**
 * What the exact and semantic caches keep of an answer: enough to return it again or replay it as a stream. Not
 * its `warnings`: they described how the original call's request was sent, and a hit sends nothing upstream.
 */
export interface CachedAnswer {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /**
   * The stop sequence the answer ended on, where the provider said (`GenerateResult.stopSequence`); a hit returns
   * it and a stream replay's finish part carries it. Absent in entries stored before it was kept.
   */
  stopSequence?: string;
  /** The model's refusal, apart from `text` (`GenerateResult.refusal`); a hit and a replay give it back as such. */
  refusal?: string;
  /** The usage of the original call. */
  usage: Usage;
  /** Deployment (config model name) that produced it. */
  deployment: string;
  /** Provider model id. */
  model: string;
  provider: string;
  /** Epoch ms when it was stored. */
  createdAt: number;
  reasoning?: string;
  /**
   * The answer's reasoning blocks when the provider signed or redacted them (Anthropic thinking), in order:
   * a client's next turn must send them back unchanged (see `ReasoningPart`). Absent in entries stored
   * before it was kept; such entries stay valid.
   */
  reasoningParts?: ReasoningPart[];
  /** Provider's response id of the original call. */
  id?: string;
  /**
   * The answer's token log probabilities, when its request asked for them (`GenerateRequest.logprobs`, part of
   * the exact-cache key) and the provider gave them; a hit returns them and a stream replay sends them.
   */
  logprobs?: TokenLogprob[];
}

/**
 * An answer to store: `createdAt` optional (the cache's clock fills it). Extra fields are ignored; `warnings` (a router
 * result's) are read to decide whether to store it (`answerNotAsAsked`), never kept.
 */
export type CachedAnswerInput = Omit<CachedAnswer, 'createdAt'> & { createdAt?: number; warnings?: readonly CallWarning[] };

/**
 * The cache entry of an answer: only the answer's own fields (callers may pass a whole router result, with
 * cost, attempts, decision...), optional ones only when present. Not a copy: clone it before storing by
 * reference.
 */
export function cachedAnswerOf(answer: CachedAnswerInput, createdAt: number): CachedAnswer {
  const entry: CachedAnswer = {
    text: answer.text,
    toolCalls: answer.toolCalls,
    finishReason: answer.finishReason,
    usage: answer.usage,
    deployment: answer.deployment,
    model: answer.model,
    provider: answer.provider,
    createdAt,
  };
  if (answer.stopSequence !== undefined) entry.stopSequence = answer.stopSequence;
  if (typeof answer.refusal === 'string' && answer.refusal !== '') entry.refusal = answer.refusal;
  if (answer.reasoning !== undefined) entry.reasoning = answer.reasoning;
  if (answer.reasoningParts !== undefined) entry.reasoningParts = answer.reasoningParts;
  if (answer.id !== undefined) entry.id = answer.id;
  if (answer.logprobs !== undefined) entry.logprobs = answer.logprobs;
  return entry;
}

/**
 * An answer with nothing to give: blank text (whitespace at most), no tool call, no refusal (an upstream glitch, or
 * an output cap spent on reasoning). Neither cache stores one: replayed, it would answer every retry of the request
 * with nothing, never asking the model again.
 */
export function isBlankAnswer(answer: Pick<CachedAnswerInput, 'text' | 'toolCalls' | 'refusal'>): boolean {
  return answer.toolCalls.length === 0 && (answer.refusal === undefined || answer.refusal === '') && !/\S/.test(answer.text);
}
