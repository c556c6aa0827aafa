import type { LLMError } from '../errors/llm-error.js';
import { estimateTokens } from '../pricing/estimate-tokens.js';
import { partialUsage } from '../pricing/partial-usage.js';
import type { CallWarning, FinishReason, GenerateResult, ReasoningPart, StreamPart, TokenLogprob, ToolCall, Usage } from '../spec/index.js';

/**
 * Folds `reasoning-delta` parts into reasoning blocks: text joins the open block, a `signature` closes it,
 * `redactedData` is a whole block of its own. `parts()` is undefined unless a block is signed or redacted
 * (reasoning that nothing needs back stays the plain `reasoning` text).
 */
export class ReasoningBlocks {
  private readonly blocks: ReasoningPart[] = [];
  private open: ReasoningPart | undefined;
  private keep = false;

  add(part: Extract<StreamPart, { type: 'reasoning-delta' }>): void {
    if (part.redactedData !== undefined) {
      this.close();
      this.blocks.push({ type: 'reasoning', text: '', redactedData: part.redactedData });
      this.keep = true;
      return;
    }
    if (part.delta !== '') (this.open ??= { type: 'reasoning', text: '' }).text += part.delta;
    if (part.signature !== undefined && part.signature !== '') {
      (this.open ??= { type: 'reasoning', text: '' }).signature = part.signature;
      this.keep = true;
      this.close();
    }
  }

  private close(): void {
    if (this.open) this.blocks.push(this.open);
    this.open = undefined;
  }

  parts(): ReasoningPart[] | undefined {
    if (!this.keep) return undefined;
    return this.open ? [...this.blocks, { ...this.open }] : [...this.blocks];
  }
}

/**
 * Folds stream parts into the `GenerateResult` a non-streamed call of the same answer returns,
 * so usage and cost agree between `generate` and `stream`.
 */
export class StreamAccumulator {
  private text = '';
  private reasoning = '';
  private readonly reasoningBlocks = new ReasoningBlocks();
  private readonly toolCalls: ToolCall[] = [];
  private pendingTools: Map<number, { id: string; name: string; arguments: string }> | undefined;
  private usage: Usage | undefined;
  private id: string | undefined;
  private model: string | undefined;
  /** The engine's `warnings` part (engines send at most one; several are joined in order). */
  private warnings: CallWarning[] | undefined;
  /** The `logprobs` parts' tokens, in order (undefined until one comes). */
  private logprobs: TokenLogprob[] | undefined;
  finishReason: FinishReason | undefined;
  /** The finish part's `stopSequence` (the stop sequence the answer ended on, where the provider says). */
  private stopSequence: string | undefined;
  /** The model's refusal: the text deltas marked `refusal`, kept apart from `text`. */
  private refusal = '';
  error: LLMError | undefined;
  /** A content part (text, reasoning, tool call) was seen. */
  sawContent = false;

  constructor(private readonly estimatedInputTokens: () => number) {}

  add(part: StreamPart): void {
    switch (part.type) {
      case 'text-delta':
        if (part.refusal === true) this.refusal += part.delta;
        else this.text += part.delta;
        this.sawContent = true;
        break;
      case 'reasoning-delta':
        this.reasoning += part.delta;
        this.reasoningBlocks.add(part);
        this.sawContent = true;
        break;
      case 'tool-call-delta': {
        this.sawContent = true;
        const map = (this.pendingTools ??= new Map());
        const t = map.get(part.index) ?? { id: '', name: '', arguments: '' };
        if (part.id) t.id = part.id;
        if (part.name) t.name = part.name;
        t.arguments += part.argumentsDelta;
        map.set(part.index, t);
        break;
      }
      case 'tool-call':
        this.sawContent = true;
        this.toolCalls.push(part.toolCall);
        this.pendingTools?.delete(part.index);
        break;
      case 'usage':
        this.usage = part.usage;
        break;
      case 'response-metadata':
        if (part.id) this.id = part.id;
        if (part.model) this.model = part.model;
        break;
      case 'finish':
        this.finishReason = part.finishReason;
        if (typeof part.stopSequence === 'string') this.stopSequence = part.stopSequence;
        if (part.usage && (part.usage.totalTokens > 0 || part.usage.inputTokens > 0 || part.usage.outputTokens > 0 || !this.usage)) {
          this.usage = part.usage;
        }
        break;
      case 'warnings':
        // A plain-JS engine may hand anything here: a warnings part is never a reason to fail an answer.
        if (Array.isArray(part.warnings) && part.warnings.length > 0) this.warnings = this.warnings ? [...this.warnings, ...part.warnings] : part.warnings;
        break;
      case 'logprobs':
        // As for warnings: a malformed part from a plain-JS engine adds nothing rather than failing the answer.
        if (Array.isArray(part.logprobs)) for (const token of part.logprobs) (this.logprobs ??= []).push(token);
        break;
      case 'error':
        this.error = part.error;
        break;
    }
  }

  /**
   * What an answer cut off before its end (a broken or abandoned stream) consumed, as the gateway's ledger bills it
   * (`partialUsage`, over the same text: everything that came, tool names included). Leaves the accumulator as it is.
   */
  partialUsage(maxTokens: number | undefined): Usage | undefined {
    let produced = this.text + this.refusal + this.reasoning;
    for (const t of this.toolCalls) produced += t.name + t.arguments;
    if (this.pendingTools) for (const t of this.pendingTools.values()) produced += t.name + t.arguments;
    return partialUsage(this.usage, produced, maxTokens, this.estimatedInputTokens);
  }

  /** The folded result; usage estimated (and marked) when the engine reported none. */
  result(): GenerateResult {
    // Tool calls that only came as deltas (no closing `tool-call` part) still count.
    if (this.pendingTools) for (const t of this.pendingTools.values()) if (t.name) this.toolCalls.push({ ...t });
    const usage = completeUsage(this.usage, this.text + this.refusal, this.reasoning, this.toolCalls, this.estimatedInputTokens);
    const out: GenerateResult = { text: this.text, toolCalls: this.toolCalls, finishReason: this.finishReason ?? 'other', usage };
    if (this.stopSequence !== undefined) out.stopSequence = this.stopSequence;
    if (this.refusal) out.refusal = this.refusal;
    if (this.id !== undefined) out.id = this.id;
    if (this.model !== undefined) out.providerModel = this.model;
    if (this.reasoning) out.reasoning = this.reasoning;
    const reasoningParts = this.reasoningBlocks.parts();
    if (reasoningParts) out.reasoningParts = reasoningParts;
    if (this.warnings) out.warnings = this.warnings;
    if (this.logprobs) out.logprobs = this.logprobs;
    return out;
  }
}

/**
 * The usage to report: the engine's, or (when it reported none, or no output for a non-empty answer) a local estimate
 * marked `estimated`: the output from the answer; the input as reported (with its prompt-cache counts), else estimated
 * too. An output of 0 for a non-empty answer is no count (Anthropic-compatible streams whose `message_delta` has no
 * usage). Shared by `generate` and `stream` so both cost the same.
 */
export function completeUsage(
  usage: Usage | undefined,
  text: string,
  reasoning: string | undefined,
  toolCalls: readonly ToolCall[],
  estimatedInputTokens: () => number,
): Usage {
  if (usage && (usage.outputTokens > 0 || !(text || reasoning || toolCalls.length > 0))) return usage;
  const reported = usage !== undefined && usage.inputTokens > 0 ? usage : undefined;
  const input = reported ? reported.inputTokens : estimatedInputTokens();
  let output = estimateTokens(text) + (reasoning ? estimateTokens(reasoning) : 0);
  for (const t of toolCalls) output += estimateTokens(t.arguments);
  const out: Usage = { inputTokens: input, outputTokens: output, totalTokens: input + output, estimated: true };
  if (reported?.cachedInputTokens !== undefined) out.cachedInputTokens = reported.cachedInputTokens;
  if (reported?.cacheWriteInputTokens !== undefined) out.cacheWriteInputTokens = reported.cacheWriteInputTokens;
  if (reported?.cacheWrite1hInputTokens !== undefined) out.cacheWrite1hInputTokens = reported.cacheWrite1hInputTokens;
  return out;
}
