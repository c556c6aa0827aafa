import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCascadeExamples } from '../../learning/__fixtures__/synthetic-cascade.js';
import { parseCascadeScorer, type CascadeScorerArtifact } from '../../learning/cascade/cascade-scorer-artifact.js';
import { runCli } from '../__fixtures__/cli-harness.js';

let dir: string;
const router = (args: string[]) => runCli(['router', ...args], { cwd: dir, env: { LLMRR_SHARED_DIR: join(dir, 'no-shared') } });
const csvCell = (s: string) => `"${s.replace(/"/g, '""')}"`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-cascade-train-'));
  const ex = syntheticCascadeExamples(300);
  writeFileSync(join(dir, 'log.jsonl'), ex.map((e) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, weak_answer: e.weakResponse, weak_correct: e.quality[0] === 1, strong_correct: e.quality[1] })).join('\n'));
  writeFileSync(join(dir, 'log.csv'), ['prompt,weak_answer,weak_correct,strong_correct', ...ex.map((e) => `${csvCell(e.prompt)},${csvCell(e.weakResponse)},${e.quality[0] ? 'True' : 'False'},${e.quality[1]}`)].join('\n'));
  writeFileSync(join(dir, 'no-strong.jsonl'), ex.slice(0, 5).map((e) => JSON.stringify({ prompt: e.prompt, weak_answer: e.weakResponse, weak_correct: 1 })).join('\n'));
  writeFileSync(join(dir, 'bad-outcome.csv'), 'prompt,weak_answer,weak_correct,strong_correct\nq,a,yes,1\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('llmrr router train --cascade', () => {
  it('trains on a JSONL cascade log and writes a scorer artifact that loads', async () => {
    const r = await router(['train', '--cascade', '--data', 'log.jsonl', '--out', 'models/cascade.json']);
    expect(r.stderr).toMatch(/training the cascade scorer on log.jsonl: 300 prompts/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*models\/cascade.json: learned cascade scorer trained on 300 prompts/);
    expect(r.stdout).toMatch(/suggested threshold -?\d\.\d{4}: escalates \d+\.\d% of the training prompts/);
    const artifact = JSON.parse(readFileSync(join(dir, 'models/cascade.json'), 'utf8')) as CascadeScorerArtifact;
    expect(artifact).toMatchObject({ format: 'llmrr-cascade-scorer', version: 1, training: { data: 'log.jsonl', examples: 300 } });
    expect(parseCascadeScorer(artifact, 'cascade.json', 'verifierModel').threshold).toBe(artifact.threshold);
  });

  it('trains on the same rows as a CSV log (True/False outcomes)', async () => {
    const r = await router(['train', '--cascade', '--data', 'log.csv', '--out', 'csv.json', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { threshold: number; training: { examples: number } };
    expect(summary.training.examples).toBe(300);
    expect(Number.isFinite(summary.threshold)).toBe(true);
  });

  it('refuses bad input naming the field or flag', async () => {
    const missing = await router(['train', '--cascade', '--data', 'no-strong.jsonl', '--out', 'x.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--data: Routing data .*no-strong.jsonl: line 1 strong_correct: missing strong_correct/);
    const bad = await router(['train', '--cascade', '--data', 'bad-outcome.csv', '--out', 'x.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad-outcome.csv: line 2 weak_correct: expected a quality in \[0,1\] or True\/False, got "yes"/);
    const flag = await router(['train', '--cascade', '--data', 'log.jsonl', '--out', 'x.json', '--predictor', 'mlp']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--cascade takes --data, --out, --seed and --json only, not --predictor/);
    const absent = await router(['train', '--cascade', '--data', 'nope.jsonl', '--out', 'x.json']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/--data: .*nope.jsonl not found/);
    const kind = await router(['train', '--cascade', '--data', '.', '--out', 'x.json']);
    expect(kind.stderr).toMatch(/folder without gsm8k_responses.csv/);
    expect((await router(['train', '--cascade', '--data', 'log.jsonl'])).stderr).toMatch(/missing --out/);
    // A header with spaces after the commas is a cascade log whose header lacks the columns (not RouteLLM's file).
    writeFileSync(join(dir, 'spaced.csv'), 'prompt, weak_answer, weak_correct, strong_correct\nq,a,1,0\n');
    const spaced = await router(['train', '--cascade', '--data', 'spaced.csv', '--out', 'x.json']);
    expect({ code: spaced.code, stderr: spaced.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/spaced\.csv: line 1: the header has no column "weak_answer" \(required: prompt, weak_answer, weak_correct, strong_correct; the header names "prompt", " weak_answer", " weak_correct", " strong_correct"\)/) });
  });
});

describe('llmrr router train --cascade: blank outcomes', () => {
  it('a blank weak_correct is refused naming the line and field, and no file is written', async () => {
    writeFileSync(join(dir, 'blank.jsonl'), [JSON.stringify({ prompt: 'q', weak_answer: 'a', weak_correct: ' ', strong_correct: 1 })].join('\n'));
    const r = await router(['train', '--cascade', '--data', 'blank.jsonl', '--out', 'blank.json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/line 1 weak_correct/);
    expect(() => readFileSync(join(dir, 'blank.json'))).toThrow();
  });
});

describe('llmrr router train --cascade: where a bad row is', () => {
  it('a CRLF CSV log with multi-line answers names the line the bad record ends on; a JSONL outcome [1] is refused', async () => {
    // Lines: 1 header; 2-3 first record; 4-5 second (weak_correct "maybe").
    writeFileSync(join(dir, 'crlf.csv'), 'prompt,weak_answer,weak_correct,strong_correct\r\nq1,"step one\r\nanswer 4",True,True\r\nq2,"step one\r\nanswer 5",maybe,False\r\n');
    const csv = await router(['train', '--cascade', '--data', 'crlf.csv', '--out', 'crlf.json']);
    expect({ code: csv.code, stderr: csv.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/crlf\.csv: line 5 weak_correct: expected a quality in \[0,1\] or True\/False, got "maybe"/) });
    writeFileSync(join(dir, 'array.jsonl'), `\n${JSON.stringify({ prompt: 'q', weak_answer: 'a', weak_correct: [1], strong_correct: 1 })}\n`);
    const jsonl = await router(['train', '--cascade', '--data', 'array.jsonl', '--out', 'array.json']);
    expect({ code: jsonl.code, stderr: jsonl.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/array\.jsonl: line 2 weak_correct: expected a quality in \[0,1\] or true\/false, got \[1\]/) });
  });
});
