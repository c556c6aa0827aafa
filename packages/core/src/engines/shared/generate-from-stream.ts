import { LLMError } from '../../errors/llm-error.js';
import type { GenerateResult, StreamPart, TokenLogprob } from '../../spec/index.js';

/**
 * The GenerateResult of a text-only stream: the text deltas joined, with the finish part's reason, usage
 * and stop sequence, and the `logprobs` parts' tokens in order (`logprobs`, when the stream had any). An `error` part is
 * thrown; a stream that ends without a finish part is an `internal` error.
 */
export async function generateFromStream(
  stream: AsyncIterable<StreamPart>,
  modelId: string,
  context: { provider: string; deployment: string },
): Promise<GenerateResult> {
  let text = '';
  let logprobs: TokenLogprob[] | undefined;
  for await (const part of stream) {
    if (part.type === 'text-delta') text += part.delta;
    else if (part.type === 'logprobs') (logprobs ??= []).push(...part.logprobs);
    else if (part.type === 'error') throw part.error;
    else if (part.type === 'finish') {
      const result: GenerateResult = { text, toolCalls: [], finishReason: part.finishReason, usage: part.usage, providerModel: modelId };
      if (part.stopSequence !== undefined) result.stopSequence = part.stopSequence;
      if (logprobs) result.logprobs = logprobs;
      return result;
    }
  }
  throw new LLMError({ code: 'internal', message: `${context.provider} stream ended without a finish part`, ...context });
}
