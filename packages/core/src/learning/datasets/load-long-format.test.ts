import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { llmrrChild as llmrr } from '../../cli/__fixtures__/llmrr-child.js';
import { loadDataset } from './load-dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-long-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}

/** Loads the file; returns the dataset or the error. */
async function load(file: string): Promise<Awaited<ReturnType<typeof loadDataset>> | Error> {
  return loadDataset(file).catch((e: unknown) => e as Error);
}

/** Mistakes in a long-format file are errors naming the file line, never silently read as other data. */
describe('generic long format', () => {
  it('a JSONL row with "quality": null (a missing outcome, as pandas to_json writes NaN) is not read as a wrong answer (0)', async () => {
    const f = write(
      'null-quality.jsonl',
      '{"prompt_id":"a","prompt":"2+2?","model":"m","quality":1}\n{"prompt_id":"a","prompt":"2+2?","model":"n","quality":null}\n',
    );
    // A missing outcome is a missing row (the documented format): rejected, naming the row, never quality 0.
    const d = await load(f);
    expect(d).toBeInstanceOf(Error);
    expect((d as Error).message).toMatch(/line 2 quality: missing/);
  });

  it('a CSV row with more fields than the header is rejected, not silently truncated', async () => {
    // The prompt is the last column and contains an unquoted comma: its tail is dropped without a word.
    const f = write('extra-field.csv', 'prompt_id,model,quality,prompt\np1,a,1,Translate: hello, world\np1,b,0,"Translate: hello, world"\n');
    const d = await load(f);
    expect(d).toBeInstanceOf(Error);
    expect((d as Error).message).toMatch(/line 2/);
  });

  it('two rows for the same prompt_id and model are reported, not silently overwritten by the last', async () => {
    const f = write('dup-model.csv', 'prompt_id,prompt,model,quality\np1,2+2?,a,1\np1,2+2?,b,1\np1,2+2?,a,0\n');
    const d = await load(f);
    expect(d).toBeInstanceOf(Error);
    expect((d as Error).message).toMatch(/line 4 model: a second outcome of model "a" on prompt_id "p1" \(the first is at line 2/);
  });

  it('one prompt_id used for two different prompts is reported, not merged under the first prompt', async () => {
    // Ids restarting at 1 per task (a common export bug): the second prompt's outcomes get the first prompt's text.
    const f = write(
      'dup-id.csv',
      'prompt_id,prompt,model,quality,task\n1,What is 2+2?,a,1,math\n1,What is 2+2?,b,0,math\n1,Write a haiku,a,0,poetry\n1,Write a haiku,b,1,poetry\n',
    );
    const d = await load(f);
    expect(d).toBeInstanceOf(Error);
    expect((d as Error).message).toMatch(/line 4 prompt: prompt_id "1" has another prompt than at line 2/);
  });

  it('a JSONL file that starts with a byte order mark loads like the same CSV does', async () => {
    const f = write('bom.jsonl', '\ufeff{"prompt_id":"a","prompt":"2+2?","model":"m","quality":1}\n{"prompt_id":"a","prompt":"2+2?","model":"n","quality":0}\n');
    const d = await load(f);
    expect(d instanceof Error ? d.message.replace(dir, '<dir>') : `loaded ${d.examples.length}`).toBe('loaded 1');
  });
});

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Values of the wrong type are refused naming the line and field, never read as other data. */
describe('generic long format: value types', () => {
  it('a prompt given as an object (e.g. {"text": ...} or a chat message) is refused, not trained on as "[object Object]"', async () => {
    const rows = [];
    for (let i = 0; i < 4; i++) {
      for (const [model, quality] of [['small', i % 2], ['big', 1]] as const) rows.push({ prompt_id: `p${i}`, prompt: { text: `question number ${i}` }, model, quality });
    }
    const d = await load(write('object-prompt.jsonl', jsonl(rows)));
    expect(d instanceof Error ? d.message : 'loaded').toMatch(/line 1 prompt: expected a string, got \{"text":"question number 0"\}/);
  });

  it('a quality given as an array ([] or [1]) is refused, not read as 0 or 1', async () => {
    const f = write('array-quality.jsonl', jsonl([
      { prompt_id: 'a', prompt: '2+2?', model: 'm', quality: [] },
      { prompt_id: 'a', prompt: '2+2?', model: 'n', quality: [1] },
    ]));
    const d = await load(f);
    expect(d instanceof Error ? d.message : 'loaded').toMatch(/line 1 quality: expected a number in \[0,1\] or true\/false, got \[\]/);
  });

  it('a model, cost_usd or task of another type is refused naming its field; a numeric prompt_id is taken as text', async () => {
    const row = { prompt_id: 7, prompt: '2+2?', model: 'm', quality: 1 };
    const errorOf = async (name: string, extra: object) => {
      const d = await load(write(name, jsonl([{ ...row, model: 'n' }, { ...row, ...extra }])));
      return d instanceof Error ? d.message.replace(/^.*: line/, 'line') : 'loaded';
    };
    expect(await errorOf('model.jsonl', { model: ['m'] })).toMatch(/^line 2 model: expected a string, got \["m"\]/);
    expect(await errorOf('cost.jsonl', { cost_usd: true })).toMatch(/^line 2 cost_usd: expected a cost in USD >= 0, got true/);
    expect(await errorOf('task.jsonl', { task: 3 })).toMatch(/^line 2 task: expected a string, got 3/);
    const d = await load(write('numeric-id.jsonl', jsonl([{ ...row, model: 'n' }, row])));
    expect(d instanceof Error ? d.message : d.examples.map((e) => e.id)).toEqual(['7']);
  });

  it('a CSV header naming a column twice (two "quality" columns) is refused, not read from the last one', async () => {
    const f = write('two-quality-columns.csv', 'prompt_id,prompt,model,quality,quality\np1,a,m,1,0\np1,a,n,0,1\n');
    const d = await load(f);
    expect(d instanceof Error ? d.message : 'loaded').toMatch(/line 1: the header names column "quality" twice/);
  });

  it('quality True/False (as pandas writes booleans to CSV, any case) and JSON true/false read as 1 and 0', async () => {
    const csv = await load(write('bool.csv', 'prompt_id,prompt,model,quality\np1,a,m,True\np1,a,n,False\np2,b,m,true\np2,b,n,FALSE\n'));
    const json = await load(write('bool.jsonl', jsonl([
      { prompt_id: 'p1', prompt: 'a', model: 'm', quality: true },
      { prompt_id: 'p1', prompt: 'a', model: 'n', quality: false },
    ])));
    expect(csv instanceof Error ? csv.message : csv.examples.map((e) => e.quality)).toEqual([[1, 0], [1, 0]]);
    expect(json instanceof Error ? json.message : json.examples.map((e) => e.quality)).toEqual([[1, 0]]);
    // Other words are still refused.
    const yes = await load(write('yes.csv', 'prompt_id,prompt,model,quality\np1,a,m,yes\np1,a,n,0\n'));
    expect(yes instanceof Error ? yes.message : 'loaded').toMatch(/line 2 quality: expected a number in \[0,1\] or true\/false, got "yes"/);
  });

  it('a CSV header lacking a required column (spaces after the commas, a misspelling) is an error naming line 1 and the header, not "missing" on every row', async () => {
    const spaced = await load(write('spaced-header.csv', 'prompt_id, prompt, model, quality\np1,a,m,1\np1,a,n,0\n'));
    expect(spaced instanceof Error ? spaced.message.replace(/^Routing data [^:]*: /, '') : 'loaded').toMatch(/^line 1: the header has no column "prompt" \(required: prompt_id, prompt, model, quality; the header names "prompt_id", " prompt", " model", " quality"\)/);
    const typo = await load(write('typo-header.csv', 'prompt_id,prompt,model,qualty\np1,a,m,1\n'));
    expect(typo instanceof Error ? typo.message.replace(/^Routing data [^:]*: /, '') : 'loaded').toMatch(/^line 1: the header has no column "quality"/);
    // A header alone, or an empty file: no rows.
    expect(await load(write('header-only.csv', 'prompt_id,prompt,model,quality\n')).then((d) => (d instanceof Error ? d.message : 'loaded'))).toMatch(/: no rows$/);
    expect(await load(write('empty.csv', '')).then((d) => (d instanceof Error ? d.message : 'loaded'))).toMatch(/: no rows$/);
  });

  it('a JSONL line with a trailing comma (a JSON array cut into lines) is refused naming its line once', async () => {
    const d = await load(write('trailing-comma.jsonl', '{"prompt_id":"a","prompt":"p","model":"m","quality":1}\n\n{"prompt_id":"a","prompt":"p","model":"n","quality":0},\n'));
    expect(d instanceof Error ? d.message.replace(/^Routing data [^:]*: /, '') : 'loaded').toMatch(/^line 3: not a JSON object \(/);
  });

  it('a quality or cost written as hex, binary or octal ("0x1", "0b1", "0o1") is refused, not read as the number JavaScript makes of it', async () => {
    const errorOf = async (name: string, text: string) => {
      const d = await load(write(name, text));
      return d instanceof Error ? d.message.replace(/^.*: line/, 'line') : d.examples.map((e) => [e.quality, e.cost]);
    };
    const head = 'prompt_id,prompt,model,quality,cost_usd\np1,a,m,1,0.5\n';
    expect(await errorOf('hex-quality.csv', `${head}p1,a,n,0x1,0.5\n`)).toMatch(/^line 3 quality: expected a number in \[0,1\] or true\/false, got "0x1"/);
    expect(await errorOf('bin-quality.csv', `${head}p1,a,n,0b1,0.5\n`)).toMatch(/^line 3 quality: expected a number in \[0,1\] or true\/false, got "0b1"/);
    expect(await errorOf('oct-cost.csv', `${head}p1,a,n,0,0o7\n`)).toMatch(/^line 3 cost_usd: expected a cost in USD >= 0, got "0o7"/);
    // JSONL: text is refused whatever it holds (see the next test).
    expect(await errorOf('hex-cost.jsonl', jsonl([{ prompt_id: 'p1', prompt: 'a', model: 'm', quality: 1, cost_usd: 1 }, { prompt_id: 'p1', prompt: 'a', model: 'n', quality: 0, cost_usd: '0x10' }]))).toMatch(/^line 2 cost_usd: expected a cost in USD >= 0 as a JSON number, got the string "0x10"/);
    // Decimal text in every usual spelling still reads as its number.
    expect(await errorOf('decimal.csv', `${head}p1,a,n, .5 ,1e-3\np2,b,m,+1.0,2E0\np2,b,n,0.,0\n`)).toEqual([[[1, 0.5], [0.5, 0.001]], [[1, 0], [2, 0]]]);
  });
});

describe('generic long format: JSONL numbers are JSON numbers', () => {
  it('a JSONL quality or cost given as a numeric string ("0.5", "True") is refused naming the file, line and field; the same text in CSV reads as its number', async () => {
    const row = { prompt_id: 'p1', prompt: '2+2?', quality: 1, cost_usd: 0.01 };
    const errorOf = async (name: string, bad: object) => {
      const d = await load(write(name, jsonl([{ ...row, model: 'm' }, { ...row, model: 'n', ...bad }])));
      return d instanceof Error ? d.message.replace(dir, '<dir>') : 'loaded';
    };
    expect(await errorOf('string-quality.jsonl', { quality: '0.5' })).toBe('Routing data <dir>/string-quality.jsonl: line 2 quality: expected a JSON number in [0,1] or true/false, got the string "0.5" (write numbers without quotes)');
    expect(await errorOf('string-bool-quality.jsonl', { quality: 'True' })).toMatch(/: line 2 quality: expected a JSON number in \[0,1\] or true\/false, got the string "True"/);
    expect(await errorOf('string-cost.jsonl', { cost_usd: '0.01' })).toBe('Routing data <dir>/string-cost.jsonl: line 2 cost_usd: expected a cost in USD >= 0 as a JSON number, got the string "0.01" (write numbers without quotes)');
    // Through the CLI: a usage error naming --data, the file, the line and the field.
    const { runCli } = await import('../../cli/__fixtures__/cli-harness.js');
    const r = await runCli(['router', 'train', '--data', 'string-quality.jsonl', '--out', 'never.json'], { cwd: dir });
    expect({ code: r.code, stderr: r.stderr.replace(dir, '<dir>') }).toEqual({
      code: 2,
      stderr: 'llmrr router train: --data: Routing data <dir>/string-quality.jsonl: line 2 quality: expected a JSON number in [0,1] or true/false, got the string "0.5" (write numbers without quotes) (see llmrr router train --help)\n',
    });
    // CSV cells are text by nature: the same values read as numbers.
    const csv = await load(write('text-numbers.csv', 'prompt_id,prompt,model,quality,cost_usd\np1,2+2?,m,1,0.01\np1,2+2?,n,0.5,0.01\n'));
    expect(csv instanceof Error ? csv.message : csv.examples.map((e) => [e.quality, e.cost])).toEqual([[[1, 0.5], [0.01, 0.01]]]);
    // JSON numbers, booleans and a null cost (a missing one) still load.
    const ok = await load(write('typed.jsonl', jsonl([{ ...row, model: 'm', quality: 0.5 }, { ...row, model: 'n', quality: true, cost_usd: null }, { ...row, prompt_id: 'p2', prompt: '3+3?', model: 'n' }])));
    expect(ok instanceof Error ? ok.message : ok.examples.map((e) => e.quality)).toEqual([[0.5, 1], [NaN, 1]]);
  });
});

describe('generic long format: a folder of long-format files', () => {
  const row = (id: string, prompt: string, model: string, quality: number) => ({ prompt_id: id, prompt, model, quality });

  it('is read as one file: every .csv and .jsonl file\'s rows concatenated (one file per model), prompt ids shared across files', async () => {
    write('per-model/strong.jsonl', jsonl([row('p1', '2+2?', 'strong', 1), row('p2', 'a haiku', 'strong', 1)]));
    write('per-model/weak.csv', 'prompt_id,prompt,model,quality\np1,2+2?,weak,1\np2,a haiku,weak,0\np3,3+3?,weak,1\n');
    write('per-model/README.md', 'notes\n');
    const d = await load(join(dir, 'per-model'));
    expect(d instanceof Error ? d.message : { name: d.name, format: d.format, models: d.models, examples: d.examples.map((e) => [e.id, e.prompt, e.quality]) }).toEqual({
      name: 'per-model',
      format: 'long',
      models: ['strong', 'weak'],
      examples: [['p1', '2+2?', [1, 1]], ['p2', 'a haiku', [1, 0]], ['p3', '3+3?', [NaN, 1]]],
    });
  });

  it('one prompt_id with another prompt in another file, or two outcomes of one model on one prompt across files, is an error naming both files and lines', async () => {
    write('clash/a.jsonl', jsonl([row('1', 'What is 2+2?', 'm', 1), row('1', 'What is 2+2?', 'n', 0)]));
    write('clash/b.jsonl', jsonl([row('2', 'x', 'm', 1), row('1', 'Write a haiku', 'm', 0)]));
    const clash = await load(join(dir, 'clash'));
    expect(clash instanceof Error ? clash.message.replace(dir, '<dir>') : 'loaded').toBe('Routing data <dir>/clash: b.jsonl line 2 prompt: prompt_id "1" has another prompt than at a.jsonl line 1 (one id per prompt)');
    write('twice/a.csv', 'prompt_id,prompt,model,quality\n1,hi,m,1\n1,hi,n,0\n');
    write('twice/b.csv', 'prompt_id,prompt,model,quality\n1,hi,m,0\n');
    const twice = await load(join(dir, 'twice'));
    expect(twice instanceof Error ? twice.message : 'loaded').toMatch(/twice: b\.csv line 2 model: a second outcome of model "m" on prompt_id "1" \(the first is at a\.csv line 2; one row per prompt and model\)$/);
  });

  it('a file of the folder that is not in the long format (a header without prompt_id), or a JSONL number given as text, is an error naming that file', async () => {
    write('odd/a.csv', 'prompt_id,prompt,model,quality\n1,hi,m,1\n1,hi,n,0\n');
    write('odd/b.csv', 'id,text,model,score\n1,hi,m,1\n');
    const odd = await load(join(dir, 'odd'));
    expect(odd instanceof Error ? odd.message.replace(dir, '<dir>') : 'loaded').toMatch(/^Routing data <dir>\/odd\/b\.csv: line 1: the header has no column "prompt_id"/);
    write('text-number/a.jsonl', jsonl([row('1', 'hi', 'm', 1), { ...row('1', 'hi', 'n', 0), quality: '0' }]));
    const text = await load(join(dir, 'text-number'));
    expect(text instanceof Error ? text.message.replace(dir, '<dir>') : 'loaded').toMatch(/^Routing data <dir>\/text-number: a\.jsonl line 2 quality: expected a JSON number/);
  });

  it('trains through the CLI (router train --data <folder>)', async () => {
    const rows: object[] = [];
    for (let i = 0; i < 60; i++) rows.push(row(`p${i}`, `question ${i} about ${i % 2 ? 'sums' : 'poems'}`, 'weak', i % 2), row(`p${i}`, `question ${i} about ${i % 2 ? 'sums' : 'poems'}`, 'strong', 1));
    write('cli-folder/first.jsonl', jsonl(rows.slice(0, 60)));
    write('cli-folder/second.jsonl', jsonl(rows.slice(60)));
    const { runCli } = await import('../../cli/__fixtures__/cli-harness.js');
    const r = await runCli(['router', 'train', '--data', 'cli-folder', '--out', 'cli-folder-model.json', '--hash-dim', '256', '--predictor', 'logistic', '--json'], { cwd: dir });
    expect({ code: r.code, log: r.stderr.split('\n')[0], summary: r.code === 0 ? JSON.parse(r.stdout) : r.stderr }).toMatchObject({ code: 0, log: 'training on cli-folder: 2 models, 60 prompts', summary: { models: ['strong', 'weak'], examples: 60 } });
  });

  it('a prompt\'s task does not depend on the order of rows or files: a row (a file) without a task keeps the one another gives; two tasks for one prompt are an error naming both files and lines', async () => {
    const tagged = jsonl([{ ...row('p1', '2+2?', 'strong', 1), task: 'math' }, { ...row('p2', 'a haiku', 'strong', 1), task: 'poetry' }]);
    const untagged = jsonl([row('p1', '2+2?', 'weak', 1), row('p2', 'a haiku', 'weak', 0)]);
    write('task-first/a.jsonl', tagged);
    write('task-first/b.jsonl', untagged);
    write('task-last/a.jsonl', untagged);
    write('task-last/b.jsonl', tagged);
    const tasks = async (folder: string) => {
      const d = await load(join(dir, folder));
      return d instanceof Error ? d.message : d.examples.map((e) => [e.id, e.task]);
    };
    expect({ first: await tasks('task-first'), last: await tasks('task-last') }).toEqual({ first: [['p1', 'math'], ['p2', 'poetry']], last: [['p1', 'math'], ['p2', 'poetry']] });
    // Within one file too: the task of a later row fills in a prompt whose first row had none.
    const one = await load(write('task-later-row.csv', 'prompt_id,prompt,model,quality,task\np1,2+2?,weak,1,\np1,2+2?,strong,1,math\n'));
    expect(one instanceof Error ? one.message : one.examples.map((e) => e.task)).toEqual(['math']);
    write('task-clash/a.jsonl', jsonl([{ ...row('1', 'hi', 'm', 1), task: 'math' }]));
    write('task-clash/b.csv', 'prompt_id,prompt,model,quality,task\n1,hi,n,0,\n1,hi,o,0,poetry\n');
    const clash = await load(join(dir, 'task-clash'));
    expect(clash instanceof Error ? clash.message.replace(dir, '<dir>') : 'loaded').toBe(
      'Routing data <dir>/task-clash: b.csv line 3 task: prompt_id "1" has task "poetry" here but task "math" at a.jsonl line 1 (one task per prompt; a row without a task takes the prompt\'s)',
    );
  });

  it('extensions are matched in any case: a folder of only B.CSV and C.JSONL is read, and so is an upper-case file given alone', async () => {
    write('upper/B.CSV', 'prompt_id,prompt,model,quality\np1,2+2?,weak,1\np2,a haiku,weak,0\n');
    write('upper/C.JSONL', jsonl([row('p1', '2+2?', 'strong', 1), row('p2', 'a haiku', 'strong', 1)]));
    const d = await load(join(dir, 'upper'));
    expect(d instanceof Error ? d.message : { models: d.models, examples: d.examples.map((e) => [e.id, e.quality]) }).toEqual({ models: ['strong', 'weak'], examples: [['p1', [1, 1]], ['p2', [1, 0]]] });
    // One file alone: a JSONL file is held to the JSONL rules (a number as text refused), whatever the case of its name.
    const alone = await load(join(dir, 'upper/C.JSONL'));
    expect(alone instanceof Error ? alone.message : alone.models).toEqual(['strong']);
    const text = await load(write('TEXT-NUMBER.JSONL', jsonl([{ ...row('1', 'hi', 'm', 1), quality: '1' }])));
    expect(text instanceof Error ? text.message : 'loaded').toMatch(/TEXT-NUMBER\.JSONL: line 1 quality: expected a JSON number/);
  });

  it('an entry named as data that is no readable file (a sub-folder old.csv, a dangling link, a named pipe) is an error naming it; a sub-folder of another name is left alone', async () => {
    const pair = jsonl([row('p1', '2+2?', 'strong', 1), row('p1', '2+2?', 'weak', 0)]);
    const folder = (name: string) => {
      write(`${name}/a.jsonl`, pair);
      return join(dir, name);
    };
    mkdirSync(join(folder('sub-named-csv'), 'old.csv'));
    symlinkSync(join(dir, 'no-such-file.jsonl'), join(folder('dangling'), 'c.jsonl'));
    execFileSync('mkfifo', [join(folder('pipe'), 'p.csv')]);
    mkdirSync(join(folder('sub-other'), 'archive'));
    write('sub-other/archive/old.jsonl', 'not json\n');
    const message = async (name: string) => {
      const d = await load(join(dir, name));
      return d instanceof Error ? d.message.replaceAll(dir, '<dir>') : `loaded ${d.models.join(', ')}`;
    };
    const tail = ': every .csv, .json and .jsonl entry of a data folder is read as data (rename or move it)';
    expect({ sub: await message('sub-named-csv'), dangling: await message('dangling'), pipe: await message('pipe'), other: await message('sub-other') }).toEqual({
      sub: `Routing data <dir>/sub-named-csv: old.csv: is a folder, not a file${tail}`,
      dangling: `Routing data <dir>/dangling: c.jsonl: is a symbolic link to "<dir>/no-such-file.jsonl" that leads to no readable file (ENOENT)${tail}`,
      pipe: `Routing data <dir>/pipe: p.csv: is not a regular file (a named pipe, a device or a socket)${tail}`,
      other: 'loaded strong, weak',
    });
  });

  it('two entries whose names differ only in case (toy_test.csv and TOY_TEST.CSV: one file copied twice) are refused naming both, never read twice', async () => {
    const pair = jsonl([row('p1', '2+2?', 'strong', 1), row('p1', '2+2?', 'weak', 0)]);
    write('case-twice/a.jsonl', pair);
    write('case-twice/A.JSONL', pair);
    const header = 'sample_id,prompt,eval_name,a,b,a|total_cost,b|total_cost';
    write('case-twice-rb/toy_train.csv', `${header}\ns1,q1,toy,1,0,0.1,0.2\ns2,q2,toy,0,1,0.1,0.2\n`);
    write('case-twice-rb/toy_test.csv', `${header}\ns3,q3,toy,1,0,0.1,0.2\n`);
    write('case-twice-rb/TOY_TEST.CSV', `${header}\ns3,q3,toy,1,0,0.1,0.2\n`);
    const message = async (name: string) => {
      const d = await load(join(dir, name));
      return d instanceof Error ? d.message.replaceAll(dir, '<dir>') : `loaded ${d.examples.length} prompts`;
    };
    const tail = 'names that differ only in case would be read as two files (the same data twice); keep one of them';
    expect({ long: await message('case-twice'), routerbench: await message('case-twice-rb') }).toEqual({
      long: `Routing data <dir>/case-twice: data: holds both "A.JSONL" and "a.jsonl": ${tail}`,
      routerbench: `Routing data <dir>/case-twice-rb: data: holds both "TOY_TEST.CSV" and "toy_test.csv": ${tail}`,
    });
  });

  it('a file-system error while reading (a RouteLLM-looking folder whose mmlu is a file) is a data error naming the entry, not a crash', async () => {
    write('not-routellm/mmlu', '');
    write('not-routellm/gsm8k', '');
    const d = await load(join(dir, 'not-routellm'));
    expect(d instanceof Error ? { code: (d as { code?: string }).code, message: d.message.replace(dir, '<dir>') } : 'loaded').toEqual({
      code: 'invalid_request',
      message: expect.stringMatching(/^Routing data <dir>\/not-routellm: mmlu: cannot read it \(ENOTDIR: /),
    });
  });
});

describe('generic long format: a folder of long-format files through the CLI (a child process)', () => {
  /** JSONL rows of one model on prompts 0..59 (`extra` adds fields such as task). */
  const modelRows = (model: string, quality: (i: number) => number, extra: (i: number) => object = () => ({})) =>
    jsonl(Array.from({ length: 60 }, (_, i) => ({ prompt_id: `p${i}`, prompt: `question ${i} about ${i % 2 ? 'sums' : 'poems'}`, model, quality: quality(i), ...extra(i) })));
  const train = (data: string, out: string) => llmrr(['router', 'train', '--data', join(dir, data), '--out', join(dir, out), '--hash-dim', '256', '--predictor', 'logistic', '--json']);

  it('an entry that is not a readable file (a sub-folder named old.csv, a dangling link c.jsonl) is a usage error naming --data and it (exit 2), not an internal error', { timeout: 120_000 }, async () => {
    write('cli-subdir/a.jsonl', modelRows('weak', (i) => i % 2));
    write('cli-subdir/b.jsonl', modelRows('strong', () => 1));
    mkdirSync(join(dir, 'cli-subdir/old.csv'));
    const sub = await train('cli-subdir', 'sub.json');
    write('cli-dangling/a.jsonl', modelRows('weak', (i) => i % 2));
    write('cli-dangling/b.jsonl', modelRows('strong', () => 1));
    symlinkSync(join(dir, 'no-such-file.jsonl'), join(dir, 'cli-dangling/c.jsonl'));
    const dangling = await train('cli-dangling', 'dangling.json');
    expect([{ code: sub.code, stderr: sub.stderr }, { code: dangling.code, stderr: dangling.stderr }]).toEqual([
      { code: 2, stderr: expect.stringMatching(/^llmrr router train: --data: .*old\.csv/) },
      { code: 2, stderr: expect.stringMatching(/^llmrr router train: --data: .*c\.jsonl/) },
    ]);
  });

  it('a named pipe below a RouteLLM-shaped folder (mmlu/mmlu_x.csv, gsm8k/gsm8k_responses.csv, mt_bench/question.jsonl) is a usage error naming it, never waited on', { timeout: 200_000 }, async () => {
    const routellm = (name: string, pipe: string) => {
      for (const sub of ['mmlu', 'gsm8k', 'mt_bench']) mkdirSync(join(dir, name, sub), { recursive: true });
      execFileSync('mkfifo', [join(dir, name, pipe)]);
      return train(name, `${name}.json`);
    };
    // Each run is killed by the helper's hang guard (code null) when it waits on the pipe for a writer.
    const mmlu = await routellm('cli-pipe-mmlu', 'mmlu/mmlu_x.csv');
    write('cli-pipe-gsm8k/mmlu/mmlu_a.csv', 'prompt,mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview\nq,True,False\n');
    const gsm8k = await routellm('cli-pipe-gsm8k', 'gsm8k/gsm8k_responses.csv');
    write('cli-pipe-mt/mmlu/mmlu_a.csv', 'prompt,mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview\nq,True,False\n');
    write('cli-pipe-mt/gsm8k/gsm8k_responses.csv', 'prompt,mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview\nq,True,False\n');
    const mt = await routellm('cli-pipe-mt', 'mt_bench/question.jsonl');
    const seen = (r: { code: number | null; stderr: string }) => ({ code: r.code, stderr: r.stderr.replaceAll(dir, '<dir>') });
    expect({ mmlu: seen(mmlu), gsm8k: seen(gsm8k), mt: seen(mt) }).toEqual({
      mmlu: { code: 2, stderr: 'llmrr router train: --data: Routing data <dir>/cli-pipe-mmlu/mmlu: mmlu_x.csv: is not a regular file (a named pipe, a device or a socket): every .csv entry of a data folder is read as data (rename or move it) (see llmrr router train --help)\n' },
      gsm8k: { code: 2, stderr: 'llmrr router train: --data: Routing data <dir>/cli-pipe-gsm8k/gsm8k: gsm8k_responses.csv: is not a regular file (a named pipe, a device or a socket): give a file (see llmrr router train --help)\n' },
      mt: { code: 2, stderr: 'llmrr router train: --data: Routing data <dir>/cli-pipe-mt/mt_bench: question.jsonl: is not a regular file (a named pipe, a device or a socket): give a file (see llmrr router train --help)\n' },
    });
  });

  it('a long-format file whose name ends in upper case (C.JSONL) is read, never left out without a word', { timeout: 120_000 }, async () => {
    write('cli-upper/a.jsonl', modelRows('weak', (i) => i % 2));
    write('cli-upper/b.jsonl', modelRows('strong', () => 1));
    write('cli-upper/C.JSONL', modelRows('third', (i) => (i % 3 ? 1 : 0)));
    const r = await train('cli-upper', 'upper.json');
    expect({ code: r.code, models: r.code === 0 ? (JSON.parse(r.stdout) as { models: string[] }).models : r.stderr }).toEqual({ code: 0, models: ['strong', 'third', 'weak'] });
  });

  it('the tasks of a prompt do not depend on the file names: a file without a task column sorting first does not erase the tasks of another file', { timeout: 120_000 }, async () => {
    const tagged = modelRows('strong', () => 1, (i) => ({ task: i % 2 ? 'math' : 'poetry' }));
    const untagged = modelRows('weak', (i) => i % 2);
    // Same two files, only their names (so their order) differ.
    write('cli-tasks-first/a.jsonl', tagged);
    write('cli-tasks-first/b.jsonl', untagged);
    write('cli-tasks-last/a.jsonl', untagged);
    write('cli-tasks-last/b.jsonl', tagged);
    const first = await train('cli-tasks-first', 'tasks-first.json');
    const last = await train('cli-tasks-last', 'tasks-last.json');
    const tasksOf = (r: { code: number | null; stderr: string }, out: string) => (r.code === 0 ? (JSON.parse(readFileSync(join(dir, out), 'utf8')) as { training: { tasks: string[] } }).training.tasks : r.stderr);
    expect({ first: tasksOf(first, 'tasks-first.json'), last: tasksOf(last, 'tasks-last.json') }).toEqual({ first: ['math', 'poetry'], last: ['math', 'poetry'] });
  });
});

describe('generic long format: lines of multi-line CSV records', () => {
  it('CSV written with CRLF (Excel on Windows) whose prompts span lines: the error names the line the bad record ends on', async () => {
    // Lines: 1 header; 2-3 first record; 4-5 second; 6-7 third (quality 2, out of range). The file has 7 lines.
    const f = write('crlf-multiline.csv', 'prompt_id,prompt,model,quality\r\np1,"line one\r\nline two, with comma",a,1\r\np1,"line one\r\nline two, with comma",b,0\r\np2,"x\r\ny",a,2\r\n');
    const d = await load(f);
    expect(d instanceof Error ? d.message : 'loaded').toMatch(/line 7 quality/);
  });

  it('LF, CRLF and lone-CR files with blank lines, a BOM and non-ASCII prompts name the same line', async () => {
    const lines = ['prompt_id,prompt,model,quality', 'p1,"caf\u00e9', 'cr\u00e8me",a,1', '', 'p1,"caf\u00e9', 'cr\u00e8me",b,0', 'p2,"x', 'y",a,2'];
    const messages = [];
    for (const [name, eol] of [['lf', '\n'], ['crlf', '\r\n'], ['cr', '\r']] as const) {
      // The prompt's own line break is the file's, as an editor saving it writes it.
      const d = await load(write(`lines-${name}.csv`, `\ufeff${lines.join(eol)}${eol}`));
      messages.push(d instanceof Error ? d.message.replace(/^.*: line/, 'line') : 'loaded');
    }
    expect(messages).toEqual(Array(3).fill('line 8 quality: expected a number in [0,1] or true/false, got "2"'));
  });

  it("csv-parse's own syntax errors name the same line in LF, CRLF and lone-CR files (a CRLF inside quotes is one line)", async () => {
    const cases: Array<[string, string[], RegExp]> = [
      // Lines 2-3 and 4-5 are multi-line prompts; line 6 has a fifth field (an unquoted comma).
      ['extra-field', ['prompt_id,prompt,model,quality', 'p1,"line one', 'line two",a,1', 'p1,"x', 'y",b,0', 'p2,x,a,1,extra'], /columns length is 4, got 5 on line 6\)/],
      ['opening-quote', ['prompt_id,prompt,model,quality', 'p1,"line one', 'line two",a,1', 'p1,"x', 'y",b,0', 'p2,x"y,a,1'], /Invalid Opening Quote: .* at line 6,/],
      ['closing-quote', ['prompt_id,prompt,model,quality', 'p1,"line one', 'line two",a,1', 'p1,"x ""q""', 'y" z,b,0'], /Invalid Closing Quote: .* at line 5 /],
      // The line of the quote that is never closed (csv-parse names the last line in an LF file).
      ['quote-not-closed', ['prompt_id,prompt,model,quality', 'p1,"line one', 'line two",a,1', 'p1,"x ""q""', 'y,b,0', 'p2,z,a,1'], /Quote Not Closed: .* at line 4\)/],
    ];
    for (const [name, lines, expected] of cases) {
      for (const [kind, eol] of [['lf', '\n'], ['crlf', '\r\n'], ['cr', '\r']] as const) {
        const d = await load(write(`${name}-${kind}.csv`, `${lines.join(eol)}${eol}`));
        expect(d instanceof Error ? d.message : 'loaded', `${name} ${kind}`).toMatch(expected);
      }
    }
  });

  it('a syntax error in a CRLF file with a lone CR in an unquoted field names its own record, not a later bad one', async () => {
    // A lone CR in a CRLF file is data for csv-parse (p1 has 5 fields) and a line break for an editor: p1 ends on line 3.
    const lines = ['prompt_id,prompt,model,quality', 'p1,a\rb,c,m,1', 'p2,x,m,1', 'p3,y,m,1', 'p4,z,m,1,extra'];
    const d = await load(write('lone-cr-in-crlf.csv', `${lines.join('\r\n')}\r\n`));
    expect(d instanceof Error ? d.message : 'loaded').toMatch(/columns length is 4, got 5 on line 3\)/);
  });
});
