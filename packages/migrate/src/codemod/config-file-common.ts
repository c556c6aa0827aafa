import { LLMError } from '@llmrr/core';
import { detectVersion } from '../library/detect-version.js';
import { migrate } from '../library/migrate.js';
import type { MigrationResult } from '../library/types.js';
import type { FileKind, FileTransformOptions, FileTransformResult } from './types.js';

export function emptyResult(file: string, kind: FileKind, input: string): FileTransformResult {
  return { file, kind, output: input, changed: false, issues: [], skipped: [], errors: [] };
}

/**
 * Runs the migration for a whole-file config: returns the migration, or undefined after recording why
 * the file is left as is (not a config, a downgrade, an invalid result).
 */
export function migrateFileConfig(value: unknown, result: FileTransformResult, options: FileTransformOptions): MigrationResult | undefined {
  const version = detectVersion(value);
  if (version === undefined) {
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
