import { emptyResult, migrateFileConfig } from './config-file-common.js';
import type { FileTransformOptions, FileTransformResult } from './types.js';

function indentOf(text: string): string | number {
  const m = /\n([ \t]+)\S/.exec(text);
  if (!m) return 2;
  return m[1]!.includes('\t') ? '\t' : m[1]!.length;
}

/** Migrates a JSON config file. JSON has no comments: the output keeps the file's indentation and final newline. */
export function transformJson(file: string, input: string, options: FileTransformOptions): FileTransformResult {
  const result = emptyResult(file, 'json', input);
  let value: unknown;
  try {
    value = JSON.parse(input.replace(/^\uFEFF/, ''));
  } catch (e) {
    result.errors.push(`invalid JSON: ${(e as Error).message}`);
    return result;
  }
  const migration = migrateFileConfig(value, result, options);
  if (!migration?.changed) return result;
  const eol = input.includes('\r\n') ? '\r\n' : '\n';
  let text = JSON.stringify(migration.config, null, indentOf(input));
  if (eol !== '\n') text = text.replace(/\n/g, eol);
  result.output = text + (/\r?\n$/.test(input) ? eol : '');
  result.changed = result.output !== input;
  return result;
}
