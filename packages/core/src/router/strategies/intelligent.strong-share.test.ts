/**
 * `strongShare` is the operator's cost control: lambda is calibrated so the strongest candidate gets that share of the
 * calls. A candidate the router model does not know (a deployment renamed, one added next to the trained pair, a
 * `models` mapping with a typo) takes part in the calibration with its static quality, as `rank` gives it, rather than
 * turning the calibration off (lambda 0: every call to the dearest model); explain says so and a warning is logged once.
 * When strongShare cannot be applied at all (no router model, no calibration prompts), explain and the log say that.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { syntheticPairDataset } from '../../learning/__fixtures__/synthetic-data.js';
import { RouterModel } from '../../learning/training/router-model.js';
import { trainRouterModel } from '../../learning/training/train-router-model.js';
import { LLMRouter } from '../llm-router.js';
import { createIntelligentStrategy } from './intelligent.js';

const SHARE = 0.34;
const pair = new RouterModel(trainRouterModel(syntheticPairDataset(), { hashDim: 1 << 10, kinds: ['logistic'] }));
const prompts = syntheticPairDataset(300).examples.map((e) => e.prompt);

afterEach(() => {
  vi.restoreAllMocks();
});

async function strongShareOf(models: object[], strong: string, model: RouterModel | null = pair, warn?: (message: string) => void): Promise<{ share: number; lambda: number; notes: string[] }> {
  const r = new LLMRouter(
    { models: models as never, routing: { strategy: 'intelligent', options: { intelligent: { strongShare: SHARE } } } },
    { strategies: { intelligent: createIntelligentStrategy(model ? { model } : {}) }, ...(warn ? { warn } : {}) },
  );
  try {
    let n = 0;
    let lambda = NaN;
    const notes = new Set<string>();
    for (const p of prompts) {
      const d = await r.route(p, { explain: true });
      if (d.selected === strong) n++;
      lambda = d.candidates[0]!.factors!['lambda']!;
      for (const c of d.candidates) if (c.note) notes.add(`${c.name}: ${c.note}`);
    }
    return { share: n / prompts.length, lambda, notes: [...notes] };
  } finally {
    await r.close();
  }
}

const weak = { name: 'weak', engine: 'mock', price: { input: 0.2, output: 0.2 } };
const strong = { name: 'strong', engine: 'mock', price: { input: 10, output: 30 } };

describe('intelligent strongShare with a deployment the router model does not know', () => {
  it('both deployments known: the strong one gets about the target share, with no note or warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const got = await strongShareOf([weak, strong], 'strong');
    expect(Math.abs(got.share - SHARE), JSON.stringify(got)).toBeLessThan(0.12);
    expect(got.notes).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('the weak deployment renamed (weak-v2): still about the share, noted in explain, warned once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const got = await strongShareOf([{ ...weak, name: 'weak-v2' }, strong], 'strong');
    expect(got.lambda).toBeGreaterThan(0);
    expect(Math.abs(got.share - SHARE), JSON.stringify(got)).toBeLessThan(0.12);
    expect(got.notes).toEqual(['weak-v2: not in the router model: static quality (strongShare calibrated with it)']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/strongShare 0\.34 is calibrated with the static quality .* of "weak-v2", not in the router model/);
  });

  it('a third, cheap deployment added next to the trained pair: the strong one still gets about the share', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const got = await strongShareOf([weak, strong, { name: 'backup', engine: 'mock', quality: 0.3, price: { input: 0.1, output: 0.1 } }], 'strong');
    expect(Math.abs(got.share - SHARE), JSON.stringify(got)).toBeLessThan(0.12);
    expect(got.notes).toEqual(['backup: not in the router model: static quality (strongShare calibrated with it)']);
  });
});

describe('intelligent strongShare that cannot be applied', () => {
  it('without a router model: lambda stays as given (0), each candidate notes it, warned once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const got = await strongShareOf([{ ...weak, quality: 0.4 }, { ...strong, quality: 0.9 }], 'strong', null);
    expect(got.lambda).toBe(0);
    expect(got.notes).toContain('strong: no router model: static quality; strongShare 0.34 not applied (no router model to calibrate lambda on): lambda 0');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('strongShare 0.34 not applied (no router model to calibrate lambda on)');
  });

  it('a router model without calibration prompts: noted and warned', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bare = new RouterModel({ ...pair.artifact, calibration: [] });
    const got = await strongShareOf([weak, strong], 'strong', bare);
    expect(got.notes.some((n) => n.includes('strongShare 0.34 not applied (the router model has no calibration prompts)'))).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe("intelligent's warnings and the router's warn option", () => {
  it("go to the router's warn (once per router), not to console.warn", async () => {
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const first: string[] = [];
    const second: string[] = [];
    await strongShareOf([{ ...weak, quality: 0.4 }, { ...strong, quality: 0.9 }], 'strong', null, (m) => first.push(m));
    await strongShareOf([{ ...weak, quality: 0.4 }, { ...strong, quality: 0.9 }], 'strong', null, (m) => second.push(m));
    await strongShareOf([{ ...weak, name: 'weak-v3' }, strong], 'strong', pair, (m) => second.push(m));
    expect(first).toEqual(['[llmrr] intelligent: strongShare 0.34 not applied (no router model to calibrate lambda on): lambda 0']);
    // Another router's log hears the same condition too (not swallowed as told to the first one's).
    expect(second).toHaveLength(2);
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toMatch(/^\[llmrr\] intelligent: strongShare 0\.34 is calibrated with the static quality .* of "weak-v3", not in the router model/);
    expect(consoleWarn).not.toHaveBeenCalled();
  });

  it('a warn that throws fails no call', async () => {
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const got = await strongShareOf([{ ...weak, quality: 0.4 }, { ...strong, quality: 0.9 }], 'strong', null, () => {
      throw new Error('log down');
    });
    expect(got.lambda).toBe(0);
    expect(consoleWarn).not.toHaveBeenCalled();
  });
});
