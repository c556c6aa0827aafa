import { describe, expect, it } from 'vitest';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { hasStoriesModel, storiesEngine, storiesEngineForSuite, storiesModelFile, warnIfNoStoriesModel } from './stories-model.test-helpers.js';

// The request's stop sequences on the gguf engine, against the real stories260K model (node-llama-cpp on the CPU):
// the engine matches them on the decoded text itself, as an OpenAI-compatible server does: the answer ends before
// the first stop (finishReason 'stop'), text that only looked like the start of a stop is sent, and the output
// tokens are those generated, the stop's included. The answer is decoded after the prompt's end, so its first
// SentencePiece token keeps its leading space and a stop that begins with a space can match it.

warnIfNoStoriesModel('gguf stop sequences');
const suite = hasStoriesModel ? 'gguf stop sequences (stories260K)' : `gguf stop sequences (SKIPPED: ${storiesModelFile} not found; set LLMRR_SHARED_DIR)`;

const prompt = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: text }], ...extra });

const streamedText = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');

describe.skipIf(!hasStoriesModel)(suite, () => {
  const engine = storiesEngineForSuite();

  it('a stop sequence that never occurs does not cut the end of an answer that stops at maxTokens', async () => {
    // Greedy, so the same prompt gives the same tokens: ", there was a little girl named" at 9 tokens.
    const plain = await engine().generate(prompt('Once upon a time', { maxTokens: 9 }));
    expect(plain.finishReason).toBe('length');
    // A stop sequence whose first character is the answer's last one, and which never occurs in it: the end of
    // the answer could begin it, so it is held back until the answer ends, and then sent.
    const stop = `${plain.text.at(-1)}!`;
    expect(plain.text).not.toContain(stop);

    const stopped = await engine().generate(prompt('Once upon a time', { maxTokens: 9, stop: [stop] }));
    expect(stopped.finishReason).toBe('length');
    expect(stopped.stopSequence).toBeUndefined();
    expect(stopped.usage.outputTokens).toBe(plain.usage.outputTokens);
    expect(stopped.text).toBe(plain.text);

    const parts = await collect(engine().stream(prompt('Once upon a time', { maxTokens: 9, stop: [stop] })));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'length' });
    expect(streamedText(parts)).toBe(plain.text);
  });

  it('a stop sequence with a space in it stops the answer and is not returned in the text', async () => {
    // Greedy: ", there was a little girl named Lily. She loved to play ..." (60 tokens).
    const plain = await engine().generate(prompt('Once upon a time', { maxTokens: 60 }));
    expect(plain.text).toContain('girl named');
    const stopped = await engine().generate(prompt('Once upon a time', { maxTokens: 60, stop: ['girl named'] }));
    // As with any OpenAI-compatible server: the text ends before the stop sequence, with finishReason 'stop'.
    expect(stopped.text).toBe(plain.text.slice(0, plain.text.indexOf('girl named')));
    expect(stopped.finishReason).toBe('stop');
    // Generation stopped at the stop's last token (", there was a little girl named": 9 tokens), which count.
    expect(stopped.usage.outputTokens).toBe(9);
    const parts = await collect(engine().stream(prompt('Once upon a time', { maxTokens: 60, stop: ['girl named'] })));
    expect(streamedText(parts)).toBe(stopped.text);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', stopSequence: 'girl named', usage: { outputTokens: 9 } });
  });

  it('a stop that begins inside a token keeps the text before it, leading space included', async () => {
    // Greedy tokens ",", " there", ...: the stop "ere" begins inside " there", whose " th" is kept.
    const r = await engine().generate(prompt('Once upon a time', { maxTokens: 12, stop: ['ere', 'never'] }));
    expect(r.text).toBe(', th');
    expect(r.finishReason).toBe('stop');
    expect(r.stopSequence).toBe('ere');
    expect(r.usage.outputTokens).toBe(2);
  });

  it('logprobs list the tokens of the kept text only: none of the stop or after it', async () => {
    const r = await engine().generate(prompt('Once upon a time', { maxTokens: 60, stop: ['girl named'], logprobs: {} }));
    expect(r.text).toBe(', there was a little ');
    const tokens = r.logprobs!.map((t) => t.token);
    expect(tokens.join('')).toBe(r.text);
    // " girl", which the stop begins inside, is listed with its kept space; " named" is not listed.
    expect(tokens).toEqual([',', ' there', ' was', ' a', ' little', ' ']);
  });

  it('a stop sequence that is the first generated token with its leading space stops the answer at once', async () => {
    // Greedy: the model's first token after "Once upon a" is "\u2581time" (the prompt + answer reads "Once upon a time, ...").
    const loaded = await (engine() as unknown as { loaded(): Promise<{ model: { tokenize(t: string): number[]; detokenize(t: number[]): string } }> }).loaded();
    const plain = await engine().generate(prompt('Once upon a', { maxTokens: 8 }));
    // The answer reads as it does after the prompt: " time, ...", its leading space kept.
    expect(plain.text.startsWith(' time,')).toBe(true);
    // "Once upon a time" is the prompt's tokens plus one, whose text after the prompt is " time" (with its space).
    const promptTokens = loaded.model.tokenize('Once upon a');
    const withTime = loaded.model.tokenize('Once upon a time');
    expect(withTime.slice(0, promptTokens.length)).toEqual(promptTokens);
    expect(withTime.length).toBe(promptTokens.length + 1);
    expect(loaded.model.detokenize(withTime).slice(loaded.model.detokenize(promptTokens).length)).toBe(' time');
    // As an OpenAI-compatible server answers: the stop " time" is the answer's start, so nothing is kept; the one
    // token generated counts.
    const stopped = await engine().generate(prompt('Once upon a', { maxTokens: 8, stop: [' time'] }));
    expect({ text: stopped.text, finishReason: stopped.finishReason, stopSequence: stopped.stopSequence }).toEqual({ text: '', finishReason: 'stop', stopSequence: ' time' });
    expect(stopped.usage.outputTokens).toBe(1);
    const parts = await collect(engine().stream(prompt('Once upon a', { maxTokens: 8, stop: [' time'] })));
    expect(streamedText(parts)).toBe('');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', stopSequence: ' time' });
  });

  it('text a chat template\'s end-of-turn marker could begin is held back, and sent when the answer ends at maxTokens', async () => {
    // node-llama-cpp's "general" template ends a turn at the text "### Human"; a JSON schema makes the model write
    // "ab### Human cd", and the answer is cut at maxTokens 14, after "### H" (14 tokens), which could begin it.
    const general = storiesEngine({ chatTemplate: 'general' });
    try {
      const schema = { type: 'object', properties: { a: { type: 'string', enum: ['ab### Human cd'] } }, required: ['a'] };
      const request = prompt('Once upon a time', { maxTokens: 14, responseFormat: { type: 'json_schema', name: 's', schema } as GenerateRequest['responseFormat'] });
      const r = await general.generate(request);
      expect({ text: r.text, finishReason: r.finishReason, outputTokens: r.usage.outputTokens }).toEqual({ text: '{ "a": "ab### H', finishReason: 'length', outputTokens: 14 });
      expect(streamedText(await collect(general.stream(request)))).toBe(r.text);
    } finally {
      await general.close();
    }
  });
});
