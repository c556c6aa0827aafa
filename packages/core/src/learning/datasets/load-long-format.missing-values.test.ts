/**
 * Generic long format: missing values (null or blank cells) are missing, never numbers; a model without
 * any cost and one prompt with two splits are errors; every error names the file line.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { longFormatDataset, parseJsonl } from './load-long-format.js';
import { parseCsv } from './read-csv.js';

/** The dataset, or the error it throws. */
function load(rows: Array<Record<string, unknown>>, file: string) {
  try {
    return longFormatDataset(rows, file);
  } catch (e) {
    return e as Error;
  }
}

describe('generic long format: missing values are not read as numbers', () => {
  it('JSONL "cost_usd": null (pandas to_json writes a missing cost so) is a missing cost, not a free model (cost 0)', () => {
    const text = [
      '{"prompt_id":"a","prompt":"2+2?","model":"big","quality":1,"cost_usd":0.01}',
      '{"prompt_id":"a","prompt":"2+2?","model":"local","quality":1,"cost_usd":null}',
      '{"prompt_id":"b","prompt":"3+3?","model":"big","quality":1,"cost_usd":0.01}',
      '{"prompt_id":"b","prompt":"3+3?","model":"local","quality":0,"cost_usd":0.002}',
    ].join('\n');
    const d = load(parseJsonl(text, 'x.jsonl'), 'x.jsonl');
    if (d instanceof Error) throw d;
    const local = d.models.indexOf('local');
    // A cost of 0 would make `local` look free there, and the cost curves would route everything to it.
    expect(d.examples[0]!.cost![local]).toBeNaN();
    expect(d.examples[1]!.cost![local]).toBe(0.002);
  });

  it('a model with no cost in any row (others have costs) is an error naming the model and its first line', () => {
    const text = [
      '{"prompt_id":"a","prompt":"2+2?","model":"big","quality":1,"cost_usd":0.01}',
      '{"prompt_id":"a","prompt":"2+2?","model":"local","quality":1,"cost_usd":null}',
    ].join('\n');
    const d = load(parseJsonl(text, 'x.jsonl'), 'x.jsonl');
    // Otherwise every prompt would be dropped from the cost curves for a missing cost.
    expect(d).toBeInstanceOf(LLMError);
    expect((d as Error).message).toMatch(/line 2 cost_usd: model "local" has no cost_usd in any row \(missing cost\)/);
  });

  it('a CSV quality cell holding only spaces is an error naming the row (not quality 0)', () => {
    const { rows } = parseCsv('prompt_id,prompt,model,quality\na,2+2?,big,1\na,2+2?,small, \n', 'x.csv');
    const d = load(rows, 'x.csv');
    // Number(" ") is 0: it must not be read as a wrong answer.
    expect(d).toBeInstanceOf(LLMError);
    expect((d as Error).message).toMatch(/line 3 quality: missing/);
  });
});

describe('generic long format: errors point at the offending line', () => {
  it('a JSONL file with blank lines: a bad quality on line 4 is reported at line 4, as a JSON syntax error there would be', () => {
    const text = '{"prompt_id":"a","prompt":"x","model":"m","quality":1}\n\n\n{"prompt_id":"b","prompt":"y","model":"m","quality":2}\n';
    const d = load(parseJsonl(text, 'x.jsonl'), 'x.jsonl');
    expect(d).toBeInstanceOf(LLMError);
    // Not "row 2" (blank lines are not rows): the line `parseJsonl` names for a syntax error there.
    expect((d as Error).message).toMatch(/line 4 quality/);
  });
});

describe('generic long format: CSV errors point at the offending line', () => {
  it('a bad quality after a multi-line quoted prompt names its file line (7), as csv-parse errors do ("on line N")', () => {
    const text = 'prompt_id,prompt,model,quality\np1,"Say ""hi"", then\nlist 1,2,3",m1,1\np1,"Say ""hi"", then\nlist 1,2,3",m2,0\np2,plain,m1,0.5\np2,plain,m2,1.5\n';
    const { rows } = parseCsv(text, 'x.csv');
    expect(rows[0]!['prompt']).toBe('Say "hi", then\nlist 1,2,3'); // quoting itself is read right
    const d = load(rows, 'x.csv');
    expect(d).toBeInstanceOf(LLMError);
    // Not "row 4" (the 4th record): line 4 of the file is the middle of prompt p1, and a spreadsheet
    // shows that record as row 5 (after the header).
    expect((d as Error).message).toMatch(/line 7 quality/);
  });
});

describe('generic long format: one prompt, one split', () => {
  it('rows of one prompt_id with contradictory split values are an error, not "the first row wins"', () => {
    const { rows } = parseCsv('prompt_id,prompt,model,quality,split\na,2+2?,big,1,train\na,2+2?,small,0,test\nb,3+3?,big,1,test\nb,3+3?,small,1,test\n', 'x.csv');
    const d = load(rows, 'x.csv');
    // Not "the first row wins" (prompt a silently a training prompt although its second row says test).
    expect(d).toBeInstanceOf(LLMError);
    expect((d as Error).message).toMatch(/line 3 split: prompt_id "a" is "test" here but has split "train" at line 2/);
  });
});
