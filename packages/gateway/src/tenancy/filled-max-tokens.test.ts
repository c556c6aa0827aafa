import { estimateRequestTokens, type DeploymentInfo, type GenerateRequest } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { filledMaxTokens } from './admission.js';

// The maxTokens the gateway fills in for a budgeted call that set none: the reservation's output bound and what is
// sent. A value the client never sent must not make the router refuse a prompt that fits (the router checks the
// prompt estimate plus maxTokens, clamped to a deployment's maxOutputTokens, against its context window).

const request: GenerateRequest = { messages: [{ role: 'user', content: 'word '.repeat(400) }] };
const prompt = estimateRequestTokens(request);

function deployment(name: string, config: { contextWindow?: number; maxOutputTokens?: number }): DeploymentInfo {
  return { name, config } as unknown as DeploymentInfo;
}

/** Whether the router's context check lets `d` serve `request` with `maxTokens` (candidates.ts). */
function fits(d: DeploymentInfo, maxTokens: number): boolean {
  const cap = d.config.maxOutputTokens;
  const window = d.config.contextWindow;
  return window === undefined || prompt + (cap !== undefined && cap < maxTokens ? cap : maxTokens) <= window;
}

describe('filledMaxTokens', () => {
  it('the default, or the largest maxOutputTokens of the candidates, where the windows have room for it', () => {
    expect(filledMaxTokens(request, [deployment('a', {})], 4096)).toBe(4096);
    expect(filledMaxTokens(request, [deployment('a', { contextWindow: 128_000 })], 4096)).toBe(4096);
    expect(filledMaxTokens(request, [deployment('a', { maxOutputTokens: 64_000, contextWindow: 200_000 }), deployment('b', {})], 4096)).toBe(64_000);
  });

  it('no more than the room the prompt leaves in the window, so the one deployment still serves it', () => {
    const d = deployment('mid', { contextWindow: 4500 });
    const filled = filledMaxTokens(request, [d], 4096);
    expect(filled).toBe(4500 - prompt);
    expect(fits(d, filled)).toBe(true);
    expect(fits(d, 4096)).toBe(false); // the unbounded default left it out
  });

  it('the roomiest candidate sets the bound; one whose maxOutputTokens fits beside the prompt has room for any value', () => {
    const small = deployment('small', { contextWindow: 2000 });
    const mid = deployment('mid', { contextWindow: 4500 });
    expect(filledMaxTokens(request, [small, mid], 4096)).toBe(4500 - prompt);
    const capped = deployment('capped', { contextWindow: 2000, maxOutputTokens: 1000 });
    expect(filledMaxTokens(request, [small, capped], 4096)).toBe(4096);
    expect(fits(capped, 4096)).toBe(true);
    expect(filledMaxTokens(request, [small, deployment('open', {})], 4096)).toBe(4096);
  });

  it('a prompt that fills every window keeps the default (the router refuses the prompt itself)', () => {
    expect(filledMaxTokens(request, [deployment('tiny', { contextWindow: 100 })], 4096)).toBe(4096);
    expect(filledMaxTokens(request, [], 4096)).toBe(4096);
  });
});
