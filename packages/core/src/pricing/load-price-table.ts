import { expandHomePath } from '../config/home-path.js';
import { freezeTiers } from './compute-cost.js';
import { LLMError } from '../errors/llm-error.js';
import { priceFor } from './price-for.js';
import { shippedPriceTable } from './price-table.js';
import type { LongContextPrice } from '../spec/index.js';
import type { PriceEntry, PriceTable } from './types.js';

/** The environment variable naming a price file merged over the shipped table. */
export const PRICES_FILE_ENV = 'LLMRR_PRICES_FILE';

/**
 * Reads a price table from JSON data. Each key is a model id; each value is either
 * - LiteLLM style, USD per token: `{ input_cost_per_token, output_cost_per_token, cache_read_input_token_cost?,
 *   cache_creation_input_token_cost?, cache_creation_input_token_cost_above_1hr?, output_cost_per_reasoning_token?,
 *   the long-context prices `<price>_above_<n>k_tokens`? (one tier per threshold), max_input_tokens?,
 *   max_output_tokens?, litellm_provider? }`, or
 * - our style, USD per 1M tokens: `{ input, output, cachedInput?, cacheWrite?, cacheWrite1h?, reasoningOutput?,
 *   longContext?: [{ threshold, input, output, cachedInput?, cacheWrite?, cacheWrite1h?, reasoningOutput? }, ...],
 *   contextWindow?, maxOutputTokens?, provider? }`.
 * Cache prices: reads (`cachedInput`), 5-minute writes (`cacheWrite`), 1-hour writes (`cacheWrite1h`); reasoning
 * output (`reasoningOutput`); the rates of a call whose prompt is above a tier's `threshold` tokens (`longContext`).
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
    if (entry?.longContext) entry.longContext = freezeTiers(entry.longContext);
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
  const reasoning = perToken(raw, 'output_cost_per_reasoning_token', source, key);
  if (reasoning !== undefined) entry.reasoningOutput = reasoning;
  const tiers = liteLLMTiers(raw, entry, source, key);
  if (tiers) entry.longContext = tiers;
  const ctx = tokensField(raw, 'max_input_tokens', source, key);
  if (ctx !== undefined) entry.contextWindow = ctx;
  const maxOut = tokensField(raw, 'max_output_tokens', source, key);
  if (maxOut !== undefined) entry.maxOutputTokens = maxOut;
  if (typeof raw['litellm_provider'] === 'string') entry.provider = raw['litellm_provider'];
  return entry;
}

/** A LiteLLM per-token price field with a long-context threshold: `<field>_above_<n>k_tokens`. */
const LITELLM_TIER_FIELD = /^(?:input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost|cache_creation_input_token_cost_above_1hr|output_cost_per_reasoning_token)_above_(\d+)k_tokens$/;

/**
 * LiteLLM's long-context prices (`*_above_<n>k_tokens`, e.g. 128k, 200k): as in LiteLLM, a threshold is a tier
 * only when it has an `input_cost_per_token_above_<n>k_tokens` price (other `_above_<n>k` keys without one are
 * ignored). A tier's output without its own key is the next-lower tier's (or the short-prompt one), so a higher
 * tier never falls back below a lower one; its cache reads, cache writes (and 1-hour writes), reasoning output
 * are its own keys, else the base ones (`tierPrice`).
 */
function liteLLMTiers(raw: Record<string, unknown>, base: PriceEntry, source: string, key: string): LongContextPrice[] | undefined {
  const thresholds = new Set<number>();
  for (const field of Object.keys(raw)) {
    const m = LITELLM_TIER_FIELD.exec(field);
    if (!m) continue;
    // Every such price is checked, even one of a threshold that is no tier (no input price), as a bad price is.
    const v = perToken(raw, field, source, key);
    if (v !== undefined && field.startsWith('input_cost_per_token_') && Number(m[1]) > 0) thresholds.add(Number(m[1]));
  }
  if (thresholds.size === 0) return undefined;
  const tiers: LongContextPrice[] = [];
  let lowerOutput = base.output;
  for (const k of [...thresholds].sort((a, b) => a - b)) {
    const above = `_above_${k}k_tokens`;
    const input = perToken(raw, `input_cost_per_token${above}`, source, key)!;
    const output = perToken(raw, `output_cost_per_token${above}`, source, key) ?? lowerOutput;
    lowerOutput = output;
    const tier: LongContextPrice = { threshold: k * 1000, input, output };
    const cached = perToken(raw, `cache_read_input_token_cost${above}`, source, key);
    if (cached !== undefined) tier.cachedInput = cached;
    const write = perToken(raw, `cache_creation_input_token_cost${above}`, source, key);
    if (write !== undefined) tier.cacheWrite = write;
    const write1h = perToken(raw, `cache_creation_input_token_cost_above_1hr${above}`, source, key);
    if (write1h !== undefined) tier.cacheWrite1h = write1h;
    const reasoning = perToken(raw, `output_cost_per_reasoning_token${above}`, source, key);
    if (reasoning !== undefined) tier.reasoningOutput = reasoning;
    tiers.push(tier);
  }
  return tiers;
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
  const reasoning = usd(raw, 'reasoningOutput', source, key, false);
  if (reasoning !== undefined) entry.reasoningOutput = reasoning;
  const tiers = nativeTiers(raw['longContext'], source, key);
  if (tiers) entry.longContext = tiers;
  const ctx = tokensField(raw, 'contextWindow', source, key);
  if (ctx !== undefined) entry.contextWindow = ctx;
  const maxOut = tokensField(raw, 'maxOutputTokens', source, key);
  if (maxOut !== undefined) entry.maxOutputTokens = maxOut;
  if (typeof raw['provider'] === 'string') entry.provider = raw['provider'];
  return entry;
}

/** Our style's `longContext: [{ threshold, input, output, cachedInput?, cacheWrite?, cacheWrite1h?, reasoningOutput? }, ...]`. */
function nativeTiers(raw: unknown, source: string, key: string): LongContextPrice[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalid(source, `${key}.longContext`, `must be an array of tiers, got ${describe(raw)}`);
  const tiers = raw.map((r, i) => nativeTier(r, source, `${key}.longContext[${i}]`));
  const seen = new Set<number>();
  for (const [i, t] of tiers.entries()) {
    if (seen.has(t.threshold)) throw invalid(source, `${key}.longContext[${i}].threshold`, `repeats ${t.threshold} (thresholds must be distinct)`);
    seen.add(t.threshold);
  }
  return tiers.sort((a, b) => a.threshold - b.threshold);
}

function nativeTier(raw: unknown, source: string, at: string): LongContextPrice {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(source, at, `must be an object, got ${describe(raw)}`);
  const r = raw as Record<string, unknown>;
  const threshold = tokensField(r, 'threshold', source, at);
  if (threshold === undefined) throw invalid(source, `${at}.threshold`, 'is required (prompt tokens)');
  const tier: LongContextPrice = { threshold, input: usd(r, 'input', source, at, true)!, output: usd(r, 'output', source, at, true)! };
  for (const field of ['cachedInput', 'cacheWrite', 'cacheWrite1h', 'reasoningOutput'] as const) {
    const v = usd(r, field, source, at, false);
    if (v !== undefined) tier[field] = v;
  }
  return tier;
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
  const base = options.base ?? shippedPriceTable();
  return mergePriceTables(base, withBaseCacheRates(parsePriceTable(data, `price file ${file}`), base));
}

const CACHE_RATES = ['cachedInput', 'cacheWrite', 'cacheWrite1h'] as const;

/**
 * A file row that gives no cache read or write rate (LiteLLM's older Claude rows have none) takes it from the
 * base table's row of the same model (`priceFor`) when that row has the same input and output price: the file's
 * row replaces the base row, and without this, cache reads would be charged at the input price.
 */
function withBaseCacheRates(table: Map<string, PriceEntry>, base: PriceTable): Map<string, PriceEntry> {
  for (const [key, entry] of table) {
    if (CACHE_RATES.every((f) => entry[f] !== undefined)) continue;
    const known = priceFor(key, base);
    if (!known || known.input !== entry.input || known.output !== entry.output || CACHE_RATES.every((f) => entry[f] !== undefined || known[f] === undefined)) continue;
    const filled: PriceEntry = { ...entry };
    for (const f of CACHE_RATES) if (filled[f] === undefined && known[f] !== undefined) filled[f] = known[f];
    table.set(key, Object.freeze(filled));
  }
  return table;
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
