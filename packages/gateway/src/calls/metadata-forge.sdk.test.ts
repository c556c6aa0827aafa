/**
 * Core's OpenTelemetry `parentOf` starts a root span (out of the caller's trace) for a call whose
 * router metadata has `llmrr.prefetch: true` or `llmrr.semanticEmbed`, and parents one with `llmrr.semanticGuard`
 * under the call it names. A client cannot put those keys in a gateway call's router metadata: the gateway builds it
 * (tenant, endpoint, key id) and never copies a body's `metadata`. Official openai client, served gateway.
 */
import type { RouterEvents } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway;
const starts: Array<RouterEvents['request:start']> = [];
const FORGED = { 'llmrr.prefetch': 'true', 'llmrr.semanticEmbed': 'x', 'llmrr.semanticGuard': 'someone-else' };

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('m', { reply: 'hi' })] });
  gw.harness.router.on('request:start', (e) => starts.push(e));
});
afterAll(async () => gw?.close());

describe('a client cannot forge the router metadata parentOf reads', () => {
  it('chat completions (metadata, store) and responses (metadata): the router metadata is the gateway own', async () => {
    const client = gw.openai();
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], store: true, metadata: FORGED });
    await client.responses.create({ model: 'm', input: 'x', metadata: FORGED });
    expect(starts).toHaveLength(2);
    for (const s of starts) {
      for (const k of Object.keys(FORGED)) expect(s.metadata, k).not.toHaveProperty([k]);
      expect(Object.keys(s.metadata).sort()).toEqual(expect.arrayContaining(['endpoint', 'tenant']));
    }
  });
});
