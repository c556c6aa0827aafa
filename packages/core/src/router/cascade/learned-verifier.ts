import { LLMError } from '../../errors/llm-error.js';
import { parseCascadeScorer, type CascadeScorer } from '../../learning/cascade/cascade-scorer-artifact.js';
import type { GenerateRequest } from '../../spec/index.js';
import type { RouterResult } from '../types.js';
import { questionText } from './arithmetic-verifier.js';

type ReadFileSync = (path: string, encoding: 'utf8') => string;

function configError(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid router config:\n  ${param}: ${message}`, param, details: [{ path: param, message }] });
}

/** Node's `fs.readFileSync`, without a static `node:fs` import (core stays loadable on edge runtimes). */
function nodeReadFileSync(): ReadFileSync | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = p?.getBuiltinModule?.('node:fs') as { readFileSync?: ReadFileSync } | undefined;
  return fs?.readFileSync;
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\\\') || /^[A-Za-z]:[\\/]/.test(p);
}

/** `file` against `baseDir` (the router's model base directory, else the working directory) unless absolute. */
export function resolveVerifierModelPath(file: string, baseDir: string | undefined): string {
  if (isAbsolutePath(file)) return file;
  const base = baseDir ?? (typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() : undefined);
  return base === undefined ? file : `${base.replace(/[\\/]+$/, '')}/${file.replace(/^\.[\\/]/, '')}`;
}

/**
 * Loads the `learned` verifier's scorer file (`llmrr router train --cascade --out <file>`) synchronously,
 * once, at router construction. Every failure is `config_invalid` naming `param`
 * (`routing.cascades.<i>.verifierModel`): no file system (not Node), file not found, not JSON, not a
 * cascade scorer of this version.
 */
export function loadLearnedScorer(file: string, baseDir: string | undefined, param: string): CascadeScorer {
  const read = nodeReadFileSync();
  if (!read) {
    throw configError(param, 'the learned verifier reads its model file with node:fs through process.getBuiltinModule, which this runtime does not have (Node.js 20.16 or later has it; elsewhere load the file yourself and give learnedVerifier(parseCascadeScorer(...)) as a custom verifier)');
  }
  const path = resolveVerifierModelPath(file, baseDir);
  let text: string;
  try {
    text = read(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw configError(param, code === 'ENOENT' ? `file not found: ${path} (train one with: llmrr router train --cascade --data <file> --out <file>)` : `cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw configError(param, `${path}: not JSON (${(e as Error).message})`);
  }
  return parseCascadeScorer(json, path, param);
}

/** The `learned` verifier over a loaded scorer: its score of the last user message and the weak answer's text. */
export function learnedVerifier(scorer: CascadeScorer): (request: GenerateRequest, weak: RouterResult) => number {
  return (request, weak) => scorer.score(questionText(request), weak.text);
}
