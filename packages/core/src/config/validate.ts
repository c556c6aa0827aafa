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

function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
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
  if (result.success) return { ok: true, config: result.data as RouterConfig };
  return { ok: false, issues: issuesOf(result.error) };
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
