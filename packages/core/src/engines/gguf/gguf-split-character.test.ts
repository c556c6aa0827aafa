import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { hasStoriesModel, storiesEngineForSuite } from './stories-model.test-helpers.js';

// The gguf engine on a character split across byte tokens, against the real stories260K model. A JSON schema grammar
// forces it to write "x\u00e9\u65e5y": "\u65e5" (3 UTF-8 bytes) is not in its 512-token vocabulary and comes as three
// byte tokens. The engine decodes the sampled tokens itself, so a stop that ends in such a character ends the answer
// at the token that completes it, and maxTokens caps the tokens sampled even inside one (node-llama-cpp 3.21.1 holds
// a token whose text ends in U+FFFD until the next one, and skips its own maxTokens check after it). A character
// the cap falls inside is not sent: the text never holds a broken character.

const schema = { type: 'object', properties: { a: { type: 'string', enum: ['x\u00e9\u65e5y'] } }, required: ['a'] };
const base: GenerateRequest = {
  messages: [{ role: 'user', content: 'Once upon a time' }],
  maxTokens: 40,
  responseFormat: { type: 'json_schema', name: 's', schema } as GenerateRequest['responseFormat'],
};

describe.skipIf(!hasStoriesModel)('gguf, a character split across tokens (stories260K)', () => {
  const engine = storiesEngineForSuite();

  it('a stop ending in a split character stops the generation at the token that completed it (usage counts up to it)', async () => {
    // The tokens up to and including the last byte of "\u65e5": the logprobs of an answer that goes past it list one
    // entry per sampled token ('' for the bytes that end inside the character).
    const past = await engine().generate({ ...base, stop: ['y"'], logprobs: {} });
    expect(past.text).toBe('{ "a": "x\u00e9\u65e5');
    const upToStop = past.logprobs!.length;
    expect(past.logprobs!.at(-1)!.token).toBe('\u65e5');
    const stopped = await engine().generate({ ...base, stop: ['\u65e5'] });
    expect(stopped.text).toBe('{ "a": "x\u00e9');
    expect(stopped.stopSequence).toBe('\u65e5');
    // docs/core/gguf.md: "the generation stops at the token that completed it"; the changeset: "usage.outputTokens
    // counts the tokens generated up to the stop's last one".
    expect(stopped.usage.outputTokens).toBe(upToStop);
  });

  it('maxTokens caps the tokens generated when the cap falls inside a split character (usage never above maxTokens)', async () => {
    // "\u65e5"'s first byte is the 10th token, its last the 12th: node-llama-cpp puts a token whose own text ends in
    // U+FFFD aside and samples the next one before it looks at maxTokens; the engine counts the tokens itself.
    for (const [maxTokens, text] of [
      [10, '{ "a": "x\u00e9'], // the cap falls inside "\u65e5": its first byte is not sent
      [12, '{ "a": "x\u00e9\u65e5'],
    ] as const) {
      const cut = await engine().generate({ ...base, maxTokens });
      expect(cut.finishReason).toBe('length');
      expect({ maxTokens, outputTokens: cut.usage.outputTokens, text: cut.text }).toEqual({ maxTokens, outputTokens: maxTokens, text });
      // Its logprobs: one per token of the text sent (the unsent bytes' tokens are not listed), joined they are the text.
      const withLogprobs = await engine().generate({ ...base, maxTokens, logprobs: {} });
      expect(withLogprobs.text).toBe(text);
      expect(withLogprobs.logprobs!.map((t) => t.token).join('')).toBe(text);
    }
  });
});
