import type Anthropic from '@anthropic-ai/sdk';
import { parseList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { claudeOverWire } from '../test-support/claude-over-wire.js';
import { send } from '../test-support/raw-http.js';
import { readWarnings } from '../test-support/read-warnings.js';

// /v1/messages with an `anthropic-beta` header (the official client's beta resource, `client.beta.messages`, as Claude
// Code uses it): the gateway applies no beta and passes none on, so the call is served as without the header. The betas
// that ask for something the gateway does not do (interleaved thinking, fine-grained tool streaming, the 1M context, an
// unknown one) are named in one `setting_not_sent` warning naming `anthropic-beta` (not a 400: clients send betas with
// every request); those it honours (prompt caching, the 1-hour cache TTL, token counting) or that change nothing it
// serves (Claude Code's own, OAuth, other APIs', ones that only unlock a field that has its own warning or 400) say
// nothing. A long list is cut with "..." so that the message still fits x-llmrr-warnings' 200-character bound; names
// the x-llmrr-warnings sf-string must escape or replace are escaped in it.

const wire = claudeOverWire();

const ask = { model: 'claude', max_tokens: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };

/** A call on the beta resource with these betas (and `extra` body fields), answered "Hello" upstream: its data and response. */
function withBetas(betas: string[], extra: Partial<Anthropic.Beta.Messages.MessageCreateParamsNonStreaming> = {}) {
  wire.claudeUp.enqueue({ content: 'Hello' });
  return wire.gw
    .anthropic()
    .beta.messages.create({ ...ask, ...extra, betas: betas as never })
    .withResponse();
}

describe('anthropic-beta: the betas not acted on are said', () => {
  it('betas on the beta resource: answered, one setting_not_sent warning naming anthropic-beta and the values, nothing passed on', async () => {
    const { data, response } = await withBetas(['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07']);
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'Hello' });
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    expect(header).toContain('interleaved-thinking-2025-05-14,context-1m-2025-08-07');
    expect(wire.claudeUp.requests).toHaveLength(1);
    expect(wire.claudeUp.requests[0]!.headers['anthropic-beta']).toBeUndefined();
  });

  it('streamed: the same warning in the headers of the 200', async () => {
    const { response } = await wire.gw
      .anthropic()
      .beta.messages.create({ ...ask, stream: true, betas: ['fine-grained-tool-streaming-2025-05-14'] })
      .withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'anthropic-beta']]);
    await response.text();
  });

  it('only the betas not acted on are named: honoured and quiet ones are left out', async () => {
    const { response } = await withBetas(['prompt-caching-2024-07-31', 'context-1m-2025-08-07', 'oauth-2025-04-20', 'some-new-beta-2030-01-01']);
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    expect(messages(header)).toEqual(['anthropic-beta context-1m-2025-08-07,some-new-beta-2030-01-01 not acted on: the gateway does not do what these betas ask and passes no beta on.']);
    expect(wire.claudeUp.requests[0]!.headers['anthropic-beta']).toBeUndefined();
  });

  it('betas the gateway honours or that change nothing it serves: no warning', async () => {
    const quiet = [
      'prompt-caching-2024-07-31',
      'extended-cache-ttl-2025-04-11',
      'token-counting-2024-11-01',
      'claude-code-20250219',
      'oauth-2025-04-20',
      'context-management-2025-06-27',
      'message-batches-2024-09-24',
      'files-api-2025-04-14',
    ];
    const { data, response } = await withBetas(quiet);
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'Hello' });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a quiet beta that unlocks a body field: the field has its own warning, the beta none', async () => {
    const { response } = await withBetas(['context-management-2025-06-27'], { context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] } });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'context_management']]);
  });

  it('no header: no warning', async () => {
    const { response } = await wire.gw.anthropic().messages.create(ask).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

/** The `message` parameter of each member of x-llmrr-warnings. */
function messages(header: string | null): unknown[] {
  return parseList(header!).map(([, params]) => params.get('message'));
}

describe("anthropic-beta warning with Claude Code's betas, and a long list", () => {
  it("Claude Code's: only interleaved thinking and fine-grained tool streaming are named", async () => {
    const betas = [
      'claude-code-20250219',
      'oauth-2025-04-20',
      'interleaved-thinking-2025-05-14',
      'fine-grained-tool-streaming-2025-05-14',
      'context-management-2025-06-27',
    ];
    const { response } = await withBetas(betas);
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    expect(messages(header)).toEqual([
      'anthropic-beta interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14 not acted on: the gateway does not do what these betas ask and passes no beta on.',
    ]);
  });

  it('a list too long for the header: still named, cut with "..."', async () => {
    const betas = ['interleaved-thinking-2025-05-14', 'fine-grained-tool-streaming-2025-05-14', 'context-1m-2025-08-07', 'output-128k-2025-02-19', 'token-efficient-tools-2025-02-19'];
    const { response } = await withBetas(betas);
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    const [message] = messages(header);
    expect(message, `x-llmrr-warnings: ${header}`).toBeDefined();
    expect(String(message)).toContain('anthropic-beta interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14,context-1m');
    expect(String(message)).toContain('... not acted on');
  });
});

/** A raw /v1/messages call with this anthropic-beta header as given (no client-side escaping), answered "Hello" upstream. */
function askRaw(beta: string) {
  wire.claudeUp.enqueue({ content: 'Hello' });
  return send(wire.gw.url, 'POST', '/v1/messages', JSON.stringify(ask), { 'content-type': 'application/json', 'x-api-key': wire.gw.secret, 'anthropic-version': '2023-06-01', 'anthropic-beta': beta });
}

describe('anthropic-beta names the sf-string escapes', () => {
  // A beta with ; = " \ and a Latin-1 byte stays inside the one member's message (no member or parameter injected),
  // printable ASCII.
  it('hostile names: one member, field anthropic-beta, the message holds them escaped', async () => {
    const answer = await askRaw('a;b=c, d"e\\f, caf\u00e9-2025-01-01, x, setting_not_sent;field="seed"');
    expect(answer.status).toBe(200);
    const header = answer.headers['x-llmrr-warnings'] as string;
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    // (The non-ASCII letter, however the client encoded it, is one "?" per byte.)
    expect(String(parseList(header)[0]![1].get('message'))).toMatch(/^anthropic-beta a;b=c,d"e\\f,caf\?+-2025-01-01,x,setting_not_sent;field="seed" not acted on/);
  });

  // `"` and `\` take two characters in the sf-string: the list is cut by its quoted length, so its message stays
  // within x-llmrr-warnings' 200 characters (a cut by characters dropped the message, naming no beta).
  it('a long list of betas with quotes: still named, cut with "..."', async () => {
    const answer = await askRaw(Array.from({ length: 24 }, () => '"x"').join(','));
    expect(answer.status).toBe(200);
    const header = answer.headers['x-llmrr-warnings'] as string;
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    expect(parseList(header)[0]![1].get('message'), header).toBeDefined();
  });
});
