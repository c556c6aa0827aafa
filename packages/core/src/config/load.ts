import { LLMError } from '../errors/llm-error.js';
import { expandHomePath } from './home-path.js';
import { applyEnvOverrides, CONFIG_ENV, envValue, type EnvOverride } from './load-env.js';
import { interpolateEnv, type Env } from './load-interpolate.js';
import { parseConfigText, TextSyntaxError, type Position, type TextFormat } from './load-parse.js';
import type { RouterConfig } from './schema.js';
import { safeParseConfig } from './validate.js';
import { olderConfigAdvice } from './older-config.js';

export { CONFIG_ENV } from './load-env.js';

/** Looked for in the working directory when no source is given (at most one may exist). */
export const CONFIG_FILE_NAMES = ['llmrr.config.json', 'llmrr.config.yaml', 'llmrr.config.yml'] as const;

export interface LoadConfigOptions {
  /** Environment for `LLM_ROUTER_*` overrides and `${VAR}` interpolation. Default `process.env`. */
  env?: Env;
  /** Where relative paths and the default config files are looked up. Default `process.cwd()`. */
  cwd?: string;
  /**
   * The strategy names the router will know (built in, and custom ones it is given): `routing.strategy` must be one
   * of them, refused with the config's other errors (line and column in the file, or the env variable it came from).
   * Unset: not checked here (the router checks it when it is built).
   */
  strategies?: readonly string[];
  /**
   * `routing.options.<name>` for a name not in `strategies` (`balnced`, never read): `'refuse'` (an issue with the
   * config's other errors: for a program that adds no strategy after loading, as the gateway server), `'warn'`
   * (listed in `LoadedConfig.warnings`: the `llmrr` CLI, which may check an app's config whose router adds the
   * strategy in code). Unset: not checked - a library's router may get that strategy later with `addStrategy`,
   * which then reads those options (`LLMRouter.fromConfig`).
   */
  unknownStrategyOptions?: 'refuse' | 'warn';
}

export interface LoadedConfig {
  config: RouterConfig;
  /** Where it came from: a file path, `LLM_ROUTER_CONFIG_JSON`, `object`, or `env` (LLM_ROUTER_MODELS alone). */
  source: string;
  /** Absolute path of the config file, when it came from one. */
  file?: string;
  /** Env variables that overrode fields, in the order applied. */
  overrides: EnvOverride[];
  /** What may be a mistake but loads (`unknownStrategyOptions: 'warn'`), located as the errors are. */
  warnings: LocatedIssue[];
}

interface RawSource {
  label: string;
  source: string;
  file?: string;
  data: unknown;
  locate?: (path: ReadonlyArray<string | number>) => Position | undefined;
  /** `${VAR}` interpolation applies to text sources (files, LLM_ROUTER_CONFIG_JSON), not to objects from code. */
  interpolate: boolean;
}

/**
 * Loads and validates a router config.
 *
 * Source: `source` (an object, or a path to `.json` / `.yaml` / `.yml`); else `LLM_ROUTER_CONFIG` (a path; a
 * leading `~` is the home directory, see `expandHomePath`) or `LLM_ROUTER_CONFIG_JSON` (JSON text); else `llmrr.config.json|yaml|yml` in `cwd`; else, when
 * `LLM_ROUTER_MODELS` is set, a config made from the environment alone.
 *
 * Then: `${VAR}` / `${VAR:-default}` in string values of text sources are replaced from the environment (in a
 * field that is a path, a value starting with such a reference that gives `~/...` gets the home directory, see
 * `isPathField`);
 * the `LLM_ROUTER_*` overrides apply (see `CONFIG_ENV`); for a file, `modelsDir` becomes absolute,
 * resolved against the file's directory, which is also its default, so relative model `path`s resolve
 * against the config file's directory.
 *
 * Every failure is an `LLMError` with code `config_invalid` naming the file, the field path (with line
 * and column in the file where known) and what was expected.
 */
export async function loadConfig(source?: string | object, options: LoadConfigOptions = {}): Promise<RouterConfig> {
  return (await loadConfigDetailed(source, options)).config;
}

/** `loadConfig`, also telling where the config came from and which env variables overrode fields. */
export async function loadConfigDetailed(source?: string | object, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? (typeof process !== 'undefined' ? process.env : {});
  const cwd = options.cwd ?? (typeof process !== 'undefined' ? process.cwd() : '.');
  const raw = await readSource(source, env, cwd);

  if (typeof raw.data !== 'object' || raw.data === null || Array.isArray(raw.data)) {
    throw new LLMError({ code: 'config_invalid', message: `Invalid ${raw.label}: the top level must be an object (mapping), got ${kindOf(raw.data)}` });
  }
  let data = raw.data as Record<string, unknown>;

  if (raw.interpolate) {
    const result = interpolateEnv(data, env);
    if (result.problems.length > 0) {
      const issues = result.problems.map((p) => ({ path: p.path.join('.'), message: p.message, ...positionOf(raw, p.path) }));
      throw invalidConfig(raw.label, issues);
    }
    data = expandHomePaths(result.value as Record<string, unknown>, result.homeStarts, env);
  }

  const { raw: overridden, overrides } = applyEnvOverrides(data, env);
  data = overridden;

  if (raw.file) {
    const { dirname, resolve } = await import('node:path');
    const modelsDir = data['modelsDir'];
    if (modelsDir === undefined || typeof modelsDir === 'string') data = { ...data, modelsDir: resolve(dirname(raw.file), modelsDir ?? '.') };
  }

  const parsed = safeParseConfig(data);
  const optionsOf = options.unknownStrategyOptions ? unknownStrategyOptions(data, options.strategies, options.unknownStrategyOptions) : [];
  const refusedOptions = options.unknownStrategyOptions === 'refuse' ? optionsOf : [];
  const strategy = [...unknownStrategy(data, options.strategies), ...refusedOptions];
  const locate = (issue: { path: string; message: string }): LocatedIssue => {
    const fromEnv = overrides.find((o) => issue.path === o.path.join('.') || issue.path.startsWith(`${o.path.join('.')}.`));
    if (fromEnv) return { ...issue, env: fromEnv.env };
    return { ...issue, ...positionOf(raw, splitPath(issue.path)) };
  };
  if (!parsed.ok || strategy.length > 0) throw invalidConfig(raw.label, [...(parsed.ok ? [] : parsed.issues), ...strategy].map(locate), olderConfigAdvice(data, raw.file));
  const warnings = options.unknownStrategyOptions === 'warn' ? optionsOf.map(locate) : [];
  return { config: parsed.config, source: raw.source, ...(raw.file ? { file: raw.file } : {}), overrides, warnings };
}

async function readSource(source: string | object | undefined, env: Env, cwd: string): Promise<RawSource> {
  if (typeof source === 'object' && source !== null) return { label: 'config object', source: 'object', data: source, interpolate: false };
  if (typeof source === 'string') return readFileSource(source, cwd, 'config file');
  if (source !== undefined) {
    throw new LLMError({ code: 'config_invalid', message: `loadConfig: source must be an object or a file path, got ${kindOf(source)}` });
  }

  const path = envValue(env, CONFIG_ENV.CONFIG);
  const json = envValue(env, CONFIG_ENV.CONFIG_JSON);
  if (path !== undefined && json !== undefined) {
    throw new LLMError({ code: 'config_invalid', message: `Both ${CONFIG_ENV.CONFIG} and ${CONFIG_ENV.CONFIG_JSON} are set: set only one` });
  }
  if (path !== undefined) return readFileSource(expandHomePath(path, env), cwd, `config file (from ${CONFIG_ENV.CONFIG})`);
  if (json !== undefined) return await parseTextSource(json, 'json', CONFIG_ENV.CONFIG_JSON, CONFIG_ENV.CONFIG_JSON);

  const { join } = await import('node:path');
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) if (await exists(join(cwd, name))) found.push(name);
  if (found.length > 1) {
    throw new LLMError({ code: 'config_invalid', message: `Found several config files in ${cwd} (${found.join(', ')}): keep one, or name one with ${CONFIG_ENV.CONFIG}` });
  }
  if (found[0]) return readFileSource(join(cwd, found[0]), cwd, 'config file');
  if (envValue(env, CONFIG_ENV.MODELS) !== undefined) return { label: `config from ${CONFIG_ENV.MODELS}`, source: 'env', data: {}, interpolate: false };
  throw new LLMError({
    code: 'config_invalid',
    message: `No config found: pass one to loadConfig, set ${CONFIG_ENV.CONFIG} (a path) or ${CONFIG_ENV.CONFIG_JSON}, put ${CONFIG_FILE_NAMES.join(' / ')} in ${cwd}, or list models in ${CONFIG_ENV.MODELS}`,
  });
}

async function readFileSource(path: string, cwd: string, what: string): Promise<RawSource> {
  const { resolve, extname } = await import('node:path');
  const file = resolve(cwd, path);
  const ext = extname(file).toLowerCase();
  const format: TextFormat | undefined = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (!format) {
    throw new LLMError({ code: 'config_invalid', message: `Unsupported ${what} ${file}: the name must end in .json, .yaml or .yml`, details: { file } });
  }
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${String(code ?? (e as Error).message)})`;
    throw new LLMError({ code: 'config_invalid', message: `The ${what} ${file} ${why}`, cause: e, details: { file } });
  }
  return { ...(await parseTextSource(text, format, `${what} ${file}`, file)), file };
}

async function parseTextSource(text: string, format: TextFormat, label: string, source: string): Promise<RawSource> {
  try {
    const parsed = await parseConfigText(text, format);
    return { label, source, data: parsed.data, locate: parsed.locate, interpolate: true };
  } catch (e) {
    if (!(e instanceof TextSyntaxError)) throw e;
    const at = e.position ? ` at line ${e.position.line}, column ${e.position.column}` : '';
    throw new LLMError({
      code: 'config_invalid',
      message: `Invalid ${format === 'json' ? 'JSON' : 'YAML'} in ${label}${at}: ${e.message}`,
      cause: e,
      details: { source, ...e.position },
    });
  }
}

/**
 * The config fields that name a file or directory: `modelsDir`, a model's `path` and its onnx tokenizer files
 * (`options.tokenizer`, `options.tokenizerConfig`), shared or a tenant's, a cascade's `verifierModel`, the semantic
 * cache's SQLite `store.path`, and a strategy's `model` option (the router model files of intelligent and adaptive).
 */
function isPathField(path: ReadonlyArray<string | number>): boolean {
  const [a, b, c, d, e, f] = path;
  switch (path.length) {
    case 1:
      return a === 'modelsDir';
    case 3:
      return a === 'models' && typeof b === 'number' && c === 'path';
    case 4:
      return (
        (a === 'routing' && b === 'cascades' && typeof c === 'number' && d === 'verifierModel') ||
        (a === 'routing' && b === 'options' && d === 'model') ||
        (a === 'cache' && b === 'semantic' && c === 'store' && d === 'path') ||
        (a === 'models' && typeof b === 'number' && c === 'options' && isTokenizerFile(d))
      );
    case 5:
      return a === 'tenants' && typeof b === 'number' && c === 'models' && typeof d === 'number' && e === 'path';
    case 6:
      return a === 'tenants' && typeof b === 'number' && c === 'models' && typeof d === 'number' && e === 'options' && isTokenizerFile(f);
    default:
      return false;
  }
}

/** The onnx engine's options naming a file (resolved against the config's directory, see onnx-engine-base.ts). */
function isTokenizerFile(key: string | number | undefined): boolean {
  return key === 'tokenizer' || key === 'tokenizerConfig';
}

/**
 * A path field whose value starts with a `${VAR}` giving `~/...` (`LLMRR_SHARED_DIR=~/shared` from a .env file or
 * docker, which pass the `~` on as it is): that `~` is the home directory, as the gateway server and the `llmrr` CLI
 * take it in the path variables they read. Other fields (an `apiKey`, a header value) keep the value as given.
 */
function expandHomePaths(data: Record<string, unknown>, homeStarts: ReadonlyArray<ReadonlyArray<string | number>>, env: Env): Record<string, unknown> {
  for (const path of homeStarts) {
    if (!isPathField(path)) continue;
    let parent: unknown = data;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
    const holder = parent as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (typeof holder[last] === 'string') holder[last] = expandHomePath(holder[last], env);
  }
  return data;
}

/** `routing.strategy` when it is a name `known` lacks (see `LoadConfigOptions.strategies`), as an issue. */
function unknownStrategy(data: Record<string, unknown>, known: readonly string[] | undefined): Array<{ path: string; message: string }> {
  if (!known) return [];
  const routing = data['routing'];
  const name = typeof routing === 'object' && routing !== null ? (routing as Record<string, unknown>)['strategy'] : undefined;
  if (typeof name !== 'string' || known.includes(name)) return [];
  return [{
    path: 'routing.strategy',
    message: `unknown strategy ${JSON.stringify(name)} (known: ${known.join(', ')}; custom ones go in options.strategies or addStrategy)`,
  }];
}

/**
 * `routing.options.<name>` for a strategy not in `known` (`balnced`): each strategy checks its own options when it
 * is added, so these are read only if a strategy of that name is added later (see `LoadConfigOptions.unknownStrategyOptions`).
 */
function unknownStrategyOptions(data: Record<string, unknown>, known: readonly string[] | undefined, mode: 'refuse' | 'warn'): Array<{ path: string; message: string }> {
  if (!known) return [];
  const routing = data['routing'];
  const opts = typeof routing === 'object' && routing !== null ? (routing as Record<string, unknown>)['options'] : undefined;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) return [];
  return Object.keys(opts)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      path: `routing.options.${name}`,
      message:
        mode === 'refuse'
          ? `options of unknown strategy ${JSON.stringify(name)}, never read (known: ${known.join(', ')}; custom ones go in options.strategies or addStrategy)`
          : `options of unknown strategy ${JSON.stringify(name)}, read only if the program adds a strategy of that name (router.addStrategy); else a misspelt name? (known: ${known.join(', ')})`,
    }));
}

/** A config issue with where it is: its line and column in the file, or the env variable it came from. */
export interface LocatedIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
  env?: string;
}

function invalidConfig(label: string, issues: LocatedIssue[], advice?: string): LLMError {
  const lines = issues.map((i) => {
    const where = i.env ? ` (from ${i.env})` : i.line !== undefined ? ` (line ${i.line}, column ${i.column})` : '';
    return `  ${i.path || '(root)'}${where}: ${i.message}`;
  });
  // An older config (v1) fails on every v1 key: the one useful step is the migration tool.
  if (advice) lines.push(`  ${advice}`);
  return new LLMError({
    code: 'config_invalid',
    message: `Invalid ${label}:\n${lines.join('\n')}`,
    param: issues[0]?.path || undefined,
    details: issues,
  });
}

function positionOf(raw: RawSource, path: ReadonlyArray<string | number>): { line?: number; column?: number } {
  const pos = raw.locate?.(path);
  return pos ? { line: pos.line, column: pos.column } : {};
}

/** `models.0.price` -> `['models', 0, 'price']`. */
function splitPath(path: string): Array<string | number> {
  if (!path) return [];
  return path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

async function exists(file: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  try {
    await stat(file);
    return true;
  } catch (e) {
    // Anything but "not there" (EACCES...) counts as present, so reading it reports the real problem.
    return (e as { code?: unknown }).code !== 'ENOENT';
  }
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (empty document)';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
