import type { StreamPart } from '../spec/index.js';
import type { CachedAnswer } from './exact-cache.js';

/**
 * Splits text into stream-sized chunks at word boundaries: each chunk is a word with the whitespace after
 * it (leading whitespace is its own chunk). Joining the chunks gives the text back exactly.
 */
export function splitWords(text: string): string[] {
  return text.match(/\s+|\S+\s*/gu) ?? [];
}

/**
 * Replays a cached answer as the stream an engine would have produced: `response-metadata`, the reasoning
 * and the text as deltas split on word boundaries, each tool call (one `tool-call-delta` carrying the whole
 * arguments, then the complete `tool-call`), and `finish` with the original usage.
 */
export async function* replayAsStream(answer: CachedAnswer): AsyncIterable<StreamPart> {
  yield { type: 'response-metadata', model: answer.model, ...(answer.id !== undefined ? { id: answer.id } : {}) };
  if (answer.reasoning) for (const delta of splitWords(answer.reasoning)) yield { type: 'reasoning-delta', delta };
  for (const delta of splitWords(answer.text)) yield { type: 'text-delta', delta };
  for (const [index, call] of answer.toolCalls.entries()) {
    yield { type: 'tool-call-delta', index, id: call.id, name: call.name, argumentsDelta: call.arguments };
    yield { type: 'tool-call', index, toolCall: { ...call } };
  }
  yield { type: 'finish', finishReason: answer.finishReason, usage: { ...answer.usage } };
}
