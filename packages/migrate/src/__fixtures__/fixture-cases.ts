import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { transformFile } from '../codemod/transform-file.js';
import type { FileTransformResult } from '../codemod/types.js';

/**
 * Fixture runner: every folder under fixtures/<transform>/<case>/ holds `input.<ext>`, the expected
 * `output.<ext>`, the expected `report.txt` (what could not be converted and the warnings) and optionally
 * `options.json` ({ "to": 2|3, "tenant": "..." }). UPDATE_FIXTURES=1 rewrites outputs and reports.
 */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

export interface FixtureCase {
  group: string;
  name: string;
  dir: string;
  inputFile: string;
  outputFile: string;
  options: { to: 2 | 3; tenant?: string };
}

export function listFixtures(): FixtureCase[] {
  const cases: FixtureCase[] = [];
  for (const group of readdirSync(root).sort()) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const dir = join(root, group, name);
      const input = readdirSync(dir).find((f) => f.startsWith('input.'));
      if (!input) continue;
      const optionsPath = join(dir, 'options.json');
      const options = existsSync(optionsPath) ? (JSON.parse(readFileSync(optionsPath, 'utf8')) as FixtureCase['options']) : { to: 2 as const };
      cases.push({ group, name, dir, inputFile: join(dir, input), outputFile: join(dir, input.replace(/^input/, 'output')), options });
    }
  }
  return cases;
}

export function runFixture(c: FixtureCase): FileTransformResult {
  const name = c.inputFile.slice(c.dir.length + 1);
  return transformFile(name, readFileSync(c.inputFile, 'utf8'), { ...c.options, explicit: true });
}

export function report(r: FileTransformResult): string {
  const lines = [
    ...r.errors.map((e) => `error: ${e}`),
    ...r.skipped.map((s) => `${s.file}:${s.line}:${s.column}: cannot convert: ${s.reason}`),
    ...r.issues.filter((i) => i.severity !== 'info').map((i) => `${i.line !== undefined ? `line ${i.line}: ` : ''}${i.severity}: ${i.path ? `${i.path}: ` : ''}${i.message}`),
  ];
  return lines.length ? `${lines.join('\n')}\n` : '(nothing to report)\n';
}

/** The config a fixture output holds, for config files. */
export function configOf(file: string, text: string): unknown {
  if (file.endsWith('.json')) return JSON.parse(text);
  if (/\.ya?ml$/.test(file)) return parseYaml(text);
  return undefined;
}

