import { modelLooksV1 } from '../library/detect-version.js';
import { isPlainObject, pathString, type Path } from '../library/plain.js';
import type { MigrationIssue, MigrationResult } from '../library/types.js';
import { OriginMap } from './origin-map.js';

/**
 * The `version` values the core's file loader takes: absent (read as 2), or the number 2 or 3. It refuses any other
 * (`1`, `"1.0"`, `"v1"`, the string `"2"`...), so a file saying one was never read by the core.
 */
function coreTakesVersion(version: unknown): boolean {
  return version === undefined || version === 2 || version === 3;
}

/**
 * Whether a v1 config file was read by v1 alone: v1 parsed its file with plain `JSON.parse` (or a YAML parser), so
 * `${...}` in it was literal text. The core may have read it (interpolating `${VAR}` from the environment) only when
 * it takes the file's `version` (`coreTakesVersion`) and not every model is in v1 shape (the core refuses a v1-shaped
 * model: a string, no `name`, a v1 key). Anything else - another `version`, or only v1 models - was v1's alone. A file
 * whose models mix both shapes counts as possibly read (the core refuses it, but it may have been edited since): left
 * as is, with a warning, rather than have a `${VAR}` the core substituted turned into literal text.
 */
function readByV1Only(input: Record<string, unknown>): boolean {
  if (!coreTakesVersion(input.version)) return true;
  const models = input.models;
  return !Array.isArray(models) || models.every(modelLooksV1);
}

/**
 * The migrated config of a config file, with every `${` in a string value written `$${` when the file came from v1:
 * the core's file loader reads `${VAR}` as an environment variable (refusing the file when it is unset, replacing
 * the text when it is set) and `$${` as a literal `${`, so the text keeps its v1 meaning. Each escaped value is
 * reported as info. A file the core may have read already (`readByV1Only`) is left as is, each such value reported
 * as a warning. Configs in source files are objects from code, which the core does not interpolate: not for them.
 */
export function keepDollarBracesLiteral(input: unknown, migration: MigrationResult): MigrationResult {
  if (migration.from !== 1 || !migration.changed || !isPlainObject(input)) return migration;
  const escape = readByV1Only(input);
  const origins = new OriginMap(migration.moves, input);
  const issues: MigrationIssue[] = [];
  const walk = (value: unknown, path: Path): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value;
      const where = pathString(origins.origin(path) ?? path);
      if (!escape) {
        issues.push({ path: where, message: 'has "${": the core reads "${NAME}" in a config file as an environment variable (write "$${" for a literal "${")', severity: 'warning' });
        return value;
      }
      issues.push({ path: where, message: 'had "${" as literal text in v1: written "$${" so the core does not read it as an environment variable', severity: 'info' });
      // A function: in a replacement string `$$` is one `$`.
      return value.replaceAll('${', () => '$${');
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        Object.defineProperty(out, k, { value: walk(v, [...path, k]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return value;
  };
  const config = walk(migration.config, []) as MigrationResult['config'];
  if (issues.length === 0) return migration;
  return { ...migration, config, issues: [...migration.issues, ...issues] };
}
