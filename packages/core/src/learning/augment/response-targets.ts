import type { CascadeExample } from '../cascade/load-gsm8k-responses.js';
import { ruleEscalationScore, weakAnswerFeatures } from '../cascade/weak-answer-features.js';
import type { RoutingExample } from '../datasets/types.js';

/**
 * Auxiliary targets computed from the two models' responses to a TRAINING prompt
 * (`--augment responses-infold`), fixed before any evaluation run with them. `rank` targets become
 * their mid-rank among the prompts a response model is fitted on; `binary` ones are 0/1.
 */
export const RESPONSE_TARGETS = [
  /** The cascade's hand-written escalation score of the weak answer (`ruleEscalationScore`). */
  { name: 'weak_rule_score', kind: 'rank' },
  /** The weak answer has at least one wrong arithmetic statement. */
  { name: 'weak_arith_wrong', kind: 'binary' },
  /** The weak answer looks cut off, has no final number, or its final number is not an integer. */
  { name: 'weak_malformed', kind: 'binary' },
  /** log(1 + characters) of the weak answer. */
  { name: 'weak_log_chars', kind: 'rank' },
  /** Number of `=` signs in the strong answer: a proxy for the problem's number of computation steps. */
  { name: 'strong_equations', kind: 'rank' },
  /** log(1 + characters) of the strong answer. */
  { name: 'strong_log_chars', kind: 'rank' },
] as const;

export type ResponseTargetName = (typeof RESPONSE_TARGETS)[number]['name'];

/** The raw target values of one prompt from its weak and strong responses (order of `RESPONSE_TARGETS`). */
export function responseTargetValues(prompt: string, weakResponse: string, strongResponse: string): number[] {
  const f = weakAnswerFeatures(prompt, weakResponse);
  return [
    ruleEscalationScore(f),
    f.arith_any_wrong,
    f.truncated || !f.has_final || f.final_non_integer ? 1 : 0,
    Math.log1p(weakResponse.length),
    (strongResponse.match(/=/g) ?? []).length,
    Math.log1p(strongResponse.length),
  ];
}

/**
 * Soft labels in 0..1 for a response model: binary targets as they are, rank targets as
 * (mid-rank + 0.5) / n among `rows` (ties share their mean rank). Uses only `rows`.
 */
export function responseTargetLabels(rows: readonly (readonly number[])[]): number[][] {
  const n = rows.length;
  const out = rows.map(() => new Array<number>(RESPONSE_TARGETS.length).fill(0));
  RESPONSE_TARGETS.forEach((t, j) => {
    if (t.kind === 'binary') {
      for (let i = 0; i < n; i++) out[i]![j] = rows[i]![j]! > 0 ? 1 : 0;
      return;
    }
    const order = rows.map((_, i) => i).sort((a, b) => rows[a]![j]! - rows[b]![j]!);
    for (let s = 0; s < n; ) {
      let e = s;
      while (e < n && rows[order[e]!]![j] === rows[order[s]!]![j]) e++;
      const q = ((s + e - 1) / 2 + 0.5) / n;
      for (let k = s; k < e; k++) out[order[k]!]![j] = q;
      s = e;
    }
  });
  return out;
}

/**
 * `ResponseSource.targetsOf` over loaded responses (`loadGsm8kResponses`): a prompt's targets by its id
 * (the same ids as the router's data), only when the prompt text matches too; computed on first use, so
 * the responses of a prompt that is never asked for are never read.
 */
export function responseTargetsLookup(answered: readonly CascadeExample[]): (e: RoutingExample) => number[] | undefined {
  const byId = new Map(answered.map((a) => [a.id, a]));
  const cache = new Map<string, number[]>();
  return (e) => {
    const a = byId.get(e.id);
    if (!a || a.prompt !== e.prompt) return undefined;
    let t = cache.get(e.id);
    if (!t) cache.set(e.id, (t = responseTargetValues(a.prompt, a.weakResponse, a.strongResponse)));
    return t;
  };
}
