import { LLMError } from '@llmrr/core';
import { detectVersion } from '../library/detect-version.js';
import { migrate } from '../library/migrate.js';
import type { MigrationResult } from '../library/types.js';
import { isPlainObject } from '../library/plain.js';
import { V1_SIGNAL_KEYS } from '../library/v1-keys.js';
import type { FileKind, FileTransformOptions, FileTransformResult } from './types.js';

/** Whether a file's name says it is a router config (`llm*.json`, `router.yaml`...). */
export function namedLikeConfig(path: string): boolean {
  return /llm|router/i.test(path.split(/[\\/]/).pop() ?? '');
}

/** Top-level keys besides `models` that only a router config has: a v1 key, `version`, or a v2/v3 section. */
function hasRouterKey(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  return ['version', 'routing', 'tenants', 'defaultTenant', ...V1_SIGNAL_KEYS].some((k) => Object.hasOwn(value, k));
}

export function emptyResult(file: string, kind: FileKind, input: string): FileTransformResult {
  return { file, kind, output: input, changed: false, issues: [], skipped: [], errors: [] };
}

/**
 * Runs the migration for a whole-file config: returns the migration, or undefined after recording why
 * the file is left as is (not a config, a downgrade, an invalid result).
 */
export function migrateFileConfig(value: unknown, result: FileTransformResult, options: FileTransformOptions): MigrationResult | undefined {
  const version = detectVersion(value);
  // A walked file with just a `models` list may be another tool's (an eval set, a model list): it needs a
  // config-like name or a router key to count as a config.
  if (version === undefined || (!options.explicit && !namedLikeConfig(result.file) && !hasRouterKey(value))) {
    if (options.explicit) result.errors.push('not an LLM router config (expected an object with a "models" list or v1 keys such as "strategy")');
    else result.ignored = true;
    return undefined;
  }
  result.from = version;
  let migration: MigrationResult;
  try {
    migration = migrate(value, { to: options.to, tenant: options.tenant, modelNames: options.modelNames });
  } catch (e) {
    result.errors.push(LLMError.isInstance(e) ? e.message : String(e));
    return undefined;
  }
  result.issues.push(...migration.issues);
  const errors = migration.issues.filter((i) => i.severity === 'error');
  if (errors.length) {
    result.errors.push(`cannot migrate: ${errors.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    return undefined;
  }
  return migration;
}
