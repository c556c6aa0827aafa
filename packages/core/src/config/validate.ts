import type { z } from 'zod';
import { LLMError } from '../errors/llm-error.js';
import { RouterConfigSchema, RouterConfigV2Schema, RouterConfigV3Schema, type RouterConfig } from './schema.js';

export interface ConfigIssue {
  /** Dotted path of the bad field (`models.0.price.input`), empty for the root. */
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join('.');
}

/** A key that is not the schema's is named by its own path (`cache.exat`), so its line and column can be found. */
function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: `unknown key ${JSON.stringify(k)}` })) : [{ path: formatPath(i.path), message: i.message }],
  );
}

/**
 * Top-level keys a config may hold besides the schema's: `x-...` (a YAML anchor's shared part, `x-defaults: &d`,
 * notes of your own) and `legacy` (what `llmrr-migrate` keeps of a v1 config). The router ignores them.
 */
export function isConfigExtensionKey(key: string): boolean {
  return key.startsWith('x-') || key === 'legacy';
}

let topLevelKeys: ReadonlySet<string> | undefined;
/** The schema's top-level keys (v2 and v3), computed on first use: schema.ts and this module import each other. */
function schemaTopLevelKeys(): ReadonlySet<string> {
  return (topLevelKeys ??= new Set([...Object.keys(RouterConfigV2Schema.shape), ...Object.keys(RouterConfigV3Schema.shape)]));
}

/**
 * Any other top-level key: a misspelt section (`rounting:`) would load and leave its settings at their defaults.
 * Checked here, not in the schema, so it is reported with the schema's other issues (a zod refinement runs only
 * when the rest is valid), and `tenants` without `version: 3` keeps its own message.
 */
function unknownTopLevelKeys(input: unknown): ConfigIssue[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const known = schemaTopLevelKeys();
  return Object.keys(input)
    .filter((k) => !known.has(k) && !isConfigExtensionKey(k))
    .map((k) => ({ path: k, message: `unknown key ${JSON.stringify(k)} (the top level holds ${[...known].join(', ')}; a key of your own starts with "x-")` }));
}

/**
 * `config_invalid` for a config section that failed its schema: every issue's path under `prefix`
 * (`cache.semantic.threshold`), the first one as `param`, all of them in `details`.
 */
export function sectionConfigError(error: z.ZodError, prefix: readonly string[], what: string): LLMError {
  const issues = error.issues.map((i) => ({ path: formatPath([...prefix, ...i.path]), message: i.message }));
  return new LLMError({
    code: 'config_invalid',
    message: `Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    param: issues[0]?.path,
    details: issues,
  });
}

/** Checks a config (v2 or v3) without throwing. */
export function safeParseConfig(input: unknown): { ok: true; config: RouterConfig } | { ok: false; issues: ConfigIssue[] } {
  const version = typeof input === 'object' && input !== null ? (input as { version?: unknown }).version : undefined;
  // Pick the schema by version so the issues speak of one shape, not a union's mix.
  const schema = version === 3 ? RouterConfigV3Schema : version === undefined || version === 2 ? RouterConfigV2Schema : RouterConfigSchema;
  const result = schema.safeParse(input);
  const unknown = unknownTopLevelKeys(input);
  if (result.success && unknown.length === 0) return { ok: true, config: result.data as RouterConfig };
  return { ok: false, issues: [...unknown, ...(result.success ? [] : issuesOf(result.error))] };
}

/** Parses and validates a config, or throws `LLMError` code `config_invalid` naming every bad field. */
export function parseConfig(input: unknown, source = 'config'): RouterConfig {
  const r = safeParseConfig(input);
  if (r.ok) return r.config;
  const lines = r.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
  const first = r.issues[0];
  throw new LLMError({
    code: 'config_invalid',
    message: `Invalid ${source}:\n${lines}`,
    param: first?.path,
    details: r.issues,
  });
}

export { RouterConfigSchema };
