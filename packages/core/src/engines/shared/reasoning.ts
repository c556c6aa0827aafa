import { LLMError } from '../../errors/llm-error.js';
import { REASONING_EFFORTS, type ReasoningEffort, type ReasoningOptions } from '../../spec/reasoning.js';
import type { ModelConfig } from '../../config/schema.js';

/**
 * Thinking tokens per effort, for providers that take a budget (Anthropic `thinking.budget_tokens`, Gemini
 * 2.5 `thinkingBudget`). low/medium/high/xhigh/max are LiteLLM's defaults
 * (litellm/constants.py: DEFAULT_REASONING_EFFORT_{LOW,MEDIUM,HIGH,XHIGH,MAX}_THINKING_BUDGET = 1024, 2048,
 * 4096, 8192, 16384). minimal is 512, the minimal default LiteLLM's newer docs give (older releases used 128),
 * which is inside every Gemini 2.5 model's range (2.5 Pro 128-32768, Flash 0-24576, Flash-Lite 512-24576).
 * The Anthropic engine raises anything below Anthropic's minimum of 1024.
 */
export const REASONING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16384,
};

const KEYS = new Set(['effort', 'budgetTokens']);

function invalid(param: string, message: string, provider: string | undefined): LLMError {
  return new LLMError({ code: 'invalid_request', message: `${param}: ${message}`, param, ...(provider ? { provider } : {}) });
}

/**
 * Checks `request.reasoning` (an `invalid_request` naming the field: `reasoning.effort`,
 * `reasoning.budgetTokens`, an unknown `reasoning.<key>`) and returns it, or undefined when absent.
 */
export function checkReasoning(reasoning: unknown, provider?: string): ReasoningOptions | undefined {
  if (reasoning === undefined) return undefined;
  if (typeof reasoning !== 'object' || reasoning === null || Array.isArray(reasoning)) {
    throw invalid('reasoning', 'must be an object such as { effort: "high" } or { budgetTokens: 2048 }', provider);
  }
  for (const key of Object.keys(reasoning)) {
    if (!KEYS.has(key)) throw invalid(`reasoning.${key}`, 'unknown field; expected effort or budgetTokens', provider);
  }
  const { effort, budgetTokens } = reasoning as Record<string, unknown>;
  if (effort !== undefined && !(REASONING_EFFORTS as readonly unknown[]).includes(effort)) {
    throw invalid('reasoning.effort', `must be one of ${REASONING_EFFORTS.join(', ')}`, provider);
  }
  if (budgetTokens !== undefined && !(Number.isSafeInteger(budgetTokens) && (budgetTokens as number) >= 0)) {
    throw invalid('reasoning.budgetTokens', 'must be an integer >= 0', provider);
  }
  if (effort !== undefined && budgetTokens !== undefined && (effort === 'none') !== (budgetTokens === 0)) {
    throw invalid('reasoning.budgetTokens', `${budgetTokens} contradicts effort "${effort}" (0 and none both turn thinking off; give one of them)`, provider);
  }
  return reasoning as ReasoningOptions;
}

/** The thinking budget a request asks for: `budgetTokens`, else its effort's `REASONING_BUDGETS` entry, else undefined. */
export function reasoningBudget(reasoning: ReasoningOptions): number | undefined {
  if (reasoning.budgetTokens !== undefined) return reasoning.budgetTokens;
  return reasoning.effort !== undefined ? REASONING_BUDGETS[reasoning.effort] : undefined;
}

/**
 * The effort a request asks for: `effort`, else the effort of its budget (0 -> none, up to 1024 -> low, up
 * to 2048 -> medium, above -> high, the nearest level at or above it in `REASONING_BUDGETS`; never xhigh or
 * max, which few models accept), else undefined.
 */
export function reasoningEffort(reasoning: ReasoningOptions): ReasoningEffort | undefined {
  if (reasoning.effort !== undefined) return reasoning.effort;
  const budget = reasoning.budgetTokens;
  if (budget === undefined) return undefined;
  if (budget === 0) return 'none';
  if (budget <= REASONING_BUDGETS.low) return 'low';
  if (budget <= REASONING_BUDGETS.medium) return 'medium';
  return 'high';
}

/** True when the request asks the model to think (an effort other than none, or a budget above 0). */
export function wantsThinking(reasoning: ReasoningOptions | undefined): boolean {
  if (!reasoning) return false;
  const budget = reasoningBudget(reasoning);
  return budget !== undefined && budget > 0;
}

/**
 * Whether a deployment takes a reasoning control: the model config's `capabilities` list decides when it is
 * given (`reasoning` listed or not), else `byModelId` (the engine's own knowledge of its provider's model ids).
 * Engines send `request.reasoning` only where this is true and drop it silently elsewhere: reasoning is a hint,
 * and a deployment that cannot reason answers the request without it (as LiteLLM drops unsupported params).
 */
export function reasoningEnabled(model: Pick<ModelConfig, 'capabilities'>, byModelId: boolean): boolean {
  return model.capabilities ? model.capabilities.includes('reasoning') : byModelId;
}
