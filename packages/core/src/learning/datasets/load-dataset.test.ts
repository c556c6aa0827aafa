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

  it('a split suffix in upper case is a split (MMLU_TRAIN.JSON: task mmlu, split train; TOY_TEST.CSV: task toy, split test), as in lower case', async () => {
    const o7 = await loadDataset(write('o7-upper/MMLU_TRAIN.JSON', JSON.stringify([{ question: 'q1', scores: { x: 1, y: 0 } }])));
    const o7dash = await loadDataset(write('o7-upper/Gsm8k-Test.json', JSON.stringify([{ question: 'q1', scores: { x: 1, y: 0 } }])));
    const header = 'sample_id,prompt,eval_name,a,b,a|total_cost,b|total_cost';
    const rb = await loadDataset(write('rb-upper/TOY_TEST.CSV', `${header}\ns1,q1,,1,0,0.1,0.2\n`));
    expect([...o7.examples, ...o7dash.examples, ...rb.examples].map((e) => ({ id: e.id, task: e.task, split: e.split }))).toEqual([
      { id: 'mmlu/train/0', task: 'mmlu', split: 'train' },
      { id: 'gsm8k/test/0', task: 'gsm8k', split: 'test' },
      { id: 'toy/test/s1', task: 'toy', split: 'test' },
    ]);
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
    await expect(loadDataset(missing)).rejects.toThrow(/line 1: the header has no column "model"/);
    const split = write('split.jsonl', '{"prompt_id":"a","prompt":"p","model":"m","quality":1,"split":"dev"}\n');
    await expect(loadDataset(split)).rejects.toThrow(/split: expected "train" or "test", got "dev"/);
    await expect(loadDataset(join(dir, 'nope'))).rejects.toThrow(/not found/);
  });

  it('RouterBench and RouteLLM CSVs name the file line of a bad cell (after multi-line prompts); a hex cost is refused', async () => {
    const header = ',sample_id,prompt,eval_name,a,b,a|model_response,b|model_response,a|total_cost,b|total_cost,oracle_model_to_route_to';
    const prompt = '"[\'line one\nline two\nline three\']"';
    const rbQuality = write('rb-bad/arc_test.csv', `${header}\n0,arc.1,${prompt},arc,1.0,0.0,x,y,0.001,0.01,a\n1,arc.2,${prompt},arc,2.0,1.0,x,y,0.001,0.01,a\n`);
    await expect(loadDataset(rbQuality)).rejects.toThrow(/line 7 a: expected a quality in \[0,1\] or True\/False, got "2.0"/);
    const rbCost = write('rb-hex/arc_test.csv', `${header}\n0,arc.1,${prompt},arc,1.0,0.0,x,y,0.001,0x10,a\n`);
    await expect(loadDataset(rbCost)).rejects.toThrow(/line 4 b\|total_cost: expected a cost in USD, got "0x10"/);
    const rl = write('rl-bad/mmlu_x.csv', `prompt,${ROUTELLM_WEAK},${ROUTELLM_STRONG}\n"a\nb\nc",True,False\nq,True,maybe\n`);
    await expect(loadDataset(rl)).rejects.toThrow(new RegExp(`line 5 ${ROUTELLM_STRONG}: expected a quality in \\[0,1\\] or True/False, got "maybe"`));
  });

  it('a folder mixing formats (open-7B JSON beside a long-format CSV, RouterBench CSVs beside JSONL) is refused naming the stray file, not read in part', async () => {
    write('mixed-o7/gsm8k-train.json', JSON.stringify([{ question: 'q1', scores: { m1: 1, m2: 0 } }, { question: 'q2', scores: { m1: 0, m2: 1 } }]));
    write('mixed-o7/my-logs.csv', 'prompt_id,prompt,model,quality\n1,hi,m1,1\n1,hi,m2,0\n');
    const o7 = await loadDataset(join(dir, 'mixed-o7')).catch((e: unknown) => e);
    expect(LLMError.isInstance(o7) ? o7.message : 'loaded').toMatch(/mixed-o7: data: .*my-logs\.csv.*one format per folder/);
    const header = ',sample_id,prompt,eval_name,a,b,a|model_response,b|model_response,a|total_cost,b|total_cost,oracle_model_to_route_to';
    write('mixed-rb/arc_test.csv', `${header}\n0,arc.1,['q'],arc,1.0,0.0,x,y,0.001,0.01,a\n`);
    write('mixed-rb/extra.jsonl', '{"prompt_id":"a","prompt":"p","model":"a","quality":1}\n');
    const rb = await loadDataset(join(dir, 'mixed-rb')).catch((e: unknown) => e);
    expect(LLMError.isInstance(rb) ? rb.message : 'loaded').toMatch(/mixed-rb: data: .*extra\.jsonl.*one format per folder/);
  });

  it('an MT-Bench folder with a broken JSONL line is an invalid_request naming the file and line, not a bare SyntaxError', async () => {
    write('mt/question.jsonl', '{"question_id":1,"turns":["hi"]}\n{"question_id":2,"turns":["yo"]\n');
    write('mt/judgements.jsonl', `{"question_id":1,"model":"${ROUTELLM_WEAK}","score":5,"turn":1}\n`);
    const e = await loadDataset(join(dir, 'mt')).catch((x: unknown) => x);
    expect(LLMError.isInstance(e) ? { code: e.code, message: e.message } : e).toEqual({ code: 'invalid_request', message: expect.stringMatching(/question\.jsonl: line 2: not a JSON object/) });
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
