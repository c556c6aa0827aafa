import { chmod, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { checkTenantId } from '../library/v2-to-v3.js';
import { isPlainObject } from '../library/plain.js';
import type { ModelNameTable } from '../library/model-names.js';
import { namedLikeConfig } from '../codemod/config-file-common.js';
import { transformFile } from '../codemod/transform-file.js';
import type { FileTransformResult } from '../codemod/types.js';
import { collectFiles } from './collect-files.js';
import { decodeText } from './decode-text.js';
import { parseCliArgs, USAGE, UsageError } from './parse-cli-args.js';
import { unifiedDiff } from './unified-diff.js';

export interface CliIO {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Files the codemod looks into only if they mention the old package or the router. */
const RELEVANT_SOURCE = /llm-runner-router|LLMRouter/;

async function loadModelTable(path: string, cwd: string): Promise<ModelNameTable> {
  const text = await readFile(resolve(cwd, path), 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new Error(`--models ${path}: cannot read (${e.code === 'ENOENT' ? 'no such file' : e.message})`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`--models ${path}: invalid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(value)) throw new Error(`--models ${path}: expected an object { "old-name": "new-name" }`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && !(isPlainObject(v) && typeof v.name === 'string')) throw new Error(`--models ${path}: entry "${k}" must be a name or { "name", "engine", "preset" }`);
  }
  return value as ModelNameTable;
}

/**
 * Replaces a file's content through a temporary file and a rename. A symlink is followed: the file it
 * names is replaced (next to it, keeping its mode) and the link stays a link.
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const target = await realpath(path);
  const tmp = `${target}.llmrr-migrate-${process.pid}.tmp`;
  const { mode } = await stat(target);
  try {
    await writeFile(tmp, text, 'utf8');
    await chmod(tmp, mode & 0o7777);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * The `llmrr-migrate` command. Plans every file first; if any file has an error nothing is written and
 * the exit code is 2. Otherwise: dry-run prints a diff (0), --check lists files to change (1 if any, or
 * if some place could not be converted), --write writes them (0).
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  const err = (s: string) => io.stderr(s.endsWith('\n') ? s : `${s}\n`);
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`llmrr-migrate: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    out(USAGE);
    return 0;
  }
  let modelNames: ModelNameTable | undefined;
  try {
    if (args.tenant !== undefined) checkTenantId(args.tenant);
    if (args.models) modelNames = await loadModelTable(args.models, io.cwd);
  } catch (e) {
    err(`llmrr-migrate: ${(e as Error).message}`);
    return 2;
  }

  const { files, errors: pathErrors, skippedLinks } = await collectFiles(args.paths, io.cwd);
  const rel = (p: string) => relative(io.cwd, p) || p;
  if (!args.quiet) {
    for (const l of skippedLinks) err(`${rel(l.link)}: warning: a symlink to ${l.target}, outside the folders walked or in one a walk skips: left as is (name the file to migrate it)`);
  }
  const errors: string[] = pathErrors.map((e) => `error: ${e}`);
  const results: Array<{ path: string; input: string; bom: boolean; result: FileTransformResult }> = [];
  for (const f of files) {
    let input: string;
    let bom: boolean;
    let badLine: number | undefined;
    try {
      ({ text: input, bom, badLine } = decodeText(await readFile(f.path)));
    } catch (e) {
      errors.push(`${rel(f.path)}: error: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      continue;
    }
    const isSource = !/\.(json|ya?ml)$/i.test(f.path);
    if (isSource && !f.explicit && !RELEVANT_SOURCE.test(input)) continue;
    let result: FileTransformResult;
    try {
      result = transformFile(rel(f.path), input, { to: args.to, tenant: args.tenant, modelNames, explicit: f.explicit });
    } catch (e) {
      errors.push(`${rel(f.path)}: error: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (result.ignored) continue;
    // A walked JSON/YAML file that does not parse (nothing in it was read) is only an error when its name says it is a
    // router config. One found to be a config (by a router key) whose migration fails is an error like a named one.
    if (!f.explicit && !isSource && result.from === undefined && result.errors.length && !namedLikeConfig(f.path)) continue;
    // A file that is not UTF-8 was read with U+FFFD in place of its odd bytes: refused when it would be rewritten
    // (or has places to convert by hand), and named so when it failed (a UTF-16 file is not "invalid JSON"); one that
    // needs no change is left alone, as any other.
    if (badLine !== undefined && (result.changed || result.skipped.length || result.errors.length)) {
      errors.push(`${rel(f.path)}: error: not UTF-8 text (a byte on line ${badLine} is not UTF-8): save the file as UTF-8, then run again`);
      continue;
    }
    for (const e of result.errors) errors.push(`${rel(f.path)}: error: ${e}`);
    results.push({ path: f.path, input, bom, result });
  }

  // What could not be converted, and what the conversions said.
  for (const { result } of results) {
    for (const s of result.skipped) err(`${s.file}:${s.line}:${s.column}: cannot convert: ${s.reason}`);
    if (args.quiet) continue;
    for (const i of result.issues) {
      if (i.severity === 'info' && !args.verbose) continue;
      const where = i.line !== undefined ? `${result.file}:${i.line}` : result.file;
      err(`${where}: ${i.severity}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
    }
  }
  if (errors.length) {
    for (const e of errors) err(e);
    err(`llmrr-migrate: ${errors.length} error(s); no file was changed`);
    return 2;
  }

  const changed = results.filter((r) => r.result.changed);
  const skippedCount = results.reduce((n, r) => n + r.result.skipped.length, 0);
  const tail = skippedCount ? `; ${skippedCount} place(s) could not be converted (see above)` : '';
  if (args.mode === 'dry-run') {
    // A file with a byte order mark is diffed with it (it is written back with it): the patch applies to the file.
    for (const r of changed) out(r.bom ? unifiedDiff(r.result.file, `\uFEFF${r.input}`, `\uFEFF${r.result.output}`) : unifiedDiff(r.result.file, r.input, r.result.output));
    err(changed.length ? `llmrr-migrate: ${changed.length} file(s) would change (dry run: nothing written; use --write)${tail}` : `llmrr-migrate: no changes needed${tail}`);
    return 0;
  }
  if (args.mode === 'check') {
    // A place left as v1 (it could not be converted) fails the check too: the code is not migrated yet.
    for (const r of changed) out(`would change: ${r.result.file}`);
    err(changed.length ? `llmrr-migrate: ${changed.length} file(s) need changes${tail}` : skippedCount ? `llmrr-migrate: ${skippedCount} place(s) could not be converted and need changes by hand (see above)` : 'llmrr-migrate: no changes needed');
    return changed.length || skippedCount ? 1 : 0;
  }
  let written = 0;
  for (const r of changed) {
    try {
      await writeAtomically(r.path, r.bom ? `\uFEFF${r.result.output}` : r.result.output);
    } catch (e) {
      err(`${r.result.file}: error: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      err(`llmrr-migrate: ${written} file(s) updated before the error; the rest were not written`);
      return 2;
    }
    written++;
    out(`updated: ${r.result.file}`);
  }
  err(changed.length ? `llmrr-migrate: ${changed.length} file(s) updated${tail}` : `llmrr-migrate: no changes needed${tail}`);
  return 0;
}
