import { describe, expect, it } from 'vitest';
import type { RoutingExample } from '../datasets/types.js';
import { seededRandom } from '../predictors/adam.js';
import { denoiseLabels } from './denoise-labels.js';
import type { AuxiliaryData } from './difficulty-model.js';
import { excludeOverlap } from './prompt-overlap.js';

// 300 router prompts (weak, strong); the weak model is right exactly when most of 5 auxiliary models are.
const r = seededRandom(7);
const router: RoutingExample[] = [];
const auxRows: RoutingExample[] = [];
for (let i = 0; i < 300; i++) {
  const scores = [0, 1, 2, 3, 4].map((): number => (r() < (i % 2 ? 0.8 : 0.2) ? 1 : 0));
  const weak = scores.reduce((a, b) => a + b, 0) >= 3 ? 1 : 0;
  router.push({ id: `p${i}`, prompt: `Question number ${i}: what is ${i} plus ${i + 1}?`, task: 't', quality: [weak, 1] });
  // Two thirds of the router prompts have auxiliary outcomes (another template of the same question).
  if (i % 2 === 0 || i % 3 === 0) auxRows.push({ id: `a${i}`, prompt: `QUESTION NUMBER ${i} — WHAT IS ${i} PLUS ${i + 1}`, task: 'aux', quality: scores });
}
const aux: AuxiliaryData = { name: 'aux', models: ['a', 'b', 'c', 'd', 'e'], examples: auxRows };
const test = router.slice(0, 60);
const train = router.slice(60);

describe('denoiseLabels', () => {
  it('never reads the auxiliary outcomes of a question in the test prompts', () => {
    const seen = new Set<string>();
    const spied: AuxiliaryData = {
      ...aux,
      examples: auxRows.map((e) => {
        const copy = { ...e };
        Object.defineProperty(copy, 'quality', { enumerable: true, get: () => (seen.add(e.id), e.quality) });
        return copy as RoutingExample;
      }),
    };
    const { report } = denoiseLabels(train, test, spied);
    const read = auxRows.filter((e) => seen.has(e.id));
    expect(read.length).toBeGreaterThan(100);
    expect(excludeOverlap(read, (e) => e.prompt, test.map((e) => e.prompt)).dropped).toBe(0);
    expect(report.dropped_test_overlap).toBe(auxRows.filter((e) => Number(e.id.slice(1)) < 60).length);
    expect(report.matched).toBe(train.filter((e) => auxRows.some((a) => a.id === `a${e.id.slice(1)}`)).length);
  });

  it('blends matched training targets toward the prediction from the auxiliary scores; others and ids unchanged', () => {
    const { train: out, report } = denoiseLabels(train, test, aux, { weight: 0.5 });
    expect(report.weight).toBe(0.5);
    expect(out.map((e) => e.id)).toEqual(train.map((e) => e.id));
    let moved = 0;
    out.forEach((e, i) => {
      const before = train[i]!;
      const hasAux = auxRows.some((a) => a.id === `a${before.id.slice(1)}`);
      if (!hasAux) expect(e.quality).toEqual(before.quality);
      else {
        moved++;
        // Observed 1 stays >= 0.5, observed 0 stays <= 0.5, and the blend is strictly inside (0, 1).
        expect(Math.abs(e.quality[0]! - before.quality[0]!)).toBeLessThanOrEqual(0.5);
        expect(e.quality[0]!).toBeGreaterThan(0);
        expect(e.quality[0]!).toBeLessThan(1);
      }
    });
    expect(moved).toBe(report.matched);
    // The weak outcome is a function of the scores here, so the prediction agrees with it: blended targets stay on their side.
    const agree = out.filter((e, i) => e.quality[0] !== train[i]!.quality[0] && Math.round(e.quality[0]!) === train[i]!.quality[0]).length;
    expect(agree / report.matched).toBeGreaterThan(0.9);
  });
});
