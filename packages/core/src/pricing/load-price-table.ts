import { expandHomePath } from '../config/home-path.js';
import { LLMError } from '../errors/llm-error.js';
import { shippedPriceTable } from './price-table.js';
import type { PriceEntry, PriceTable } from './types.js';

/** The environment variable naming a price file merged over the shipped table. */
export const PRICES_FILE_ENV = 'LLMRR_PRICES_FILE';

/**
 * Reads a price table from JSON data. Each key is a model id; each value is either
 * - LiteLLM style, USD per token: `{ input_cost_per_token, output_cost_per_token, cache_read_input_token_cost?,
 *   cache_creation_input_token_cost?, cache_creation_input_token_cost_above_1hr?, max_input_tokens?,
 *   max_output_tokens?, litellm_provider? }`, or
 * - our style, USD per 1M tokens: `{ input, output, cachedInput?, cacheWrite?, cacheWrite1h?, contextWindow?,
 *   maxOutputTokens?, provider? }`.
 * Cache prices: reads (`cachedInput`), 5-minute writes (`cacheWrite`), 1-hour writes (`cacheWrite1h`).
 *
 * Entries without per-token prices (images, audio, per-second billing) and LiteLLM's `sample_spec` are
 * skipped; a price that is present but not a non-negative number is an error naming the model and field.
 */
export function parsePriceTable(data: unknown, source = 'price table'): Map<string, PriceEntry> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalid(source, undefined, `must be a JSON object keyed by model id, got ${describe(data)}`);
  }
  const table = new Map<string, PriceEntry>();
  for (const [key, raw] of Object.entries(data as Record<string, unknown>)) {
    if (key === 'sample_spec') continue;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw invalid(source, key, `must be an object, got ${describe(raw)}`);
    }
    const entry = 'input_cost_per_token' in raw || 'output_cost_per_token' in raw ? fromLiteLLM(raw as Record<string, unknown>, source, key) : fromNative(raw as Record<string, unknown>, source, key);
    if (entry) table.set(key.trim().toLowerCase(), Object.freeze(entry));
  }
  return table;
}

function fromLiteLLM(raw: Record<string, unknown>, source: string, key: string): PriceEntry | undefined {
  const input = perToken(raw, 'input_cost_per_token', source, key);
  let output = perToken(raw, 'output_cost_per_token', source, key);
  // Embedding rows sometimes omit the output price: they produce no output tokens.
  if (output === undefined && input !== undefined && raw['mode'] === 'embedding') output = 0;
  if (input === undefined || output === undefined) return undefined;
  const entry: PriceEntry = { input, output };
  const cached = perToken(raw, 'cache_read_input_token_cost', source, key);
  if (cached !== undefined) entry.cachedInput = cached;
  const write = perToken(raw, 'cache_creation_input_token_cost', source, key);
  if (write !== undefined) entry.cacheWrite = write;
  const write1h = perToken(raw, 'cache_creation_input_token_cost_above_1hr', source, key);
  if (write1h !== undefined) entry.cacheWrite1h = write1h;
  const ctx = tokensField(raw, 'max_input_tokens', source, key);
  if (ctx !== undefined) entry.contextWindow = ctx;
  const maxOut = tokensField(raw, 'max_output_tokens', source, key);
  if (maxOut !== undefined) entry.maxOutputTokens = maxOut;
  if (typeof raw['litellm_provider'] === 'string') entry.provider = raw['litellm_provider'];
  return entry;
}

function fromNative(raw: Record<string, unknown>, source: string, key: string): PriceEntry | undefined {
  if (!('input' in raw) && !('output' in raw)) return undefined;
  const entry: PriceEntry = { input: usd(raw, 'input', source, key, true) ?? 0, output: usd(raw, 'output', source, key, true) ?? 0 };
  const cached = usd(raw, 'cachedInput', source, key, false);
  if (cached !== undefined) entry.cachedInput = cached;
  const write = usd(raw, 'cacheWrite', source, key, false);
  if (write !== undefined) entry.cacheWrite = write;
  const write1h = usd(raw, 'cacheWrite1h', source, key, false);
  if (write1h !== undefined) entry.cacheWrite1h = write1h;
  const ctx = tokensField(raw, 'contextWindow', source, key);
  if (ctx !== undefined) entry.contextWindow = ctx;
  const maxOut = tokensField(raw, 'maxOutputTokens', source, key);
  if (maxOut !== undefined) entry.maxOutputTokens = maxOut;
  if (typeof raw['provider'] === 'string') entry.provider = raw['provider'];
  return entry;
}

/** USD per token -> USD per 1M tokens, rid of binary noise (5e-6 * 1e6 is 5, not 4.999...). */
function perToken(raw: Record<string, unknown>, field: string, source: string, key: string): number | undefined {
  const v = raw[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(source, `${key}.${field}`, `must be a non-negative number (USD per token), got ${describe(v)}`);
  return Number((v * 1e6).toPrecision(12));
}

function usd(raw: Record<string, unknown>, field: string, source: string, key: string, required: boolean): number | undefined {
  const v = raw[field];
  if (v === undefined || v === null) {
    if (required) throw invalid(source, `${key}.${field}`, 'is required (USD per 1M tokens)');
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(source, `${key}.${field}`, `must be a non-negative number (USD per 1M tokens), got ${describe(v)}`);
  return v;
}

function tokensField(raw: Record<string, unknown>, field: string, source: string, key: string): number | undefined {
  const v = raw[field];
  // 0 means "not applicable" in LiteLLM's file (moderation models): treated as unknown.
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(source, `${key}.${field}`, `must be a positive integer (tokens), got ${describe(v)}`);
  return v;
}

/** Tables merged left to right: a later table's row replaces an earlier one's with the same id. */
export function mergePriceTables(...tables: PriceTable[]): PriceTable {
  const out = new Map<string, PriceEntry>();
  for (const t of tables) for (const [k, v] of t) out.set(k, v);
  return out;
}

/** Reads a price file (JSON, see `parsePriceTable`) and merges it over `base` (default: the shipped table). */
export async function loadPriceTable(file: string, options: { base?: PriceTable } = {}): Promise<PriceTable> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'not found' : `cannot be read (${String(code ?? (e as Error).message)})`;
    throw new LLMError({ code: 'config_invalid', message: `Price file ${file} ${why}`, cause: e, details: { file } });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LLMError({ code: 'config_invalid', message: `Price file ${file} is not valid JSON: ${(e as Error).message}`, cause: e, details: { file } });
  }
  return mergePriceTables(options.base ?? shippedPriceTable(), parsePriceTable(data, `price file ${file}`));
}

/**
 * The shipped table, with the file named by `LLMRR_PRICES_FILE` merged over it when that is set. A leading `~`
 * is the home directory (`HOME` or `USERPROFILE` in `env`, see `expandHomePath`); a relative path resolves
 * against `baseDir` (the router's: the directory the user works in), else the working directory.
 */
export async function loadPriceTableFromEnv(env: Readonly<Record<string, string | undefined>> = defaultEnv(), options: { baseDir?: string | undefined } = {}): Promise<PriceTable> {
  const file = env[PRICES_FILE_ENV]?.trim();
  return file ? loadPriceTable(resolvePriceFile(expandHomePath(file, env), options.baseDir)) : shippedPriceTable();
}

/** `file` against `baseDir` unless it is absolute or there is no `baseDir` (no `node:path`: core stays edge-safe). */
function resolvePriceFile(file: string, baseDir: string | undefined): string {
  if (baseDir === undefined || file.startsWith('/') || file.startsWith('\\\\') || /^[A-Za-z]:[\\/]/.test(file)) return file;
  return `${baseDir.replace(/[\\/]+$/, '')}/${file.replace(/^\.[\\/]/, '')}`;
}

function defaultEnv(): Readonly<Record<string, string | undefined>> {
  return typeof process !== 'undefined' ? process.env : {};
}

function invalid(source: string, param: string | undefined, what: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid ${source}: ${param ? `"${param}" ` : ''}${what}`, param });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
