import { basename, join } from 'node:path';
import { listDataFiles } from './data-files.js';
import { datasetError } from './dataset-error.js';
import { pythonListText } from './python-list-text.js';
import { decimal, parseOutcome, readCsv } from './read-csv.js';
import { recordPlace } from './record-line.js';
import type { RoutingDataset, RoutingExample, Split } from './types.js';

const COST_SUFFIX = '|total_cost';

/**
 * One RouterBench wide CSV (`sample_id, prompt, eval_name`, a 0/1 column per model, `<model>|total_cost`,
 * `<model>|model_response`). Models are the ones with both a correctness and a cost column. The split
 * comes from a `_train`/`_test` file name suffix, in any case (`TOY_TEST.CSV`: task toy, split test; file tasks are
 * lower case, as open-7B's are).
 */
export async function loadRouterBenchCsv(file: string): Promise<{ models: string[]; examples: RoutingExample[] }> {
  const { columns, rows } = await readCsv(file);
  if (!columns.includes('prompt')) throw datasetError(file, 'missing column "prompt"', 'prompt');
  const models = columns.filter((c) => !c.includes('|') && columns.includes(`${c}${COST_SUFFIX}`)).sort();
  if (models.length < 2) throw datasetError(file, `expected per-model correctness and "<model>${COST_SUFFIX}" columns (found ${models.length} models)`);
  const b = basename(file).replace(/\.csv$/i, '');
  const split: Split | undefined = /_train$/i.test(b) ? 'train' : /_test$/i.test(b) ? 'test' : undefined;
  const fileTask = b.replace(/_(train|test)$/i, '').toLowerCase();
  const examples = rows.map((r, i): RoutingExample => {
    const task = r['eval_name'] || fileTask;
    const e: RoutingExample = {
      id: `${fileTask}/${split ?? 'all'}/${r['sample_id'] || i}`,
      prompt: pythonListText(r['prompt'] ?? ''),
      task,
      quality: models.map((m) => parseOutcome(r[m], file, `${recordPlace(r, i)} ${m}`)),
      cost: models.map((m) => {
        const v = (r[`${m}${COST_SUFFIX}`] ?? '').trim();
        const n = v === '' ? NaN : decimal(v);
        if (v !== '' && (!Number.isFinite(n) || n < 0)) throw datasetError(file, `expected a cost in USD, got "${v}"`, `${recordPlace(r, i)} ${m}${COST_SUFFIX}`);
        return n;
      }),
    };
    if (split) e.split = split;
    return e;
  });
  return { models, examples };
}

/** A RouterBench folder (every `*.csv` in it) or one file. All files must list the same models. */
export async function loadRouterBench(path: string, isDir: boolean): Promise<RoutingDataset> {
  const files = isDir ? (await listDataFiles(path, ['.csv'])).map((f) => join(path, f)) : [path];
  if (files.length === 0) throw datasetError(path, 'no .csv files');
  let models: string[] | undefined;
  const examples: RoutingExample[] = [];
  for (const f of files) {
    const part = await loadRouterBenchCsv(f);
    if (models && part.models.join('\n') !== models.join('\n')) throw datasetError(f, `models differ from the other files (${part.models.join(', ')})`);
    models = part.models;
    examples.push(...part.examples);
  }
  return { name: `routerbench/${basename(path)}`, format: 'routerbench', models: models!, examples };
}
