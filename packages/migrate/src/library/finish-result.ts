import { safeParseConfig } from '@llmrr/core';
import type { MigrationLog } from './migration-log.js';
import type { ConfigVersion, MigratedConfig, MigrationResult } from './types.js';

/**
 * Builds the result and checks the output with the core's own schema, changed or not: whatever it refuses
 * becomes an `error` issue (path in the output), so a migration never hands back a config the router would
 * reject without saying so.
 */
export function finishResult(config: MigratedConfig, from: ConfigVersion, to: ConfigVersion, changed: boolean, log: MigrationLog): MigrationResult {
  const issues = [...log.issues];
  const checked = safeParseConfig(config);
  if (!checked.ok) {
    const what = changed ? 'the migrated config is not valid' : 'the config is not valid (nothing to migrate: fix it by hand)';
    for (const i of checked.issues) {
      if (!issues.some((x) => x.severity === 'error' && x.path === i.path)) issues.push({ path: i.path, message: `${what}: ${i.message}`, severity: 'error' });
    }
  }
  return { config, from, to, changed, issues, moves: [...log.moves] };
}
