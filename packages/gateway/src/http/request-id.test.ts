import { describe, expect, it } from 'vitest';
import { defaultRequestId } from './request-id.js';

describe('defaultRequestId', () => {
  it('is req_ + 32 hex digits, time first: ids made later sort later', async () => {
    const a = defaultRequestId();
    await new Promise((r) => setTimeout(r, 3));
    const b = defaultRequestId();
    expect(a).toMatch(/^req_[0-9a-f]{32}$/);
    expect(b).toMatch(/^req_[0-9a-f]{32}$/);
    expect(a < b).toBe(true);
    expect(Math.abs(Number.parseInt(b.slice(4, 16), 16) - Date.now())).toBeLessThan(60_000);
  });

  it('does not repeat within a millisecond (20 random hex digits)', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => defaultRequestId()));
    expect(ids.size).toBe(20_000);
    // The random part varies in every position (no fixed UUID version digit left in it).
    const tails = [...ids].map((id) => id.slice(16));
    for (let i = 0; i < 20; i++) expect(new Set(tails.map((t) => t[i])).size).toBeGreaterThan(8);
  });
});
