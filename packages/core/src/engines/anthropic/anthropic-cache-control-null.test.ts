import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/messages.js';
import { cacheControlProblem } from '../../test/anthropic-wire-server.js';
import type { AnthropicMessagesRequest } from './anthropic-api-types.js';
import { EXTENDED_CACHE_TTL_BETA, fitAnthropicCacheBreakpoints, hasOneHourCacheControl } from './anthropic-cache-control.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// `cache_control: null` on a block given verbatim through providerOptions.anthropic is "no mark" for Anthropic
// (@anthropic-ai/sdk TextBlockParam `cache_control?: CacheControlEphemeral | null`; the wire server skips it too)
// and for toAnthropicCacheControl: fitAnthropicCacheBreakpoints must neither count it as one of the 4 marks nor
// take it for a 5-minute mark that would demote a later 1-hour one (found in review of c0d31e0).

const wire = useAnthropicWireServer();
const { engine } = wire;

const last = () => wire.server.requests.at(-1)!;
const wire5 = { type: 'ephemeral' };
const wire1h = { type: 'ephemeral', ttl: '1h' };

describe('verbatim cache_control null is not a breakpoint', () => {
  it('keeps a 1-hour mark that follows a block whose cache_control is null (no 5-minute mark precedes it)', async () => {
    const system = [
      { type: 'text', text: 'A', cache_control: null },
      { type: 'text', text: 'B', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ];
    // The body as given is valid: the peer (like the API) ignores the null mark.
    expect(cacheControlProblem({ system, messages: [{ role: 'user', content: 'Hi' }] })).toBeUndefined();
    const request: GenerateRequest = { messages: [{ role: 'user', content: 'Hi' }], providerOptions: { anthropic: { system } } };
    await engine().generate(request);
    const body = last().body as Record<string, unknown>;
    expect(body.system).toEqual([
      { type: 'text', text: 'A', cache_control: null },
      { type: 'text', text: 'B', cache_control: wire1h },
    ]);
    expect(last().headers['anthropic-beta']).toBe(EXTENDED_CACHE_TTL_BETA);
  });

  it('does not give a null mark one of the 4 slots (four real marks all stay)', async () => {
    const system = [
      { type: 'text', text: 'A', cache_control: null },
      { type: 'text', text: 'B', cache_control: { type: 'ephemeral' } },
    ];
    const request: GenerateRequest = {
      tools: [{ name: 'calc', parameters: { type: 'object' }, cacheControl: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'u0', cacheControl: { type: 'ephemeral' } },
        { role: 'assistant', content: 'a1', cacheControl: { type: 'ephemeral' } },
        { role: 'user', content: 'u2' },
      ],
      providerOptions: { anthropic: { system } },
    };
    await engine().generate(request);
    const body = last().body as Record<string, unknown>;
    // 4 real marks (tool, B, u0, a1): within the limit, none should be dropped.
    expect(body.tools).toEqual([{ name: 'calc', input_schema: { type: 'object' }, cache_control: wire5 }]);
    expect(cacheControlProblem(body)).toBeUndefined();
  });

  it('fits the marks around null ones without touching them (unit: slots, TTL order, 1h detection)', () => {
    const body = {
      model: 'claude-test-1',
      max_tokens: 10,
      system: [
        { type: 'text', text: 'S0', cache_control: { type: 'ephemeral', ttl: '1h' } },
        { type: 'text', text: 'S1', cache_control: null },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'u0', cache_control: null }, { type: 'text', text: 'u1', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        { role: 'assistant', content: [{ type: 'text', text: 'a0', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: [{ type: 'text', text: 'u2', cache_control: { type: 'ephemeral' } }] },
      ],
    } as unknown as AnthropicMessagesRequest;
    fitAnthropicCacheBreakpoints(body);
    // 4 real marks: all kept, both 1h marks precede every 5m one; the null marks stay as given.
    expect(body).toMatchObject({
      system: [{ cache_control: wire1h }, { cache_control: null }],
      messages: [
        { content: [{ cache_control: null }, { cache_control: wire1h }] },
        { content: [{ cache_control: wire5 }] },
        { content: [{ cache_control: wire5 }] },
      ],
    });
    expect(cacheControlProblem(body)).toBeUndefined();
    expect(hasOneHourCacheControl(body)).toBe(true);
    const onlyNull = { system: [{ type: 'text', text: 'S', cache_control: null }], messages: [] } as unknown as AnthropicMessagesRequest;
    expect(hasOneHourCacheControl(onlyNull)).toBe(false);
  });
});
