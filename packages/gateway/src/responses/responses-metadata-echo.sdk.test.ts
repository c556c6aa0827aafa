import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';

// /v1/responses through a served gateway and the official client: `metadata` within OpenAI's limits (at most 16
// keys, keys of at most 64 characters, values of at most 512) is echoed in the response object, past them a 400
// naming the field with nothing sent upstream; `safety_identifier` and `top_logprobs` are echoed as sent (JSON
// and streamed), and absent when not sent.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt')]);

type Body = OpenAI.Responses.ResponseCreateParamsNonStreaming;
const create = (extra: Partial<Body>) => wire.gw.openai().responses.create({ model: 'gpt', input: 'Say hi', ...extra } as Body);
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));

describe('metadata', () => {
  it('16 keys, a 64-character key and a 512-character value: answered, echoed as sent', async () => {
    const sixteen = keys(16);
    expect((await create({ metadata: sixteen })).metadata).toEqual(sixteen);
    const longest = { ['k'.repeat(64)]: 'v'.repeat(512) };
    expect((await create({ metadata: longest })).metadata).toEqual(longest);
  });

  it.each([
    ['17 keys', keys(17), /16/],
    ['a 65-character key', { ['k'.repeat(65)]: 'v' }, /64/],
    ['a 513-character value', { k: 'v'.repeat(513) }, /512/],
  ])('%s: a 400 naming metadata, nothing sent upstream', async (_, metadata, limit) => {
    const r = await sdkRefusal(create({ metadata }));
    expect(r.status).toBe(400);
    expect(r.param).toMatch(/^metadata/);
    expect(r.message).toMatch(limit);
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });
});

describe('safety_identifier and top_logprobs', () => {
  it('are echoed as sent in the JSON answer', async () => {
    const res = await create({ safety_identifier: 'user-hash-1', top_logprobs: 3 });
    expect(res.safety_identifier).toBe('user-hash-1');
    expect(res.top_logprobs).toBe(3);
  });

  it('are echoed in the stream\'s response objects (created and completed)', async () => {
    const stream = await wire.gw.openai().responses.create({ model: 'gpt', input: 'Say hi', safety_identifier: 'user-hash-2', top_logprobs: 0, stream: true });
    const seen: Array<{ type: string; safety_identifier: unknown; top_logprobs: unknown }> = [];
    for await (const e of stream) {
      if (e.type === 'response.created' || e.type === 'response.completed') seen.push({ type: e.type, safety_identifier: e.response.safety_identifier, top_logprobs: e.response.top_logprobs });
    }
    expect(seen).toEqual([
      { type: 'response.created', safety_identifier: 'user-hash-2', top_logprobs: 0 },
      { type: 'response.completed', safety_identifier: 'user-hash-2', top_logprobs: 0 },
    ]);
  });

  it('null is echoed as null; not sent, they are absent', async () => {
    const nulls = await create({ safety_identifier: null, top_logprobs: null } as Partial<Body>);
    expect(nulls.safety_identifier).toBeNull();
    expect(nulls.top_logprobs).toBeNull();
    const none = await create({});
    expect(none).not.toHaveProperty('safety_identifier');
    expect(none).not.toHaveProperty('top_logprobs');
  });
});
