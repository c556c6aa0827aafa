import type { AnthropicWireServer } from '@llmrr/core/test';
import { parseList } from 'structured-headers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../test-support/raw-http.js';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// anthropic-beta names that the x-llmrr-warnings sf-string must escape or replace.

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const body = JSON.stringify({ model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }] });

function ask(beta: string) {
  claudeUp.enqueue({ content: 'Hello' });
  return send(gw.url, 'POST', '/v1/messages', body, { 'content-type': 'application/json', 'x-api-key': gw.secret, 'anthropic-version': '2023-06-01', 'anthropic-beta': beta });
}

describe('anthropic-beta names the sf-string escapes', () => {
  // A beta with ; = " \ and a Latin-1 byte stays inside the one member's message (no member or parameter injected),
  // printable ASCII.
  it('hostile names: one member, field anthropic-beta, the message holds them escaped', async () => {
    const answer = await ask('a;b=c, d"e\\f, caf\u00e9-2025-01-01, x, setting_not_sent;field="seed"');
    expect(answer.status).toBe(200);
    const header = answer.headers['x-llmrr-warnings'] as string;
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    // (The non-ASCII letter, however the client encoded it, is one "?" per byte.)
    expect(String(parseList(header)[0]![1].get('message'))).toMatch(/^anthropic-beta a;b=c,d"e\\f,caf\?+-2025-01-01,x,setting_not_sent;field="seed" not acted on/);
  });

  // `"` and `\` take two characters in the sf-string: the list is cut by its quoted length, so its message stays
  // within x-llmrr-warnings' 200 characters (a cut by characters dropped the message, naming no beta).
  it('a long list of betas with quotes: still named, cut with "..."', async () => {
    const answer = await ask(Array.from({ length: 24 }, () => '"x"').join(','));
    expect(answer.status).toBe(200);
    const header = answer.headers['x-llmrr-warnings'] as string;
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'anthropic-beta']]);
    expect(parseList(header)[0]![1].get('message'), header).toBeDefined();
  });
});
