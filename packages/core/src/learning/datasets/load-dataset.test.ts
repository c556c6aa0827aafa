import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { loadDataset } from './load-dataset.js';
import { ROUTELLM_STRONG, ROUTELLM_WEAK } from './load-routellm.js';
import { pythonListText } from './python-list-text.js';
import { heldOutFolds, unseenTaskFold } from './split-examples.js';

let dir: string;
const write = (name: string, text: string) => {
  const f = join(dir, name);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, text);
  return f;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadDataset formats', () => {
  it('reads RouteLLM CSVs with multi-line quoted prompts and True/False outcomes', async () => {
    write(
      'mmlu/mmlu_anatomy.csv',
      `prompt,${ROUTELLM_WEAK},${ROUTELLM_STRONG}\n"A lesion ""here"" causes\nA. x\nB. y\nAnswer:",True,False\nplain,False,True\n`,
    );
    write(`mmlu/mmlu_virology.csv`, `prompt,${ROUTELLM_WEAK},${ROUTELLM_STRONG}\nq,True,True\n`);
    const d = await loadDataset(join(dir, 'mmlu'));
    expect(d.format).toBe('routellm');
    expect(d.pair).toEqual({ weak: 0, strong: 1 });
    expect(d.examples).toHaveLength(3);
    expect(d.examples[0]).toMatchObject({ task: 'mmlu/anatomy', prompt: 'A lesion "here" causes\nA. x\nB. y\nAnswer:', quality: [1, 0] });
    expect(d.examples[2]!.task).toBe('mmlu/virology');
  });

  it('reads a RouterBench wide CSV: python-list prompts, per-model correctness and cost, split from the name, empty cells as NaN', async () => {
    const header = ',sample_id,prompt,eval_name,a,b,a|model_response,b|model_response,a|total_cost,b|total_cost,oracle_model_to_route_to';
    const f = write('rb/mbpp_test.csv', `${header}\n0,mbpp.1,"['Write a function, it\\'s easy']",mbpp,1.0,,"x","y",0.001,0.01,a\n1,mbpp.2,['hi'],mbpp,0.0,1.0,x,y,0.002,0.02,b\n`);
    const d = await loadDataset(f);
    expect(d.format).toBe('routerbench');
    expect(d.models).toEqual(['a', 'b']);
    expect(d.examples[0]).toMatchObject({ prompt: "Write a function, it's easy", split: 'test', task: 'mbpp' });
    expect(d.examples[0]!.quality[0]).toBe(1);
    expect(Number.isNaN(d.examples[0]!.quality[1]!)).toBe(true);
    expect(d.examples[1]!.cost).toEqual([0.002, 0.02]);
  });

  it('reads RouterDC open-7B JSON with the split from the file name', async () => {
    const f = write('o7/gsm8k-train.json', JSON.stringify([{ question: 'q1', scores: { m2: 0.5, m1: 1 } }]));
    const d = await loadDataset(f);
    expect(d).toMatchObject({ format: 'open7b', models: ['m1', 'm2'] });
    expect(d.examples[0]).toMatchObject({ task: 'gsm8k', split: 'train', quality: [1, 0.5] });
  });

  it('reads the generic long format (CSV and JSONL), grouping rows by prompt_id', async () => {
    const csv = write('long.csv', 'prompt_id,prompt,model,quality,cost_usd,split\n1,"hi, there",x,1,0.1,train\n1,"hi, there",y,0.5,0.2,train\n2,yo,x,0,,test\n');
    const d = await loadDataset(csv);
    expect(d.models).toEqual(['x', 'y']);
    expect(d.examples).toHaveLength(2);
    expect(d.examples[0]).toMatchObject({ id: '1', prompt: 'hi, there', quality: [1, 0.5], cost: [0.1, 0.2], split: 'train' });
    expect(Number.isNaN(d.examples[1]!.quality[1]!)).toBe(true);
    const jsonl = write('long.jsonl', '{"prompt_id":"a","prompt":"p","model":"m","quality":0.25,"task":"t"}\n\n{"prompt_id":"a","prompt":"p","model":"n","quality":1}\n');
    const j = await loadDataset(jsonl);
    expect(j.examples[0]).toMatchObject({ task: 't', quality: [0.25, 1] });
  });

  it('names the row and field of bad data in a typed error', async () => {
    const bad = write('bad.csv', 'prompt_id,prompt,model,quality\n1,p,m,1.5\n');
    const e = await loadDataset(bad).catch((x: unknown) => x);
    expect(LLMError.isInstance(e)).toBe(true);
    expect((e as LLMError).code).toBe('invalid_request');
    expect((e as LLMError).message).toMatch(/line 2 quality: expected a number in \[0,1\] or true\/false, got "1.5"/);
    const missing = write('missing.csv', 'prompt_id,prompt,quality\n1,p,1\n');
    await expect(loadDataset(missing)).rejects.toThrow(/line 2 model: missing/);
    const split = write('split.jsonl', '{"prompt_id":"a","prompt":"p","model":"m","quality":1,"split":"dev"}\n');
    await expect(loadDataset(split)).rejects.toThrow(/split: expected "train" or "test", got "dev"/);
    await expect(loadDataset(join(dir, 'nope'))).rejects.toThrow(/not found/);
  });
});

describe('pythonListText', () => {
  it('joins the strings of a Python list literal and leaves other text alone', () => {
    expect(pythonListText(`['a\\nb', "c's"]`)).toBe("a\nb\n\nc's");
    expect(pythonListText('not a list')).toBe('not a list');
    expect(pythonListText("['unterminated]")).toBe("['unterminated]");
  });
});

describe('held-out folds', () => {
  const ex = (id: string, split?: 'train' | 'test', task = 't') => ({ id, prompt: id, task, quality: [1], ...(split ? { split } : {}) });
  it('uses the data split when every example has one', () => {
    const folds = heldOutFolds([ex('a', 'train'), ex('b', 'test'), ex('c', 'train')]);
    expect(folds).toHaveLength(1);
    expect(folds[0]!.test.map((e) => e.id)).toEqual(['b']);
  });
  it('cross-validates otherwise: every example is tested exactly once, never trained on in its fold', () => {
    const all = Array.from({ length: 50 }, (_, i) => ex(`e${i}`));
    const folds = heldOutFolds(all, 5);
    expect(folds).toHaveLength(5);
    const tested = folds.flatMap((f) => f.test.map((e) => e.id)).sort();
    expect(tested).toEqual(all.map((e) => e.id).sort());
    for (const f of folds) for (const t of f.test) expect(f.train).not.toContain(t);
  });
  it('an unseen task is held out whole', () => {
    const f = unseenTaskFold([ex('a', 'train', 'mmlu/x'), ex('b', 'test', 'gsm8k'), ex('c', 'train', 'mmlu/y')], 'mmlu');
    expect(f.test.map((e) => e.id)).toEqual(['a', 'c']);
    expect(f.train.map((e) => e.id)).toEqual(['b']);
  });
});
