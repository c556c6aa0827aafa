/**
 * How much a reasoning model should think before it answers: one provider-neutral field that each engine
 * maps to its provider's own control (see packages/core/README.md, "Reasoning").
 */

/**
 * Effort levels, as OpenAI names them (`reasoning_effort` / `reasoning.effort`: `none`, `minimal`, `low`,
 * `medium`, `high`, `xhigh`, `max`; openai 6.49 `ReasoningEffort` in resources/shared.d.ts).
 */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

export interface ReasoningOptions {
  /** How hard to think; `none` turns thinking off where the provider allows it. */
  effort?: ReasoningEffort;
  /**
   * Thinking tokens allowed (Anthropic `thinking.budget_tokens`, Gemini `thinkingBudget`); 0 turns thinking
   * off. An integer >= 0. Engines whose provider takes an effort instead map it to one.
   */
  budgetTokens?: number;
}
