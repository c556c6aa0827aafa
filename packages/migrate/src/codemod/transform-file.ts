import { transformJson } from './json-file.js';
import { transformSource } from './transform-source.js';
import type { FileKind, FileTransformOptions, FileTransformResult } from './types.js';
import { transformYaml } from './yaml-file.js';

/** The kind of file by extension, or undefined for files the codemod does not handle. */
export function fileKind(file: string): FileKind | undefined {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.ya?ml$/i.test(file)) return 'yaml';
  if (/\.(m|c)?(j|t)sx?$/i.test(file) && !/\.d\.(m|c)?ts$/i.test(file)) return 'source';
  return undefined;
}

/** Transforms one file's text by its extension. Pure: reads and writes nothing. */
export function transformFile(file: string, input: string, options: FileTransformOptions): FileTransformResult {
  const kind = fileKind(file);
  if (kind === 'json') return transformJson(file, input, options);
  if (kind === 'yaml') return transformYaml(file, input, options);
  if (kind === 'source') return transformSource(file, input, options);
  return { file, kind: 'source', output: input, changed: false, issues: [], skipped: [], errors: [`unsupported file type (expected .json, .yaml, .yml, .js, .mjs, .cjs, .jsx, .ts, .mts, .cts, .tsx)`] };
}
