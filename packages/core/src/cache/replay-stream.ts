import type { ReasoningPart, StreamPart, TokenLogprob, Usage } from '../spec/index.js';
import type { CachedAnswer } from './cached-answer.js';

/**
 * Splits text into stream-sized chunks at word boundaries: each chunk is a word with the whitespace after
 * it (leading whitespace is its own chunk). Joining the chunks gives the text back exactly.
 */
export function splitWords(text: string): string[] {
  return text.match(/\s+|\S+\s*/gu) ?? [];
}

/**
 * Reasoning blocks as a live stream carries them: a block's text as word deltas, then its `signature` on a
 * closing part with an empty delta; a redacted block as one part with `redactedData`. Folding these parts
 * (`ReasoningBlocks`) gives the blocks back.
 */
function* replayReasoningParts(parts: readonly ReasoningPart[]): Iterable<StreamPart> {
  for (const part of parts) {
    if (part.redactedData !== undefined) {
      yield { type: 'reasoning-delta', delta: '', redactedData: part.redactedData };
      continue;
    }
    for (const delta of splitWords(part.text)) yield { type: 'reasoning-delta', delta };
    if (part.signature !== undefined && part.signature !== '') yield { type: 'reasoning-delta', delta: '', signature: part.signature };
  }
}

/**
 * The answer's text with its log probabilities, as a live stream carries them: each token's text as a
 * `text-delta`, right followed by a `logprobs` part with that token (a token without text: the `logprobs` part
 * alone). When the tokens do not spell the text (a provider that splits a character across tokens, or one that
 * returned tokens for part of it), the whole text as one delta and then every token in one part: the folded
 * result is the same either way.
 */
function* replayTextWithLogprobs(text: string, logprobs: readonly TokenLogprob[]): Iterable<StreamPart> {
  let spelled = '';
  for (const token of logprobs) spelled += token.token;
  if (spelled !== text) {
    if (text !== '') yield { type: 'text-delta', delta: text };
    yield { type: 'logprobs', logprobs: [...logprobs] };
    return;
  }
  for (const token of logprobs) {
    if (token.token !== '') yield { type: 'text-delta', delta: token.token };
    yield { type: 'logprobs', logprobs: [token] };
  }
}

/**
 * The prompt's part of a usage (output 0), as an engine reports it before the first content (the Anthropic
 * engine's `usage` part from the upstream's message_start): input and cache counts, no output or reasoning.
 */
function promptUsage(usage: Usage): Usage {
  const prompt: Usage = { ...usage, outputTokens: 0, totalTokens: usage.inputTokens };
  delete prompt.reasoningTokens;
  return prompt;
}

/**
 * Replays a cached answer as the stream an engine would have produced: `response-metadata`, a `usage` part
 * with the original usage's prompt part (input and cache counts, output 0, as an Anthropic upstream reports it
 * before the content; a consumer that shows a router cache hit's usage zeroes its cache counts, as for the
 * answer), the reasoning (its signed and redacted blocks, when kept, as a live stream sends them; else the
 * text) and the text as deltas split on word boundaries (token by token, each followed by its `logprobs` part,
 * when the answer kept log probabilities), the refusal (if any) as text deltas marked `refusal`, each tool call (one `tool-call-delta` carrying the
 * whole arguments, then the complete `tool-call`), and `finish` with the original usage (and stop sequence).
 */
export async function* replayAsStream(answer: CachedAnswer): AsyncIterable<StreamPart> {
  yield { type: 'response-metadata', model: answer.model, ...(answer.id !== undefined ? { id: answer.id } : {}) };
  yield { type: 'usage', usage: promptUsage(answer.usage) };
  if (answer.reasoningParts !== undefined && answer.reasoningParts.length > 0) yield* replayReasoningParts(answer.reasoningParts);
  else if (answer.reasoning) for (const delta of splitWords(answer.reasoning)) yield { type: 'reasoning-delta', delta };
  if (answer.logprobs !== undefined && answer.logprobs.length > 0) yield* replayTextWithLogprobs(answer.text, answer.logprobs);
  else for (const delta of splitWords(answer.text)) yield { type: 'text-delta', delta };
  if (answer.refusal) for (const delta of splitWords(answer.refusal)) yield { type: 'text-delta', delta, refusal: true };
  for (const [index, call] of answer.toolCalls.entries()) {
    yield { type: 'tool-call-delta', index, id: call.id, name: call.name, argumentsDelta: call.arguments };
    yield { type: 'tool-call', index, toolCall: { ...call } };
  }
  const finish: StreamPart = { type: 'finish', finishReason: answer.finishReason, usage: { ...answer.usage } };
  if (answer.stopSequence !== undefined) finish.stopSequence = answer.stopSequence;
  yield finish;
}
