import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../spec/stream-parts.js';
import { sseEvents } from '../../util/http.js';
import { decodeGeminiStream, type GeminiSseMessage } from './decode-gemini-stream.js';
import { geminiToolCallId } from './gemini-tool-call-id.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

async function replay(text: string, onThoughtSignature?: (id: string, s: string) => void): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const p of decodeGeminiStream(sseEvents(new Response(text)), { provider: 'gemini', onThoughtSignature })) parts.push(p);
  return parts;
}

async function* from(messages: GeminiSseMessage[]): AsyncGenerator<GeminiSseMessage> {
  for (const m of messages) yield m;
}

const text = (parts: StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');

describe('decodeGeminiStream: transcripts', () => {
  it('replays a text stream; usage comes from the last chunk, thinking tokens counted as output', async () => {
    const parts = await replay(fixture('gemini-text.sse'));
    expect(parts[0]).toEqual({ type: 'response-metadata', id: 'jAbWaPv9BcqbqtsPk5iqiQ0', model: 'gemini-2.5-flash' });
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(3);
    expect(text(parts)).toBe('AI learns patterns from large amounts of data and uses them to make predictions.');
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 8, outputTokens: 1038, totalTokens: 1046, reasoningTokens: 1021 },
    });
  });

  it('gives a whole function call a stable id and reports its thought signature', async () => {
    const signatures = new Map<string, string>();
    const parts = await replay(fixture('gemini-function-call.sse'), (id, s) => signatures.set(id, s));
    const call = parts.find((p) => p.type === 'tool-call');
    if (call?.type !== 'tool-call') throw new Error('no tool call');
    const args = { attendees: ['Bob', 'Alice'], date: '2025-03-27', time: '10:00', topic: 'Q3 planning' };
    expect(call.toolCall.name).toBe('schedule_meeting');
    expect(JSON.parse(call.toolCall.arguments)).toEqual(args);
    expect(call.toolCall.id).toBe(geminiToolCallId({ name: 'schedule_meeting', args }, 0, 'xQbWaKzZHo2Cz7IPxZLR8Qs'));
    expect(call.toolCall.id).toMatch(/^call_[0-9a-f]{16}$/);
    expect(parts.find((p) => p.type === 'tool-call-delta')).toMatchObject({ index: 0, id: call.toolCall.id, argumentsDelta: call.toolCall.arguments });
    expect(signatures.get(call.toolCall.id)).toBe('CiQB0e2Kb9jUH3Q4Yw==');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 117, outputTokens: 94, reasoningTokens: 58 } });
    // Replaying the same answer gives the same id.
    const again = (await replay(fixture('gemini-function-call.sse'))).find((p) => p.type === 'tool-call');
    expect(again).toEqual(call);
  });

  it('finishes a blocked prompt with content-filter', async () => {
    const parts = await replay(fixture('gemini-prompt-blocked.sse'));
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'content-filter', usage: { inputTokens: 12, outputTokens: 0, totalTokens: 12 } });
  });

  it('turns an error chunk after text into a final error part', async () => {
    const parts = await replay(fixture('gemini-overloaded.sse'));
    expect(text(parts)).toBe('AI learns patterns from');
    const last = parts.at(-1);
    if (last?.type !== 'error') throw new Error('expected error');
    expect(last.error).toMatchObject({ code: 'provider_unavailable', isRetryable: true, upstreamStatus: 503 });
    expect(last.error.message).toContain('overloaded');
  });
});

describe('decodeGeminiStream: edge cases', () => {
  const chunk = (body: object): GeminiSseMessage => ({ data: JSON.stringify(body) });
  const textChunk = chunk({ candidates: [{ content: { parts: [{ text: 'partial' }], role: 'model' }, index: 0 }], responseId: 'r' });

  it('a stream that ends without a finishReason is stream_interrupted', async () => {
    const parts: StreamPart[] = [];
    for await (const p of decodeGeminiStream(from([textChunk]), { provider: 'gemini' })) parts.push(p);
    expect(text(parts)).toBe('partial');
    const last = parts.at(-1);
    expect(last?.type === 'error' && last.error.code).toBe('stream_interrupted');
  });

  it('a source failure before the finishReason is stream_interrupted; after it, the answer is complete', async () => {
    async function* broken(withFinish: boolean): AsyncGenerator<GeminiSseMessage> {
      yield textChunk;
      if (withFinish) yield chunk({ candidates: [{ content: { parts: [{ text: '.' }] }, finishReason: 'MAX_TOKENS' }] });
      throw new TypeError('terminated');
    }
    const cut: StreamPart[] = [];
    for await (const p of decodeGeminiStream(broken(false), { provider: 'gemini' })) cut.push(p);
    expect(cut.at(-1)?.type === 'error' && (cut.at(-1) as { error: { code: string } }).error.code).toBe('stream_interrupted');
    const done: StreamPart[] = [];
    for await (const p of decodeGeminiStream(broken(true), { provider: 'gemini' })) done.push(p);
    expect(done.at(-1)).toMatchObject({ type: 'finish', finishReason: 'length' });
  });

  it('thought parts are reasoning; finish reasons map', async () => {
    const parts: StreamPart[] = [];
    const events = [
      chunk({ candidates: [{ content: { parts: [{ text: 'hmm', thought: true }] } }] }),
      chunk({ candidates: [{ content: { parts: [{ text: 'answer' }] }, finishReason: 'RECITATION' }] }),
    ];
    for await (const p of decodeGeminiStream(from(events), { provider: 'gemini' })) parts.push(p);
    expect(parts.filter((p) => p.type === 'reasoning-delta')).toEqual([{ type: 'reasoning-delta', delta: 'hmm' }]);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'content-filter' });
  });
});
