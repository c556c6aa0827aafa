import { LLMError } from '@llmrr/core';
import { detectVersion } from './detect-version.js';
import type { KeyMove, MigrationResult } from './types.js';
import { assertConfigObject, returnedAsIs, v1ToV2, type V1ToV2Options } from './v1-to-v2.js';
import { v2ToV3, type V2ToV3Options } from './v2-to-v3.js';

export interface MigrateOptions extends V1ToV2Options, V2ToV3Options {
  /** Target version. Default 2. */
  to?: 2 | 3;
}

/** Composes two move lists: a key moved a -> b by the first and b -> c by the second went a -> c. */
function composeMoves(first: readonly KeyMove[], second: readonly KeyMove[]): KeyMove[] {
  const key = (p: ReadonlyArray<string | number>) => p.map(String).join('\u0000');
  const out: KeyMove[] = [];
  for (const m of first) {
    // A v2 -> v3 move is top-level identity; anything under a moved key keeps its relative place.
    const second0 = second.find((s) => key(s.from) === key(m.to.slice(0, s.from.length)));
    out.push(second0 ? { from: m.from, to: [...second0.to, ...m.to.slice(second0.from.length)] } : m);
  }
  return out;
}

/**
 * Migrates a config of any known version to `to` (2 or 3): v1 -> v2 -> v3 as needed. A config already at
 * the target comes back unchanged (`changed: false`) but for the keys the core refuses in it (moved under
 * `legacy`), so running it twice changes nothing. The output is always checked with the core's schema (an
 * `error` issue for what it refuses). Asking for a lower version than the config's throws.
 */
export function migrate(config: unknown, options: MigrateOptions = {}): MigrationResult {
  const to = options.to ?? 2;
  if (to !== 2 && to !== 3) {
    throw new LLMError({ code: 'config_invalid', message: `migrate: "to" must be 2 or 3, got ${JSON.stringify(to)}`, param: 'to' });
  }
  // A config handed back as it is (already at the target) has no depth limit: nothing rewrites or prints it.
  assertConfigObject(config, 'migrate', !returnedAsIs(config, to));
  const from = detectVersion(config);
  if (from === undefined) {
    throw new LLMError({ code: 'config_invalid', message: 'migrate: not a router config (no "models" list and no v1 key such as "strategy")', param: 'models' });
  }
  if (from > to) {
    throw new LLMError({ code: 'config_invalid', message: `migrate: the config is v${from}; it cannot be turned back into v${to}`, param: 'version' });
  }
  // A v2 or v3 config goes to v2ToV3 as it is: v1ToV2 would refuse a v2 config's tenants (v3 keys), which v2ToV3 keeps.
  if (to === 3 && from !== 1) return v2ToV3(config, options);
  const first = v1ToV2(config, options);
  if (to === 2) return first;
  if (first.issues.some((i) => i.severity === 'error')) return first;
  const second = v2ToV3(first.config, options);
  return {
    config: second.config,
    from: first.from,
    to: 3,
    changed: true,
    issues: [...first.issues, ...second.issues.filter((i) => i.severity !== 'info' || (i.path !== '' && i.path !== 'version'))],
    moves: composeMoves(first.moves, second.moves),
  };
}
