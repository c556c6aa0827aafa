import { describe, expect, it } from 'vitest';
import { replayAsStream } from '../../cache/replay-stream.js';
import { cachedAnswerOf } from '../../cache/cached-answer.js';
import { StreamAccumulator } from '../../router/stream-accumulator.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// The stop sequence an Anthropic answer ended on (`stop_reason: "stop_sequence"` with `stop_sequence`): finish reason
// `stop`, and the sequence as the result's `stopSequence` and the finish part's, which the router's stream fold and the
// caches keep. Against a local peer speaking the Messages wire format.

const wire = useAnthropicWireServer();
const { engine } = wire;

const counting: GenerateRequest = { messages: [{ role: 'user', content: 'Count' }], stop: ['three', 'four'], maxTokens: 50 };

describe('anthropic: the stop sequence an answer ended on', () => {
  it('generate: finishReason stop, stopSequence the sequence Anthropic named', async () => {
    wire.server.enqueue({ content: 'one two ', stopReason: 'stop_sequence', stopSequence: 'four' });
    const result = await engine().generate(counting);
    expect(wire.lastBody().stop_sequences).toEqual(['three', 'four']);
    expect(result).toMatchObject({ text: 'one two ', finishReason: 'stop', stopSequence: 'four' });
  });

  it('stream: the finish part carries it, and the router fold keeps it', async () => {
    wire.server.enqueue({ content: 'one two ', stopReason: 'stop_sequence', stopSequence: 'three', chunks: 2 });
    const parts = await collect(engine().stream(counting));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', stopSequence: 'three' });
    const fold = new StreamAccumulator(() => 0);
    for (const p of parts) fold.add(p);
    expect(fold.result()).toMatchObject({ finishReason: 'stop', stopSequence: 'three' });
  });

  it('an answer that ended on end_turn or max_tokens has none', async () => {
    wire.server.enqueue({ content: 'one two three four five' });
    wire.server.enqueue({ content: 'one two', stopReason: 'max_tokens' });
    const ended = await engine().generate(counting);
    const cut = await collect(engine().stream(counting));
    expect(ended.finishReason).toBe('stop');
    expect('stopSequence' in ended).toBe(false);
    expect(cut.at(-1)).toEqual(expect.objectContaining({ type: 'finish', finishReason: 'length' }));
    expect('stopSequence' in cut.at(-1)!).toBe(false);
  });

  it('a cached answer keeps it: the cache entry, and the replayed stream\u2019s finish part', async () => {
    wire.server.enqueue({ content: 'one two ', stopReason: 'stop_sequence' });
    const result = await engine().generate(counting);
    const entry = cachedAnswerOf({ ...result, deployment: 'claude', model: 'claude-test-1', provider: 'anthropic' }, 1);
    expect(entry.stopSequence).toBe('three');
    const replayed: StreamPart[] = await collect(replayAsStream(JSON.parse(JSON.stringify(entry)) as typeof entry));
    expect(replayed.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', stopSequence: 'three' });
  });
});
