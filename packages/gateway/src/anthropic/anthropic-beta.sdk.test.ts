import type { AnthropicWireServer } from '@llmrr/core/test';
import { parseList } from 'structured-headers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// /v1/messages with an `anthropic-beta` header (the official client's beta resource, `client.beta.messages`, as Claude
// Code uses it): the gateway acts on no beta and passes none on, so the call is served as without the header and the
// answer says so in one `setting_not_sent` warning naming `anthropic-beta` and its values (not a 400: clients send
// betas with every request). A request without the header has no such warning. A long list (Claude Code's) is cut
// with "..." so that the message still fits x-llmrr-warnings' 200-character bound (a longer one would be dropped).

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const ask = { model: 'claude', max_tokens: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('anthropic-beta is said to be ignored', () => {
  it('betas on the beta resource: answered, one setting_not_sent warning naming anthropic-beta and the values, nothing passed on', async () => {
    claudeUp.enqueue({ content: 'Hello' });
    const { data, response } = await gw
      .anthropic()
      .beta.messages.create({ ...ask, betas: ['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07'] })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'Hello' });
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    expect(header).toContain('interleaved-thinking-2025-05-14,context-1m-2025-08-07');
    expect(claudeUp.requests).toHaveLength(1);
    expect(claudeUp.requests[0]!.headers['anthropic-beta']).toBeUndefined();
  });

  it('streamed: the same warning in the headers of the 200', async () => {
    const { response } = await gw
      .anthropic()
      .beta.messages.create({ ...ask, stream: true, betas: ['fine-grained-tool-streaming-2025-05-14'] })
      .withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'anthropic-beta']]);
    await response.text();
  });

  it('no header: no warning', async () => {
    const { response } = await gw.anthropic().messages.create(ask).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

/** The `message` parameter of each member of x-llmrr-warnings. */
function messages(header: string | null): unknown[] {
  return parseList(header!).map(([, params]) => params.get('message'));
}

describe('anthropic-beta warning with a long list of betas (Claude Code)', () => {
  it('still names the values (cut with "..."), as betaWarning intends', async () => {
    // Claude Code's betas with context management: 137 characters once joined.
    const betas = [
      'claude-code-20250219',
      'oauth-2025-04-20',
      'interleaved-thinking-2025-05-14',
      'fine-grained-tool-streaming-2025-05-14',
      'context-management-2025-06-27',
    ];
    claudeUp.enqueue({ content: 'Hello' });
    const { response } = await gw
      .anthropic()
      .beta.messages.create({ ...ask, betas: betas as never })
      .withResponse();
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    const [message] = messages(header);
    expect(message, `x-llmrr-warnings: ${header}`).toBeDefined();
    expect(String(message)).toContain('claude-code-20250219,oauth-2025-04-20');
  });
});
