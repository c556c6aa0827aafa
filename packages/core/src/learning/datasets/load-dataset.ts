import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { dataExtension, listDataFiles } from './data-files.js';
import { datasetError } from './dataset-error.js';
import { loadLongFormat, loadLongFormatDir } from './load-long-format.js';
import { loadOpen7b } from './load-open7b.js';
import { ROUTELLM_STRONG, ROUTELLM_WEAK, loadRouteLlm } from './load-routellm.js';
import { loadRouterBench } from './load-routerbench.js';
import type { RoutingDataset } from './types.js';

/**
 * Loads routing data from a file or folder, recognizing the format from its contents:
 * RouteLLM (`routellm/`, `mmlu/`, `gsm8k/`, `mt_bench/`, or a `prompt, <weak>, <strong>` CSV),
 * RouterBench (wide CSV with `<model>|total_cost` columns, or a folder of them), RouterDC open-7B
 * (JSON lists of `{ question, scores }`), or the generic long format (CSV/JSONL with
 * `prompt_id, prompt, model, quality`; a folder of such files is read as one, see `loadLongFormatDir`).
 */
export async function loadDataset(path: string): Promise<RoutingDataset> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    if (!isPathError(e) || e.code === 'ENOENT' || e.code === 'ENOTDIR') throw datasetError(path, 'not found (give a file or folder; the shared data lives in ../shared/data/routing)', 'data');
    throw datasetError(path, `cannot read it (${e.message})`, 'data');
  }
  try {
    if (info.isDirectory()) return await loadDir(path);
    if (!info.isFile()) throw datasetError(path, 'not a regular file (a named pipe, a device or a socket): give a file or folder', 'data');
    return await loadFile(path);
  } catch (e) {
    // A file the path names that cannot be read (no permission, gone meanwhile) is bad input naming it, not a crash.
    if (!isPathError(e)) throw e;
    const entry = e.path !== undefined && e.path !== path ? relative(path, e.path) : undefined;
    throw datasetError(path, `cannot read it (${e.message})`, entry ?? 'data');
  }
}

/** Error codes of a path that cannot be read as data (the path is at fault, not the machine). */
const PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG', 'ENXIO', 'ENODEV']);

function isPathError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && PATH_ERRORS.has((e as NodeJS.ErrnoException).code ?? '');
}

async function loadFile(path: string): Promise<RoutingDataset> {
  const ext = dataExtension(path);
  if (ext === '.jsonl') return loadLongFormat(path);
  if (ext === '.json') return loadOpen7b(path, false);
  if (ext === '.csv') {
    const head = await firstLine(path);
    if (head.includes('|total_cost')) return loadRouterBench(path, false);
    if (head.includes(ROUTELLM_WEAK) && head.includes(ROUTELLM_STRONG)) return loadRouteLlm(path, 'csv');
    return loadLongFormat(path);
  }
  throw datasetError(path, 'unknown file type (expected .csv, .jsonl or .json)', 'data');
}

async function loadDir(dir: string): Promise<RoutingDataset> {
  // Every .csv, .json and .jsonl entry is data: one that is no readable file (a folder named old.csv, a dangling link,
  // a named pipe), or two whose names differ only in case, are refused by name, never read as a crash, a wait or twice;
  // sub-folders of other names are left alone.
  const files = await listDataFiles(dir, ['.csv', '.json', '.jsonl']);
  const entries = await readdir(dir);
  const has = (n: string) => entries.includes(n);
  if (has('mmlu') && has('gsm8k')) return loadRouteLlm(dir, 'root');
  if (has('judgements.jsonl') && has('question.jsonl')) return loadRouteLlm(dir, 'mt_bench');
  if (has('gsm8k_responses.csv')) return loadRouteLlm(dir, 'gsm8k');
  // Extensions in any case: `B.CSV` is a CSV file, never left out without a word.
  const csv = files.filter((e) => dataExtension(e) === '.csv');
  const json = files.filter((e) => dataExtension(e) === '.json');
  const jsonl = files.filter((e) => dataExtension(e) === '.jsonl');
  // A folder holds one format: a file of another one is refused by name, never left out without a word.
  const oneFormat = (format: string, stray: string[]) => {
    if (stray.length > 0) throw datasetError(dir, `holds ${format} and also ${stray.slice(0, 3).map((f) => JSON.stringify(f)).join(', ')}${stray.length > 3 ? ` (and ${stray.length - 3} more)` : ''}: one format per folder (long-format files in a folder of their own are read as one)`, 'data');
  };
  if (csv.length > 0) {
    const head = await firstLine(join(dir, csv[0]!));
    if (head.includes('|total_cost')) {
      oneFormat('RouterBench CSV files', [...json, ...jsonl]);
      return loadRouterBench(dir, true);
    }
    // RouteLLM's mmlu folder holds contaminated_prompts.jsonl beside the subject CSVs.
    if (head.includes(ROUTELLM_WEAK) && head.includes(ROUTELLM_STRONG)) {
      oneFormat('RouteLLM CSV files', json);
      return loadRouteLlm(dir, 'mmlu');
    }
  }
  if (json.length > 0) {
    oneFormat('RouterDC open-7B .json files', [...csv, ...jsonl]);
    return loadOpen7b(dir, true);
  }
  // Otherwise every .csv and .jsonl file is in the generic long format (each header checked), read as one file.
  if (csv.length + jsonl.length > 0) return loadLongFormatDir(dir, [...csv, ...jsonl].sort());
  throw datasetError(dir, `no routing data recognized in folder "${basename(dir)}"`, 'data');
}

async function firstLine(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * `dataset` when it can teach routing: outcomes of at least two models (a router chooses between models; with one
 * there is nothing to learn, and its evaluation would score a perfect router). Else an `invalid_request` naming it.
 */
export function choiceOfModels(dataset: RoutingDataset): RoutingDataset {
  if (dataset.models.length < 2) {
    const which = dataset.models.length === 1 ? `only model ${JSON.stringify(dataset.models[0])}` : 'no model';
    throw datasetError(dataset.name, `has outcomes of ${which}: routing data needs outcomes of at least 2 models on the same prompts`);
  }
  return dataset;
}
