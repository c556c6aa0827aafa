import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import type { GeminiWireReply, GeminiWireRequest } from '../../test/gemini-wire-server.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// Gemini 3 validates thought signatures strictly on the current turn (Google's "Thought signatures" guide,
// https://ai.google.dev/gemini-api/docs/thought-signatures): the first functionCall part of every model step since
// the last user text must carry its `thoughtSignature`, else 400 INVALID_ARGUMENT "Function call is missing a
// thought_signature in functionCall parts". For calls that have no signature (a history that came from another
// model or provider) the guide gives the sentinel "skip_thought_signature_validator". The engine gives back the
// signatures its in-process LRU holds; a tool turn it has none for (answered by another deployment, the router's
// fallback mid-conversation, or by another process or gateway replica) goes to a Gemini 3 model with the sentinel on
// its first call, and is accepted. Gemini 2.5 does not validate signatures and gets none.


const MISSING = 'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance.';

type Part = { text?: string; functionCall?: unknown; functionResponse?: unknown; thoughtSignature?: string };

/** Gemini 3's check of the current turn, then the answer. */
function gemini3(request: GeminiWireRequest): GeminiWireReply {
  const contents = ((request.body as { contents?: Array<{ role: string; parts: Part[] }> }).contents ?? []);
  let start = 0;
  contents.forEach((c, i) => {
    if (c.role === 'user' && c.parts.some((p) => typeof p.text === 'string')) start = i + 1;
  });
  for (const c of contents.slice(start)) {
    if (c.role !== 'model') continue;
    const first = c.parts.find((p) => p.functionCall !== undefined);
    if (first && !first.thoughtSignature) return { error: { status: 400, message: MISSING } };
  }
  const answered = contents.some((c) => c.parts.some((p) => p.functionResponse !== undefined));
  return answered
    ? { parts: 'It is sunny in Paris.' }
    : { parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnbmF0dXJlLTE=' }] };
}

const wire = useGeminiWireServer({ handler: gemini3 });
const tools: GenerateRequest['tools'] = [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];

function followUp(callId: string): GenerateRequest {
  return {
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, toolCalls: [{ id: callId, name: 'weather', arguments: '{"city":"Paris"}' }] },
      { role: 'tool', toolCallId: callId, content: '{"sky":"sunny"}' },
    ],
    tools,
  };
}

describe('gemini engine, Gemini 3: a tool turn this engine did not answer', () => {
  it('control: the same engine instance gives its own signature back, and the server takes the turn', async () => {
    const engine = wire.engine({ model: 'gemini-3-flash-preview' });
    const first = await engine.generate({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
    const answer = await engine.generate(followUp(first.toolCalls[0]!.id));
    expect(answer.text).toBe('It is sunny in Paris.');
  });

  it('the tool turn of another deployment (no signature to give back) is accepted', async () => {
    const engine = wire.engine({ model: 'gemini-3-flash-preview' });
    const answer = await engine.generate(followUp('call_from_openai_1')).catch((e: unknown) => e);
    expect(answer).toMatchObject({ text: 'It is sunny in Paris.' });
  });

  it('the tool turn answered by another process (its LRU holds the signature, this one does not) is accepted', async () => {
    const first = await wire.engine({ model: 'gemini-3-flash-preview' }).generate({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
    expect(first.toolCalls).toHaveLength(1);
    // A second replica of the same deployment (a gateway restart, or the next request landing on another process).
    const replica = wire.engine({ model: 'gemini-3-flash-preview' });
    const answer = await replica.generate(followUp(first.toolCalls[0]!.id)).catch((e: unknown) => e);
    expect(answer).toMatchObject({ text: 'It is sunny in Paris.' });
  });

  it('sends the sentinel on the first unsigned call of a turn only, and never on Gemini 2.5', async () => {
    const twoCalls: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' }, { id: 'c2', name: 'weather', arguments: '{"city":"Rome"}' }] },
        { role: 'tool', toolCallId: 'c1', content: '{"sky":"sunny"}' },
        { role: 'tool', toolCallId: 'c2', content: '{"sky":"rain"}' },
      ],
      tools,
    };
    const signatures = () => ((wire.lastBody().contents as Array<{ role: string; parts: Part[] }>)[1]!.parts).map((p) => p.thoughtSignature);
    await wire.engine({ model: 'gemini-3-flash-preview' }).generate(twoCalls);
    expect(signatures()).toEqual(['skip_thought_signature_validator', undefined]);
    // (This server validates as Gemini 3 does and refuses it; only what went out matters here.)
    await wire.engine({ model: 'gemini-2.5-flash' }).generate(twoCalls).catch(() => undefined);
    expect(signatures()).toEqual([undefined, undefined]);
  });
});
