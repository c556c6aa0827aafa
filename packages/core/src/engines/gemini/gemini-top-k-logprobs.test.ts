import { describe, expect, it } from 'vitest';
import type { GenerateRequest, StreamPart, TokenLogprob } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { geminiWireLogprobs } from '../../test/gemini-wire-server.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// topK -> generationConfig.topK; logprobs -> responseLogprobs (+ logprobs N top candidates); the answer's
// logprobsResult -> result.logprobs and `logprobs` stream parts right after the text they are of; verbosity: no
// Gemini field, warned. Against the local wire server, whose log probabilities are its own test numbers
// (`geminiWireLogprobs`) and which refuses what the API refuses (logprobs outside 0..20; models without logprobs).

const wire = useGeminiWireServer({ logprobsRefused: (model) => model === 'gemini-2.5-pro' });
const { engine, lastBody } = wire;

const ask = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'count to three' }], ...extra });
const config = () => lastBody().generationConfig as Record<string, unknown>;
/** The wire server's numbers for token k: -((k % 4) + 1) / 8. */
const lp = (k: number) => -((k % 4) + 1) / 8;

describe('gemini topK', () => {
  it('is sent as generationConfig.topK, no warning', async () => {
    const r = await engine().generate(ask({ topK: 12 }));
    expect(config().topK).toBe(12);
    expect(r.warnings).toBeUndefined();
  });

  it('providerOptions.gemini.generationConfig.topK replaces it (setting_changed), or removes it (setting_not_sent)', async () => {
    const changed = await engine().generate(ask({ topK: 12, providerOptions: { gemini: { generationConfig: { topK: 3 } } } }));
    expect(config().topK).toBe(3);
    expect(changed.warnings).toEqual([{ code: 'setting_changed', field: 'topK', message: expect.stringContaining('providerOptions.gemini.generationConfig.topK') }]);
    const removed = await engine().generate(ask({ topK: 12, providerOptions: { gemini: { generationConfig: { topK: undefined } } } }));
    expect(config()).not.toHaveProperty('topK');
    expect(removed.warnings?.map((w) => [w.code, w.field])).toEqual([['setting_not_sent', 'topK']]);
  });
});

describe('gemini verbosity', () => {
  it('is not sent, and warned in generate and stream', async () => {
    const r = await engine().generate(ask({ verbosity: 'high' }));
    expect(r.warnings).toEqual([{ code: 'setting_not_sent', field: 'verbosity', message: 'verbosity was not sent: Gemini has no verbosity setting.' }]);
    expect(JSON.stringify(lastBody())).not.toContain('erbosity');
    const parts = await collect(engine().stream(ask({ verbosity: 'high' })));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: r.warnings });
  });
});

describe('gemini logprobs', () => {
  it('asked without topLogprobs: responseLogprobs only; the chosen tokens come back as TokenLogprob[] joined to the text', async () => {
    wire.server.enqueue({ parts: 'one two three' });
    const r = await engine().generate(ask({ logprobs: {} }));
    expect(config()).toMatchObject({ responseLogprobs: true });
    expect(config()).not.toHaveProperty('logprobs');
    expect(r.logprobs).toEqual([
      { token: 'one ', logprob: lp(0) },
      { token: 'two ', logprob: lp(1) },
      { token: 'three', logprob: lp(2) },
    ]);
    expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
    expect(r.warnings).toBeUndefined();
  });

  it('with topLogprobs N: logprobs N sent, topCandidates -> topLogprobs (most likely first)', async () => {
    wire.server.enqueue({ parts: 'a b' });
    const r = await engine().generate(ask({ logprobs: { topLogprobs: 3 } }));
    expect(config()).toMatchObject({ responseLogprobs: true, logprobs: 3 });
    expect(r.logprobs![1]).toEqual({
      token: 'b',
      logprob: lp(1),
      topLogprobs: [
        { token: 'b', logprob: lp(1) },
        { token: 'alt1', logprob: lp(1) - 1 },
        { token: 'alt2', logprob: lp(1) - 2 },
      ],
    });
  });

  it('not asked: nothing sent, none returned', async () => {
    const r = await engine().generate(ask());
    expect(config() ?? {}).not.toHaveProperty('responseLogprobs');
    expect(r.logprobs).toBeUndefined();
  });

  it('stream: each chunk\'s tokens in a logprobs part right after that chunk\'s text-delta; all of them are the generate result\'s', async () => {
    const reply = { parts: 'the quick brown fox jumps', chunks: 3 };
    wire.server.enqueue(reply, reply);
    const parts = await collect(engine().stream(ask({ logprobs: { topLogprobs: 1 } })));
    const body = parts.filter((p) => p.type === 'text-delta' || p.type === 'logprobs');
    expect(body.map((p) => p.type)).toEqual(['text-delta', 'logprobs', 'text-delta', 'logprobs', 'text-delta', 'logprobs']);
    for (let i = 0; i < body.length; i += 2) {
      const text = body[i] as Extract<StreamPart, { type: 'text-delta' }>;
      const probs = body[i + 1] as Extract<StreamPart, { type: 'logprobs' }>;
      expect(probs.logprobs.map((t) => t.token).join('')).toBe(text.delta);
    }
    const streamed: TokenLogprob[] = body.flatMap((p) => (p.type === 'logprobs' ? p.logprobs : []));
    expect(streamed.map((t) => t.logprob)).toEqual(streamed.map((_, k) => lp(k)));
    expect(streamed.every((t) => t.topLogprobs?.length === 1)).toBe(true);
    const whole = await engine().generate(ask({ logprobs: { topLogprobs: 1 } }));
    expect(whole.logprobs!.map((t) => t.logprob)).toEqual(streamed.map((t) => t.logprob));
  });

  it('a chunk with text and a function call: the logprobs part follows the text-delta, not the call', async () => {
    wire.server.enqueue({ parts: [{ text: 'calling ' }, { functionCall: { name: 'f', args: {} } }] });
    const tools = [{ name: 'f', parameters: { type: 'object' } }];
    const parts = await collect(engine().stream(ask({ logprobs: {}, tools })));
    const types = parts.map((p) => p.type);
    expect(types.indexOf('logprobs')).toBe(types.indexOf('text-delta') + 1);
  });

  it('a model that refuses logprobs (400 "Logprobs is not enabled"): asked once more without them, answered, and warned', async () => {
    const e = engine({ model: 'gemini-2.5-pro' });
    const before = wire.server.requests.length;
    const r = await e.generate(ask({ logprobs: { topLogprobs: 2 } }));
    expect(r.text).toContain('Echo');
    expect(r.logprobs).toBeUndefined();
    expect(r.warnings).toEqual([{ code: 'setting_not_sent', field: 'logprobs', message: expect.stringContaining('gemini-2.5-pro gives no log probabilities') }]);
    const sent = wire.server.requests.slice(before).map((q) => (q.body as { generationConfig?: Record<string, unknown> }).generationConfig ?? {});
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ responseLogprobs: true, logprobs: 2 });
    expect(sent[1]).not.toHaveProperty('responseLogprobs');
    expect(sent[1]).not.toHaveProperty('logprobs');
    // The engine remembers the refusal: the next call (generate or stream) goes once, without them, and warns.
    const again = wire.server.requests.length;
    expect((await e.generate(ask({ logprobs: {} }))).warnings?.map((w) => [w.code, w.field])).toEqual([['setting_not_sent', 'logprobs']]);
    const parts = await collect(e.stream(ask({ logprobs: {} })));
    expect(parts[0]).toMatchObject({ type: 'warnings', warnings: [{ code: 'setting_not_sent', field: 'logprobs' }] });
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(wire.server.requests.slice(again).map((q) => JSON.stringify(q.body))).toEqual([expect.not.stringContaining('ogprobs'), expect.not.stringContaining('ogprobs')]);
    // A model that gives them still gets them.
    expect((await engine().generate(ask({ logprobs: {} }))).logprobs).toBeDefined();
  });

  it('another 400 is not retried: it arrives as the error', async () => {
    const before = wire.server.requests.length;
    const error = await rejection(engine({ model: 'gemini-2.5-pro' }).generate(ask({ logprobs: {}, providerOptions: { gemini: { generationConfig: { logprobs: 21 } } } })));
    expect(error).toMatchObject({ code: 'invalid_request', statusCode: 400 });
    expect(wire.server.requests.length - before).toBe(1);
  });

  it('a model that refuses logprobs, streamed first: the stream still answers, the warning first', async () => {
    const parts = await collect(engine({ model: 'gemini-2.5-pro' }).stream(ask({ logprobs: { topLogprobs: 2 } })));
    expect(parts[0]).toMatchObject({ type: 'warnings', warnings: [{ code: 'setting_not_sent', field: 'logprobs' }] });
    expect(parts.some((p) => p.type === 'logprobs')).toBe(false);
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
  });

  it('providerOptions that turn responseLogprobs off: setting_not_sent logprobs, none returned', async () => {
    const r = await engine().generate(ask({ logprobs: { topLogprobs: 2 }, providerOptions: { gemini: { generationConfig: { responseLogprobs: false } } } }));
    expect(config().responseLogprobs).toBe(false);
    expect(r.warnings?.map((w) => [w.code, w.field])).toEqual([['setting_not_sent', 'logprobs']]);
    expect(r.logprobs).toBeUndefined();
  });
});

describe('gemini wire server: log probabilities', () => {
  it('refuses logprobs outside 0..20 with a 400, as the API does', async () => {
    for (const logprobs of [21, -1, 2.5]) {
      const error = await rejection(engine().generate(ask({ providerOptions: { gemini: { generationConfig: { responseLogprobs: true, logprobs } } } })));
      expect(error).toMatchObject({ code: 'invalid_request' });
      expect(error.message).toContain('logprobs');
    }
  });

  it('its numbers: token k has -((k % 4) + 1) / 8, ids from the given start, the sum of the chosen', () => {
    const { result, count } = geminiWireLogprobs('x y z w v', 2, 0);
    expect(count).toBe(5);
    const chosen = result.chosenCandidates as Array<{ token: string; tokenId: number; logProbability: number }>;
    expect(chosen.map((c) => c.logProbability)).toEqual([2, 3, 4, 5, 6].map(lp));
    expect(chosen.map((c) => c.tokenId)).toEqual([2, 3, 4, 5, 6]);
    expect(result.logProbabilitySum).toBeCloseTo(chosen.reduce((s, c) => s + c.logProbability, 0), 12);
    expect(result).not.toHaveProperty('topCandidates');
  });
});
