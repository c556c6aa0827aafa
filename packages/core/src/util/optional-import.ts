import { LLMError } from '../errors/llm-error.js';

export interface OptionalImportInfo {
  /** The engine that needs the package, named in the error (`gguf`). */
  engine: string;
  /** What to install, exact version included (`node-llama-cpp@3.21.1`). */
  install: string;
  /** Seam for tests: the dynamic import to use. */
  importer?: (specifier: string) => Promise<unknown>;
}

const defaultImporter = (specifier: string): Promise<unknown> => import(specifier);

function errorCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The package part of a specifier: `@scope/name` or `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** True when `e` says that `specifier` itself (not one of its own dependencies) could not be found. */
function isMissing(e: unknown, specifier: string): boolean {
  const code = errorCode(e);
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = e instanceof Error ? e.message : String(e);
  const named = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (named === undefined) return false;
  return named === specifier || packageName(named) === packageName(specifier) || named.endsWith(`/node_modules/${packageName(specifier)}`);
}

/**
 * Imports an optional peer dependency on first use. When it is not installed, throws an
 * `engine_unavailable` LLMError that says which engine needs it and how to install it; when it is
 * installed but fails to load (a broken native binding), the error says so and keeps the cause.
 */
export async function importOptional<T>(specifier: string, info: OptionalImportInfo): Promise<T> {
  const importer = info.importer ?? defaultImporter;
  try {
    return (await importer(specifier)) as T;
  } catch (e) {
    if (isMissing(e, specifier)) {
      throw new LLMError({
        code: 'engine_unavailable',
        message: `The ${info.engine} engine needs ${specifier}, which is not installed: pnpm add ${info.install}`,
        provider: info.engine,
        cause: e,
      });
    }
    const detail = e instanceof Error ? e.message : String(e);
    throw new LLMError({
      code: 'engine_unavailable',
      message: `The ${info.engine} engine could not load ${specifier}: ${detail}`,
      provider: info.engine,
      cause: e,
    });
  }
}
