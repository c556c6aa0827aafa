import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from './load-dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-long-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
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
