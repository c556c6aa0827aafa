import { describe, expect, it } from 'vitest';
import { cascadeTour } from './cascade.js';

describe('the cascade tour', () => {
  it('accepts the cheap answer with right arithmetic and escalates the one with a wrong product, paying for both calls', async () => {
    let text = '';
    const [careful, sloppy] = await cascadeTour({ write: (t) => void (text += t) });
    expect(careful?.cascade).toMatchObject({ escalated: false, weak: { deployment: 'cheap-careful' } });
    expect(careful?.deployment).toBe('cheap-careful');
    expect(sloppy?.cascade).toMatchObject({ escalated: true, weak: { deployment: 'cheap-sloppy' }, strong: { deployment: 'dear' } });
    expect(sloppy?.deployment).toBe('dear');
    expect(sloppy?.text.endsWith('#### 18')).toBe(true);
    // The escalated call costs the cheap call plus the dear one.
    expect(sloppy!.cost.totalUsd).toBeCloseTo(sloppy!.cascade!.weak.cost.totalUsd + sloppy!.cascade!.strong!.cost.totalUsd, 12);
    expect(sloppy!.cost.totalUsd).toBeGreaterThan(careful!.cost.totalUsd);
    expect(text).toMatch(/math-careful: the answer of cheap-careful scored \d\.\d\d by arithmetic \(threshold 1\), accepted/);
    expect(text).toMatch(/math-sloppy: the answer of cheap-sloppy scored \d\.\d\d by arithmetic \(threshold 1\), escalated to dear/);
  });
});
