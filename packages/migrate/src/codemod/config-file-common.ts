import { BUILTIN_STRATEGIES, LLMError } from '@llmrr/core';
import { detectVersion } from '../library/detect-version.js';
import { migrate } from '../library/migrate.js';
import type { MigrationResult } from '../library/types.js';
import { isPlainObject, kebab } from '../library/plain.js';
import { keepDollarBracesLiteral } from './literal-dollar-brace.js';
import type { FileKind, FileTransformOptions, FileTransformResult } from './types.js';

/** Words of a file name that say it is a router config (`llm-router.json`, `llm.config.yaml`, `llmrr.yml`, `myRouter.json`). */
const CONFIG_NAME_WORDS = new Set(['llm', 'llms', 'llmrr', 'router', 'routers', 'llmrouter']);

/** Whether a file's name says it is a router config: one of its words (not letters inside a word: `smallmodels.json`) is a config word. */
export function namedLikeConfig(path: string): boolean {
  const name = path.split(/[\\/]/).pop() ?? '';
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).some((w) => CONFIG_NAME_WORDS.has(w));
}

/**
 * Top-level keys only a router config has: v2/v3 sections and the v1 keys no other tool uses. Generic v1 keys
 * (`timeout`, `maxTokens`, `retries`, `debug`, `verbose`, `maxConcurrency`...) do not count.
 */
/** Keys no other tool's file has: a walked file holding one is a router config, an error when it cannot be migrated. */
const STRONG_ROUTER_KEYS = ['routing', 'tenants', 'defaultTenant', 'routingStrategy', 'fallbackModels', 'modelRegistry', 'preferredEngine', 'fallbackEngine'];
const ROUTER_ONLY_KEYS = ['routing', 'tenants', 'defaultTenant', 'routingStrategy', 'fallbackModels', 'fallbackEnabled', 'enableFallback', 'modelRegistry', 'preferredEngine', 'fallbackEngine', 'enableQuantization', 'sandboxExecution', 'maxModels'];

/**
 * Whether a walked file's top level says "router config": a router-only key, `version` 2 or 3 beside a `models` list
 * (a `version` alone is another tool's too: docker compose's `version: "3"`), or `strategy` naming a router strategy.
 */
function hasRouterKey(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  if (ROUTER_ONLY_KEYS.some((k) => Object.hasOwn(value, k))) return true;
  const v = value.version;
  if ((v === 2 || v === 3 || v === '2' || v === '3') && Array.isArray(value.models)) return true;
  return typeof value.strategy === 'string' && (BUILTIN_STRATEGIES as readonly string[]).includes(kebab(value.strategy));
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
  if (!options.explicit && version > options.to) {
    // A walked config already past the target (a v3 config while --to v2 runs over a folder) is left as is.
    result.issues.push({ path: '', message: `a v${version} config, newer than --to v${options.to}: left as is`, severity: 'info' });
    return undefined;
  }
  // A walked file found by `strategy` or a general key alone (`strategy: round-robin` of a load balancer's file, an i18n
  // file's `fallbackEnabled`), with no `models` list, no key only a router config has and no config-like name, is
  // another tool's when its migration fails: skipped, not an error. One with such a key (a v1 config loading its models
  // from `modelRegistry`) is a config.
  const loose = !options.explicit && !namedLikeConfig(result.file) && isPlainObject(value) && !Array.isArray(value.models) && !STRONG_ROUTER_KEYS.some((k) => Object.hasOwn(value, k));
  let migration: MigrationResult;
  try {
    migration = migrate(value, { to: options.to, tenant: options.tenant, modelNames: options.modelNames });
  } catch (e) {
    if (loose) result.ignored = true;
    else result.errors.push(LLMError.isInstance(e) ? e.message : String(e));
    return undefined;
  }
  const errors = migration.issues.filter((i) => i.severity === 'error');
  if (errors.length && loose) {
    result.ignored = true;
    return undefined;
  }
  if (errors.length) {
    // Each error once, naming its field: as an error of the file (not also as an issue line).
    result.issues.push(...migration.issues.filter((i) => i.severity !== 'error'));
    for (const i of errors) result.errors.push(`cannot migrate: ${i.path || '(root)'}: ${i.message}`);
    return undefined;
  }
  // The core's file loader interpolates `${VAR}`; v1 did not.
  migration = keepDollarBracesLiteral(value, migration);
  result.issues.push(...migration.issues);
  return migration;
}
