import { describe, expect, it } from 'vitest';
import { ANALYSIS_DIM, analysisVector, analyzePrompt } from './analyze-prompt.js';
import { featureBlocks, featurize, fitFeatures } from './feature-pipeline.js';
import { tokenize } from './tokenize.js';

describe('analyzePrompt', () => {
  it('finds intent, domain, script, multiple choice and complexity', () => {
    const code = analyzePrompt('Write a python function that returns the reversed list.\n```python\ndef f(x):\n  return x\n```');
    expect(code.intent).toBe('code');
    expect(code.domain).toBe('programming');
    const math = analyzePrompt('Calculate the sum of 1234 and 5678. How many digits does the total have?');
    expect(math.intent).toBe('math');
    expect(math.complexity).toBeGreaterThan(analyzePrompt('hello there').complexity);
    const mc = analyzePrompt('Which nerve is damaged?\nA. facial\nB. vagus\nC. optic\nD. none\nAnswer:');
    expect(mc.multipleChoice).toBe(true);
    expect(mc.domain).toBe('medicine');
    expect(analyzePrompt('使用位填充方法，求问传送时要添加几个0').script).toBe('cjk');
    expect(analyzePrompt('').chars).toBe(0);
    expect(analysisVector(math)).toHaveLength(ANALYSIS_DIM);
  });
});

describe('tokenize', () => {
  it('lower-cases words, splits CJK into characters and collapses long numbers', () => {
    expect(tokenize('Hello, World 12345 x2 中文')).toEqual(['hello', ',', 'world', '#num', 'x2', '中', '文']);
  });
});

describe('featurize', () => {
  const spec = fitFeatures(['the cat sat', 'the dog ran', 'a cat ran'], { hashDim: 256 });
  it('is deterministic, sorted and L2-normalized in the hashed block', () => {
    const a = featurize(spec, 'the cat ran');
    const b = featurize(spec, 'the cat ran');
    expect(Array.from(a.index)).toEqual(Array.from(b.index));
    for (let i = 1; i < a.index.length; i++) expect(a.index[i]!).toBeGreaterThan(a.index[i - 1]!);
    const [h0] = featureBlocks(spec).hashed;
    let n = 0;
    a.index.forEach((ix, k) => {
      if (ix >= h0) n += a.value[k]! ** 2;
    });
    expect(n).toBeCloseTo(1, 5);
    expect(spec.idf!.index.length).toBeGreaterThan(3);
    expect(spec.idf!.index.length).toBeLessThan(256);
  });
  it('needs the embedding when the spec has an embedding block', () => {
    const withEmb = fitFeatures(['x'], { hashDim: 0, analysis: false, embedding: { dim: 3, model: 'toy' } });
    expect(() => featurize(withEmb, 'x')).toThrow(/needs a 3-d embedding/);
    const v = featurize(withEmb, 'x', [3, 0, 4]);
    expect(Array.from(v.value)).toEqual([0.6000000238418579, 0, 0.800000011920929]);
  });
});
