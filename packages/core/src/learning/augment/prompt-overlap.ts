/**
 * Leakage control for auxiliary training data: which auxiliary prompts are the same question as a
 * prompt of the evaluated data. Matching is by normalized text, with the multiple-choice template
 * (RouteLLM's MMLU prompts end with "Answer:") and the answer options stripped for a second key, so a
 * question counts as shared even when its options or template differ. Erring on the side of "shared"
 * is the safe direction: a dropped auxiliary prompt costs a little data, a kept one could leak.
 */

/** Lower case, every run of non-letters/digits (any script) to one space, trimmed. */
export function normalizePromptText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Drops a trailing "Answer:" line (RouteLLM's MMLU template). */
function stripTemplate(text: string): string {
  return text.replace(/\n\s*answer\s*:\s*$/i, '');
}

/** The question before its first answer-option line (`A.`, `A)`, `(A)`), when it has options. */
export function questionStem(text: string): string | undefined {
  const m = /\n\s*\(?A[.)]\s/.exec(text);
  return m ? text.slice(0, m.index) : undefined;
}

/**
 * The keys a prompt is matched on: its normalized text without the template, and its normalized
 * question stem when it is multiple choice. Keys shorter than 20 characters are not used for the
 * stem (a bare "Which of the following?" is not the same question everywhere; the full text still is).
 */
export function questionKeys(text: string): string[] {
  const body = stripTemplate(text);
  const keys = [`full:${normalizePromptText(body)}`];
  const stem = questionStem(body);
  if (stem !== undefined) {
    const s = normalizePromptText(stem);
    if (s.length >= 20) keys.push(`stem:${s}`);
  }
  return keys;
}

export interface OverlapResult<T> {
  /** Auxiliary items sharing no key with any evaluated prompt. */
  kept: T[];
  /** How many were dropped, in total and by the key that matched first. */
  dropped: number;
  droppedByFullText: number;
  droppedByStemOnly: number;
}

/**
 * Keeps the auxiliary items whose prompt matches no prompt of `evaluated` (every prompt of the
 * evaluated data, all folds): by normalized full text, or by normalized question stem, compared across
 * the two (a question without options equal to a multiple-choice question's stem is the same question).
 */
export function excludeOverlap<T>(auxiliary: readonly T[], promptOf: (item: T) => string, evaluated: readonly string[]): OverlapResult<T> {
  // Full texts on their own, and every key (full text or stem) in one set: an auxiliary prompt without
  // options whose text is an evaluated question's stem (or the other way round) is the same question too.
  const full = new Set<string>();
  const any = new Set<string>();
  for (const p of evaluated) {
    for (const k of questionKeys(p)) {
      const text = unprefixed(k);
      if (k.startsWith('full:')) full.add(text);
      any.add(text);
    }
  }
  const kept: T[] = [];
  let byFull = 0, byStem = 0;
  for (const item of auxiliary) {
    const keys = questionKeys(promptOf(item)).map(unprefixed);
    if (full.has(keys[0]!)) byFull++;
    else if (keys.some((k) => any.has(k))) byStem++;
    else kept.push(item);
  }
  return { kept, dropped: byFull + byStem, droppedByFullText: byFull, droppedByStemOnly: byStem };
}

function unprefixed(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}
