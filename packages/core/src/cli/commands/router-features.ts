import { CliUsageError } from '../cli-usage-error.js';

/** Optional feature groups `--features` can add (`+structure`: `STRUCTURE_FEATURES`). */
export const FEATURE_GROUPS = ['structure'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];

export const FEATURES_FLAGS = {
  features: { type: 'string' },
} as const;

export const FEATURES_HELP = `      --features <+g,...>    add optional prompt feature groups: +structure (quantitative structure:
                             counts of numbers, number words, multipliers, units, sentences, question
                             clauses, comparatives; multiple-choice shape: option lengths and spread,
                             NOT/EXCEPT, numeric options, passage). Off by default
`;

/** `--features +structure` (or `structure`; comma-separated) -> the groups, in the order of `FEATURE_GROUPS`. */
export function parseFeatureGroups(v: string | undefined): FeatureGroup[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((t) => t.trim().replace(/^\+/, '')).filter(Boolean);
  if (list.length === 0) throw new CliUsageError(`option --features expects ${FEATURE_GROUPS.map((g) => `+${g}`).join(', ')}, got "${v}"`, '--features');
  for (const g of list) {
    if (!(FEATURE_GROUPS as readonly string[]).includes(g)) throw new CliUsageError(`option --features expects ${FEATURE_GROUPS.map((k) => `+${k}`).join(', ')} (comma-separated), got "${g}"`, '--features');
  }
  return FEATURE_GROUPS.filter((g) => list.includes(g));
}
