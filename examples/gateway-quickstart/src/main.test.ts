import { describe, expect, it } from 'vitest';
import { tour } from './main.js';

describe('gateway quickstart', () => {
  it('serves the openai client, refuses a wrong key and meters both answers in the ledger', async () => {
    const lines: string[] = [];
    const r = await tour((l) => lines.push(l));
    expect(r.answer).toBe('Mock answer to: hello');
    expect(r.streamed).toBe('Mock answer to: tell me a story');
    expect(Number(r.costHeader)).toBeGreaterThan(0);
    expect(r.unauthorizedStatus).toBe(401);
    // Two answered requests (the refused one never reaches the ledger as the tenant's).
    expect(r.requests).toBe(2);
    // Mock usage: "hello" 1 in / 4 out, "tell me a story" 4 in / 7 out, at $0.1 / $0.2 per 1M tokens.
    expect(r.costUsd).toBeCloseTo((5 * 0.1 + 11 * 0.2) / 1e6, 12);
    expect(lines).toHaveLength(4);
  });
});
