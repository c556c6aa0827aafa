import { describe, expect, it } from 'vitest';
import { tour } from './main.js';

describe('gateway quickstart', () => {
  it('serves the openai client (chat completions and responses), refuses a wrong key and meters both answers in the ledger', async () => {
    const lines: string[] = [];
    const r = await tour((l) => lines.push(l));
    expect(r.answer).toBe('Mock answer to: hello');
    expect(r.logprobTokens).toBe(r.answer);
    expect(r.logprobValues.length).toBeGreaterThan(1);
    expect(r.logprobValues.every((v) => v === 0)).toBe(true);
    expect(r.streamed).toBe('Mock answer to: tell me a story');
    expect(r.viaResponses).toBe('Mock answer to: hello again');
    expect(Number(r.costHeader)).toBeGreaterThan(0);
    expect(r.unauthorizedStatus).toBe(401);
    // Three answered requests (the refused one never reaches the ledger as the tenant's).
    expect(r.requests).toBe(3);
    // Mock usage: "hello" 1 in / 4 out, "tell me a story" 4 in / 7 out, "Be brief." + "hello again" 4 in / 5 out,
    // at $0.1 / $0.2 per 1M tokens.
    expect(r.costUsd).toBeCloseTo((9 * 0.1 + 16 * 0.2) / 1e6, 12);
    expect(lines).toHaveLength(5);
  });
});
