import { LLMError } from '../errors/llm-error.js';
import type { Env } from './load-interpolate.js';
import { BUILTIN_ENGINES } from './schema.js';

/** Environment variables that override config fields. Empty values count as unset. */
export const CONFIG_ENV = {
  /** Path of the config file (JSON or YAML). */
  CONFIG: 'LLM_ROUTER_CONFIG',
  /** The whole config as JSON text. */
  CONFIG_JSON: 'LLM_ROUTER_CONFIG_JSON',
  STRATEGY: 'LLM_ROUTER_STRATEGY',
  FALLBACKS: 'LLM_ROUTER_FALLBACKS',
  RETRIES: 'LLM_ROUTER_RETRIES',
  TIMEOUT_MS: 'LLM_ROUTER_TIMEOUT_MS',
  FIRST_TOKEN_TIMEOUT_MS: 'LLM_ROUTER_FIRST_TOKEN_TIMEOUT_MS',
  CACHE: 'LLM_ROUTER_CACHE',
  MODELS: 'LLM_ROUTER_MODELS',
} as const;

/** A config field set from an environment variable (to name the variable when the value is rejected). */
export interface EnvOverride {
  path: string[];
  env: string;
}

type Json = Record<string, unknown>;

export function envValue(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * Applies the `LLM_ROUTER_*` overrides to a raw (unvalidated) config object, without mutating it.
 * Malformed values (a non-number timeout, a bad boolean, a bad model shorthand) throw `config_invalid`
 * naming the variable; values of the right form but out of range are left to the schema.
 */
export function applyEnvOverrides(raw: Json, env: Env): { raw: Json; overrides: EnvOverride[] } {
  let out = raw;
  const overrides: EnvOverride[] = [];
  const set = (path: string[], value: unknown, name: string) => {
    out = setIn(out, path, value, name);
    overrides.push({ path, env: name });
  };

  const models = envValue(env, CONFIG_ENV.MODELS);
  if (models !== undefined) set(['models'], parseModelsShorthand(models), CONFIG_ENV.MODELS);
  const strategy = envValue(env, CONFIG_ENV.STRATEGY);
  if (strategy !== undefined) set(['routing', 'strategy'], strategy, CONFIG_ENV.STRATEGY);
  const fallbacks = envValue(env, CONFIG_ENV.FALLBACKS);
  if (fallbacks !== undefined) set(['routing', 'fallbacks'], list(fallbacks), CONFIG_ENV.FALLBACKS);
  const retries = envValue(env, CONFIG_ENV.RETRIES);
  if (retries !== undefined) set(['routing', 'retries', 'max'], wholeNumber(retries, CONFIG_ENV.RETRIES), CONFIG_ENV.RETRIES);
  const total = envValue(env, CONFIG_ENV.TIMEOUT_MS);
  if (total !== undefined) set(['routing', 'timeouts', 'totalMs'], wholeNumber(total, CONFIG_ENV.TIMEOUT_MS), CONFIG_ENV.TIMEOUT_MS);
  const first = envValue(env, CONFIG_ENV.FIRST_TOKEN_TIMEOUT_MS);
  if (first !== undefined) set(['routing', 'timeouts', 'firstTokenMs'], wholeNumber(first, CONFIG_ENV.FIRST_TOKEN_TIMEOUT_MS), CONFIG_ENV.FIRST_TOKEN_TIMEOUT_MS);
  const cache = envValue(env, CONFIG_ENV.CACHE);
  if (cache !== undefined) set(['cache', 'exact', 'enabled'], bool(cache, CONFIG_ENV.CACHE), CONFIG_ENV.CACHE);
  return { raw: out, overrides };
}

/**
 * `LLM_ROUTER_MODELS`: comma-separated `name`, `name=engine` or `name=engine:model` (the model id may itself
 * contain colons: `llama=openai-compatible:llama3:8b`). A bare name that is a built-in engine kind (`mock`)
 * uses that engine; another bare name is an openai-compatible model of that id.
 */
export function parseModelsShorthand(value: string): Json[] {
  const items = list(value);
  if (items.length === 0) throw envError(CONFIG_ENV.MODELS, value, 'a comma-separated list of name or name=engine:model');
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq === -1) {
      if (!/^[^\s:=]+$/.test(item)) throw envError(CONFIG_ENV.MODELS, item, 'name or name=engine:model');
      return (BUILTIN_ENGINES as readonly string[]).includes(item) ? { name: item, engine: item } : { name: item };
    }
    const name = item.slice(0, eq).trim();
    const rest = item.slice(eq + 1).trim();
    const colon = rest.indexOf(':');
    const engine = (colon === -1 ? rest : rest.slice(0, colon)).trim();
    const model = colon === -1 ? undefined : rest.slice(colon + 1).trim();
    if (!name || !engine || model === '') throw envError(CONFIG_ENV.MODELS, item, 'name=engine or name=engine:model, each part non-empty');
    return model === undefined ? { name, engine } : { name, engine, model };
  });
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function wholeNumber(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw envError(name, value, 'a whole number');
  return Number(value);
}

function bool(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw envError(name, value, 'true or false (also 1/0, yes/no, on/off)');
}

function envError(name: string, value: string, expected: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid environment variable ${name}: expected ${expected}, got "${value}"`, param: name });
}

/** A copy of `obj` with `path` set, creating missing objects; refuses to replace a non-object on the way. */
function setIn(obj: Json, path: string[], value: unknown, name: string, at: string[] = []): Json {
  const [head, ...rest] = path;
  if (head === undefined) return obj;
  if (rest.length === 0) return { ...obj, [head]: value };
  const child = obj[head];
  if (child !== undefined && (typeof child !== 'object' || child === null || Array.isArray(child))) {
    throw new LLMError({
      code: 'config_invalid',
      message: `Cannot apply ${name}: "${[...at, head].join('.')}" in the config is not an object`,
      param: [...at, head].join('.'),
    });
  }
  return { ...obj, [head]: setIn((child as Json | undefined) ?? {}, rest, value, name, [...at, head]) };
}
