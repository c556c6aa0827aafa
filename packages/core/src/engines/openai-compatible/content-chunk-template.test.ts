import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamPart } from '../../spec/index.js';
import { ContentChunkTemplate, type TemplateField } from './content-chunk-template.js';
import { OpenAIStreamDecoder } from './openai-stream-decoder.js';
import type { OpenAIChatChunk } from './openai-wire-schemas.js';
import { readOpenAIChunk } from './read-openai-chunk.js';
import { seededRandom as random } from '../../util/seeded-random.js';

const envelope = { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1754123456, model: 'gpt-4o-mini', system_fingerprint: 'fp_1' };
const contentChunk = (content: string) => JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }] });

/** A reasoning model's thinking chunk, as DeepSeek sends it (`content: null` beside the reasoning). */
const reasoningChunk = (text: string, field: 'reasoning_content' | 'reasoning' = 'reasoning_content') =>
  JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: null, [field]: text }, logprobs: null, finish_reason: null }] });

function learn(data: string, field?: TemplateField): ContentChunkTemplate | undefined {
  const read = readOpenAIChunk(JSON.parse(data));
  if (!read.ok) throw new Error(read.issue);
  return ContentChunkTemplate.learn(data, read.chunk, field);
}

/** What the full parse reads from a chunk: its content, and the chunk with the content blanked (all else must match the learned one). */
function fullRead(data: string): { content: unknown; rest: string } | undefined {
  try {
    const chunk = JSON.parse(data) as OpenAIChatChunk;
    const delta = chunk.choices?.[0]?.delta;
    const content = delta?.content;
    if (delta) delta.content = '';
    return { content, rest: JSON.stringify(chunk) };
  } catch {
    return undefined;
  }
}


const pieces = ['a', ' ', 'é', '日本', '🦊', '"', '\\', '\n', '\t', '\u0001', '\u2028', '/', '}', ']', ',', ':', '"content":', '\\"'];

describe('ContentChunkTemplate', () => {
  const learned = contentChunk('Hello');
  const template = learn(learned)!;
  const [head, tail] = learned.split('"Hello"') as [string, string];

  it('learns from a content-only chunk and reads plain content without parsing', () => {
    expect(template).toBeDefined();
    expect(template.content(contentChunk(' world'))).toBe(' world');
    expect(template.content(contentChunk(''))).toBe('');
  });

  it('reads escaped content as JSON.parse does', () => {
    for (const s of ['a"b', 'back\\slash', 'line\nbreak', 'tab\t', '\u0001', 'é 🦊 日本', '\u2028']) {
      expect(template.content(contentChunk(s))).toBe(s);
    }
    // Escapes JSON.stringify never writes.
    expect(template.content(`${head}"caf\\u00e9 \\/ \\ud83e\\udd8a"${tail}`)).toBe('café / 🦊');
  });

  it('never reads what is not one string literal between its head and tail', () => {
    const misses = [
      `${head}"a","content":"b"${tail}`,
      `${head}"a"  ${tail}`,
      `${head}"abc${tail}`,
      `${head}abc"${tail}`,
      `${head}"a\u0001b"${tail}`.replace('\u0001', '\n'),
      `${head}"bad \\x escape"${tail}`,
      `${head}null${tail}`,
      `${head}"a\\"${tail}`,
      `${head}""`,
      contentChunk('x').replace('gpt-4o-mini', 'gpt-4o'),
      contentChunk('x').replace('"finish_reason":null', '"finish_reason":"stop"'),
      '[DONE]',
    ];
    for (const data of misses) expect(template.content(data), data).toBeUndefined();
  });

  it('agrees with JSON.parse on random chunks built from the head and tail (property test)', () => {
    const next = random(42);
    let matched = 0;
    for (let n = 0; n < 2000; n++) {
      let inner = '';
      const length = Math.floor(next() * 6);
      for (let i = 0; i < length; i++) inner += pieces[Math.floor(next() * pieces.length)];
      // Raw text (often not a valid literal) or a literal written by JSON.stringify.
      const literal = next() < 0.5 ? `"${inner}"` : JSON.stringify(inner);
      const data = `${head}${literal}${tail}`;
      const read = template.content(data);
      if (read === undefined) continue;
      matched++;
      const full = fullRead(data);
      expect(full, data).toBeDefined();
      expect(full!.content, data).toBe(read);
      expect(full!.rest, data).toBe(fullRead(learned)!.rest);
    }
    expect(matched).toBeGreaterThan(500);
  });

  it('learns only from chunks whose single content key is known for sure', () => {
    expect(learn(contentChunk('x').replace('"content":', '"content" : '))?.content(contentChunk('y').replace('"content":', '"content" : '))).toBe('y');
    const refused = [
      // A backslash outside the content: keys may be escaped, `"content"` may not be the delta's.
      JSON.stringify({ ...envelope, model: 'm\\1', choices: [{ index: 0, delta: { content: 'x' } }] }),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'x' } }] }).replace('"content"', '"cont\\u0065nt"'),
      // Two content keys, or the word as a value.
      JSON.stringify({ ...envelope, extra: { content: 'y' }, choices: [{ index: 0, delta: { content: 'x' } }] }),
      JSON.stringify({ ...envelope, model: 'content', choices: [{ index: 0, delta: { content: 'x' } }] }),
      // Not content-only.
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] }),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'x', refusal: 'no' } }] }),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'x', reasoning_content: 'r' } }] }),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'x' } }, { index: 1, delta: { content: 'y' } }] }),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'x' } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
    ];
    for (const data of refused) expect(learn(data), data).toBeUndefined();
  });
});

describe('ContentChunkTemplate for reasoning chunks', () => {
  it.each(['reasoning_content', 'reasoning'] as const)('learns a reasoning-only chunk by its field (%s) and reads other reasoning as JSON.parse does', (field) => {
    const template = learn(reasoningChunk('Hmm', field), field)!;
    expect(template).toBeDefined();
    for (const s of ['', ' so', 'a"b', 'back\\slash', 'line\nbreak', 'é 🦊 日本', '\u2028']) expect(template.content(reasoningChunk(s, field))).toBe(s);
    // Another field, the answer's text, or a chunk that is not the learned one: not read.
    const other = field === 'reasoning' ? 'reasoning_content' : 'reasoning';
    for (const data of [reasoningChunk('x', other), contentChunk('x'), reasoningChunk('x', field).replace('"finish_reason":null', '"finish_reason":"stop"')]) {
      expect(template.content(data), data).toBeUndefined();
    }
  });

  it('agrees with JSON.parse on random reasoning chunks built from the head and tail (property test)', () => {
    const learned = reasoningChunk('Hmm');
    const template = learn(learned, 'reasoning_content')!;
    const [head, tail] = learned.split('"Hmm"') as [string, string];
    const rest = (data: string) => {
      const chunk = JSON.parse(data) as OpenAIChatChunk;
      const text = chunk.choices![0]!.delta!.reasoning_content;
      chunk.choices![0]!.delta!.reasoning_content = '';
      return { text, rest: JSON.stringify(chunk) };
    };
    const next = random(7);
    let matched = 0;
    for (let n = 0; n < 2000; n++) {
      let inner = '';
      const length = Math.floor(next() * 6);
      for (let i = 0; i < length; i++) inner += pieces[Math.floor(next() * pieces.length)];
      const data = `${head}${next() < 0.5 ? `"${inner}"` : JSON.stringify(inner)}${tail}`;
      const read = template.content(data);
      if (read === undefined) continue;
      matched++;
      expect(rest(data), data).toEqual({ text: read, rest: rest(learned).rest });
    }
    expect(matched).toBeGreaterThan(500);
  });

  it('learns only from chunks whose one text is the reasoning of that field', () => {
    const refused: [string, TemplateField][] = [
      // Text in another field beside it, or the field's name twice.
      [JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: 'a', reasoning_content: 'r' } }] }), 'reasoning_content'],
      [JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { reasoning: 'a', reasoning_content: 'r' } }] }), 'reasoning_content'],
      [JSON.stringify({ ...envelope, model: 'reasoning_content', choices: [{ index: 0, delta: { reasoning_content: 'r' } }] }), 'reasoning_content'],
      // Not the chunk's field, or not reasoning-only.
      [reasoningChunk('r'), 'reasoning'],
      [reasoningChunk('r').replace('"logprobs":null', '"logprobs":{"content":[]}'), 'reasoning_content'],
    ];
    for (const [data, field] of refused) expect(learn(data, field), data).toBeUndefined();
  });
});

describe('OpenAIStreamDecoder with a learned template', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function decodeAll(events: string[]): StreamPart[] {
    const decoder = new OpenAIStreamDecoder({ provider: 'openai', estimateInputTokens: () => 5 });
    const parts = events.flatMap((e) => decoder.decode(e));
    return [...parts, ...decoder.end()];
  }

  it('gives the parts of the full parse for every chunk, whatever follows the learned one', () => {
    const events = [
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
      contentChunk('The'),
      contentChunk(' "quoted"'),
      contentChunk(''),
      // A chunk the template does not cover (a reasoning delta) in the middle.
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { reasoning_content: 'hmm' }, logprobs: null, finish_reason: null }] }),
      contentChunk(' end\n'),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
      JSON.stringify({ ...envelope, choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }),
      '[DONE]',
    ];
    const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
    expect(decodeAll(events)).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-9', model: 'gpt-4o-mini' },
      { type: 'text-delta', delta: 'The' },
      { type: 'text-delta', delta: ' "quoted"' },
      { type: 'reasoning-delta', delta: 'hmm' },
      { type: 'text-delta', delta: ' end\n' },
      { type: 'usage', usage: expect.objectContaining(usage) },
      { type: 'finish', finishReason: 'stop', usage: expect.objectContaining(usage) },
    ]);
  });

  it('still fails on a broken chunk after the template was learned', () => {
    const parts = decodeAll([contentChunk('a'), contentChunk('b'), `${contentChunk('c').slice(0, -2)}`]);
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'text-delta', 'error']);
    expect(parts.at(-1)).toMatchObject({ error: { code: 'invalid_response' } });
  });

  it('reads chunks that vary beyond their content (a per-chunk nonce) through the full parse', () => {
    const nonce = (content: string, i: number) => JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content } }], obfuscation: 'x'.repeat(i) });
    const events = Array.from({ length: 12 }, (_, i) => nonce(`w${i} `, i));
    const text = decodeAll(events)
      .map((p) => (p.type === 'text-delta' ? p.delta : ''))
      .join('');
    expect(text).toBe(Array.from({ length: 12 }, (_, i) => `w${i} `).join(''));
  });

  it("gives the parts of the full parse for a reasoning model's stream, reading its reasoning and its answer without JSON.parse once learned", () => {
    const thinking = ['Let', ' me', ' "think"', '', ' hard', '.'];
    const answer = ['The', ' answer', ' is', ' 4', '.'];
    const events = [
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: null }, logprobs: null, finish_reason: null }] }),
      ...thinking.map((t) => reasoningChunk(t)),
      ...answer.map((t) => JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { content: t, reasoning_content: null }, logprobs: null, finish_reason: null }] })),
      JSON.stringify({ ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
      '[DONE]',
    ];
    const parse = vi.spyOn(JSON, 'parse');
    const parts = decodeAll(events);
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-9', model: 'gpt-4o-mini' },
      ...thinking.filter((t) => t !== '').map((delta) => ({ type: 'reasoning-delta', delta })),
      ...answer.map((delta) => ({ type: 'text-delta', delta })),
      { type: 'finish', finishReason: 'stop', usage: expect.objectContaining({ estimated: true }) },
    ]);
    // Parsed: the role chunk, the first reasoning and the first answer chunk (each learned from, its literal checked
    // once more), the escaped reasoning literal, and the finish chunk; every other chunk is read through its template.
    expect(parse.mock.calls.length).toBeLessThanOrEqual(7);
  });
});
