import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../spec/messages.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// System messages with `providerOptions.anthropic.messages` / `.system` given verbatim: those replace the converted
// turns / top-level prompt, so a system message cannot go there; it is hoisted, or reported as not sent, never lost
// in silence (first found in the review of bc17e81).

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const conversation: ChatMessage[] = [
  { role: 'user', content: 'Q1' },
  { role: 'system', content: 'From now on answer in French.' },
];
/** The caller's own Anthropic messages, given verbatim: they replace the converted turns. */
const verbatim = { anthropic: { messages: [{ role: 'user', content: 'Bonjour?' }] } };
const codes = (warnings: Array<{ code: string; field?: string }> | undefined) => warnings?.map((w) => `${w.code} ${w.field}`);

describe('anthropic: a later system message with providerOptions.anthropic.messages given verbatim', () => {
  it('keeps the system message on Claude Opus 4.8 (in the top-level system, with a warning) as on every other model, instead of dropping it with the replaced turns', async () => {
    // Another model: the text goes to `system` (and a hoisted warning).
    await engine().generate({ messages: conversation, providerOptions: verbatim });
    expect(lastBody().system).toBe('From now on answer in French.');
    // Opus 4.8 takes it in place, but its place is among the converted turns, which the verbatim messages replace.
    const result = await engine({ model: 'claude-opus-4-8' }).generate({ messages: conversation, providerOptions: verbatim });
    expect(lastBody().messages).toEqual([{ role: 'user', content: 'Bonjour?' }]);
    expect(JSON.stringify(lastBody())).toContain('From now on answer in French.');
    expect(result.warnings?.map((w) => `${w.code} ${w.field}`)).toContain('system_message_hoisted messages.1');
  });

  it('says why on Opus 4.8: the verbatim messages replace the turns it would sit among', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({ messages: conversation, providerOptions: verbatim });
    expect(lastBody().system).toBe('From now on answer in French.');
    expect(result.warnings).toEqual([
      {
        code: 'system_message_hoisted',
        field: 'messages.1',
        message:
          'The system message was joined into the top-level system prompt instead of being sent in its place: providerOptions.anthropic.messages replaces the converted turns it would sit among.',
      },
    ]);
  });
});

describe('anthropic: system messages with providerOptions.anthropic.system given verbatim', () => {
  it('does not report a later system message as joined into the top-level system prompt when providerOptions.anthropic.system replaced that prompt', async () => {
    const result = await engine().generate({
      messages: [{ role: 'user', content: 'Q1' }, { role: 'assistant', content: 'A1' }, { role: 'user', content: 'Q2' }, { role: 'system', content: 'From now on answer in French.' }],
      providerOptions: { anthropic: { system: [{ type: 'text', text: 'Verbatim prompt.' }] } },
    });
    // The verbatim system replaced the converted one: the instruction is not in the body at all.
    expect(lastBody().system).toEqual([{ type: 'text', text: 'Verbatim prompt.' }]);
    expect(JSON.stringify(lastBody())).not.toContain('From now on answer in French.');
    for (const w of result.warnings ?? []) expect(w.message).not.toMatch(/joined into the top-level system prompt/);
    // It says what happened instead.
    expect(result.warnings).toEqual([
      {
        code: 'setting_not_sent',
        field: 'messages.3',
        message:
          'The system message was not sent: providerOptions.anthropic.system replaced the top-level system prompt, which it would have joined because this deployment does not take mid-conversation system messages (Claude Opus 4.8 does; options.midConversationSystem).',
      },
    ]);
  });

  it('reports each leading system message it replaced as not sent (an empty one carries nothing and is not reported)', async () => {
    const result = await engine().generate({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'system', content: '' },
        { role: 'system', content: 'Cite sources.', cacheControl: { type: 'ephemeral' } },
        { role: 'user', content: 'Q1' },
      ],
      providerOptions: { anthropic: { system: 'Verbatim prompt.' } },
    });
    expect(lastBody().system).toBe('Verbatim prompt.');
    expect(codes(result.warnings)).toEqual(['setting_not_sent messages.0', 'setting_not_sent messages.2']);
    expect(result.warnings![0]!.message).toBe('The system message was not sent: providerOptions.anthropic.system replaced the top-level system prompt it belongs to.');
  });

  it('on Opus 4.8 still sends a later system message in place (the verbatim system does not touch messages)', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({
      messages: conversation,
      providerOptions: { anthropic: { system: 'Verbatim prompt.' } },
    });
    expect(lastBody()).toMatchObject({ system: 'Verbatim prompt.', messages: [{ role: 'user' }, { role: 'system', content: 'From now on answer in French.' }] });
    expect(result.warnings).toBeUndefined();
  });

  it('with both given verbatim, a later system message has nowhere to go: not sent, and the warning says both', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({
      messages: conversation,
      providerOptions: { anthropic: { ...verbatim.anthropic, system: 'Verbatim prompt.' } },
    });
    expect(JSON.stringify(lastBody())).not.toContain('From now on answer in French.');
    expect(codes(result.warnings)).toEqual(['setting_not_sent messages.1']);
    expect(result.warnings![0]!.message).toMatch(/providerOptions\.anthropic\.system replaced .* because providerOptions\.anthropic\.messages replaces the converted turns/);
  });
});
