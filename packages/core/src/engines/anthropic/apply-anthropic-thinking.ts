import type { ChatMessage, GenerateRequest } from '../../spec/messages.js';
import type { ReasoningEffort } from '../../spec/reasoning.js';
import type { CallWarning } from '../../spec/warnings.js';
import { REASONING_BUDGETS, checkReasoning, reasoningBudget, reasoningEffort } from '../shared/reasoning.js';
import type { AnthropicMessagesRequest } from './anthropic-api-types.js';
import { ANTHROPIC_EFFORT_LEVELS, anthropicEffort, anthropicEffortLevels, type AnthropicEffort } from './anthropic-efforts.js';
import { anthropicThinkingMode } from './anthropic-thinking-models.js';

/** Anthropic's smallest thinking budget (`budget_tokens` "Must be >=1024 and less than max_tokens": @anthropic-ai/sdk 1.14 ThinkingConfigEnabled). */
export const MIN_THINKING_BUDGET = 1024;

export interface ThinkingSettings {
  modelId: string;
  defaultMaxTokens: number;
  maxOutputTokens?: number;
  reasoning?: boolean;
}

/** What the request asks for, from `providerOptions.anthropic.thinking` when it is a known form, else `request.reasoning`. */
type Ask =
  | { on: false; verbatim?: Record<string, unknown> }
  | { on: true; form: 'budget' | 'adaptive'; budget?: number; effort?: ReasoningEffort; display?: unknown; verbatim?: Record<string, unknown> }
  | { on: true; form: 'other'; verbatim: Record<string, unknown> };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readAsk(request: GenerateRequest, verbatim: Record<string, unknown> | undefined, provider: string): Ask | undefined {
  const reasoning = checkReasoning(request.reasoning, provider);
  const effort = reasoning && reasoningEffort(reasoning);
  if (verbatim) {
    const display = verbatim.display ?? undefined;
    if (verbatim.type === 'disabled') return { on: false, verbatim };
    if (verbatim.type === 'enabled' && typeof verbatim.budget_tokens === 'number') {
      return { on: true, form: 'budget', budget: verbatim.budget_tokens, display, verbatim };
    }
    if (verbatim.type === 'adaptive') {
      // `reasoning` gives the form its effort, and its budget (`budgetTokens`) to a model that takes manual thinking
      // only; `reasoning` that turns thinking off is replaced by the form (`replacedReasoning`).
      const budget = reasoning?.budgetTokens;
      return { on: true, form: 'adaptive', ...(effort && effort !== 'none' ? { effort } : {}), ...(budget ? { budget } : {}), display, verbatim };
    }
    return { on: true, form: 'other', verbatim };
  }
  const budget = reasoning && reasoningBudget(reasoning);
  if (budget === undefined) return undefined;
  if (budget === 0) return { on: false };
  return { on: true, form: 'budget', budget, ...(effort ? { effort } : {}) };
}

/**
 * True when the last assistant turn has tool calls but no signed thinking (a `thinking` block with a signature,
 * or `redacted_thinking`): with thinking on, Anthropic answers 400 "Expected `thinking` or `redacted_thinking`,
 * but found `tool_use`". Such turns come through the chat-completions wire (no place for signatures) or from
 * another provider. LiteLLM drops thinking then (`last_assistant_with_tool_calls_has_no_thinking_blocks`).
 */
function unsignedToolTurn(messages: readonly ChatMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant') continue;
    if (!m.toolCalls || m.toolCalls.length === 0) return false;
    return !(Array.isArray(m.reasoning) && m.reasoning.some((p) => !!p?.signature || p?.redactedData !== undefined));
  }
  return false;
}

/**
 * True when the body as sent (`final`: the body with the `providerOptions.anthropic` fields merged over it, as the
 * engine sends it) sets something Anthropic refuses together with thinking: temperature other than 1, top_p below
 * 0.95, any top_k, or forced tool use (`any` / `tool`, which JSON mode is on this engine). Extended-thinking guide,
 * "Feature compatibility" (https://platform.claude.com/docs/en/build-with-claude/extended-thinking: "Thinking isn't
 * compatible with temperature or top_k modifications as well as forced tool use"; top_p may be set between 0.95
 * and 1); the API's own 400 says "Thinking may not be enabled when tool_choice forces tool use". The same rules
 * hold for manual and adaptive thinking. One rule for every sampling setting: the caller's `temperature`, `top_p` and
 * `top_k` (`request.topK`, or given in `providerOptions.anthropic`) are sent and thinking is dropped, with the same
 * `setting_not_sent` warning (field `reasoning`, or `providerOptions.anthropic.thinking`).
 */
function conflictsWithThinking(final: Record<string, unknown>): boolean {
  const { temperature, top_p: topP, top_k: topK, tool_choice: toolChoice } = final;
  if (temperature !== undefined && temperature !== null && temperature !== 1) return true;
  if (topP !== undefined && topP !== null && !(typeof topP === 'number' && topP >= 0.95)) return true;
  if (topK !== undefined && topK !== null) return true;
  return isRecord(toolChoice) && (toolChoice.type === 'any' || toolChoice.type === 'tool');
}

/** The display setting of a verbatim form, carried to the form actually sent. */
function withDisplay<T extends Record<string, unknown>>(thinking: T, display: unknown): T {
  return display === undefined ? thinking : { ...thinking, display };
}

/**
 * Sets `thinking` (and for adaptive thinking `output_config.effort`) on an Anthropic body. Reasoning is a hint
 * that degrades gracefully: a request that works without it never fails because of it. The ask comes from
 * `providerOptions.anthropic.thinking` when that is set (the form: `enabled` with a budget and/or `display`,
 * `adaptive`, `disabled`; other types such as `between_tools` go as they are), else from `request.reasoning`
 * (a budget: `budgetTokens`, else the effort's `REASONING_BUDGETS` entry). Both go through the same rules:
 * - nothing is sent on a deployment without the `reasoning` capability (`settings.reasoning` false);
 * - off (`none`, 0, `disabled`): `{ type: "disabled" }`, except on adaptive-only models, which refuse it (no
 *   `thinking` at all; Mythos Preview thinks by default and cannot be turned off);
 * - on: dropped when the last assistant turn has tool calls without signed thinking (`unsignedToolTurn`) and when
 *   the body as sent (`overrides`: the `providerOptions.anthropic` fields merged over it) has a temperature other
 *   than 1, a top_p below 0.95, any top_k, or forced tool choice (JSON mode included), which would make Anthropic
 *   refuse it: the caller's sampling and format settings win;
 * - adaptive-only models (`anthropicThinkingMode` "adaptive"), and `adaptive` asked of a model that takes it:
 *   `{ type: "adaptive" }` with `output_config.effort` from the effort (`anthropicEffort`: the nearest level the
 *   model takes, not above the asked one; a budget's effort by `reasoningEffort`); `adaptive` asked of a manual-only model (Claude 4.5 and earlier) becomes a budget;
 * - a budget: `{ type: "enabled", budget_tokens }`, raised to Anthropic's minimum of 1024; it must stay below
 *   `max_tokens`, within the deployment's `maxOutputTokens`. The caller set `maxTokens` (after the router's cap):
 *   a budget at or above it shrinks to `maxTokens - 1`. Otherwise `max_tokens` = budget + the engine default, at
 *   most `maxOutputTokens`, and the budget shrinks to fit. A budget that falls below 1024 drops thinking.
 * A count_tokens body is built by the same call (the engine then leaves out `max_tokens`), so it carries the same
 * thinking form as the messages body for the same request.
 * Returns the warnings (none: an empty list): thinking asked for and not sent (`setting_not_sent`, field
 * `reasoning` or `providerOptions.anthropic.thinking`) or sent as something else (`setting_changed`:
 * `reasoning.effort`, `reasoning.budgetTokens`, `providerOptions.anthropic.thinking(.budget_tokens)`), and a
 * `request.reasoning` the verbatim form took the place of (`setting_not_sent`: `reasoning.effort` or
 * `reasoning.budgetTokens`; see `replacedReasoning`).
 */
export function applyThinking(
  body: AnthropicMessagesRequest,
  request: GenerateRequest,
  settings: ThinkingSettings,
  provider: string,
  verbatim: unknown,
  overrides: Record<string, unknown> = {},
): CallWarning[] {
  const ask = readAsk(request, isRecord(verbatim) ? verbatim : undefined, provider);
  if (ask === undefined) return [];
  const warnings: CallWarning[] = [];
  warnings.push(...applyAsk(body, request, ask, settings, overrides));
  const replaced = replacedReasoning(request, ask);
  if (replaced) warnings.push(replaced);
  return warnings;
}

/**
 * `setting_not_sent` for a `request.reasoning` that a verbatim `providerOptions.anthropic.thinking` took the place
 * of: every form decides the thinking on its own, except `adaptive` next to a `reasoning` that asks for thinking
 * (the form takes its effort, and its budget on a manual-only model, from `request.reasoning`); a `reasoning` that
 * turns thinking off (`none`, 0) is replaced by an `adaptive` form as by any other. Not for a `reasoning` that says
 * what the form says: thinking off with `disabled`, the same budget as an `enabled` form (the gateway sends an
 * `enabled` form with `display` both ways).
 */
function replacedReasoning(request: GenerateRequest, ask: Ask): CallWarning | undefined {
  const reasoning = request.reasoning;
  if (!ask.verbatim || reasoning === undefined) return undefined;
  const { effort, budgetTokens } = reasoning;
  if (effort === undefined && budgetTokens === undefined) return undefined;
  const off = effort === 'none' || budgetTokens === 0;
  if (ask.on && ask.form === 'adaptive' && !off) return undefined;
  if (!ask.on && off) return undefined;
  if (ask.on && ask.form === 'budget' && effort === undefined && budgetTokens === ask.budget) return undefined;
  const field = effort !== undefined ? 'reasoning.effort' : 'reasoning.budgetTokens';
  return {
    code: 'setting_not_sent',
    field,
    message: `${field} ${effort ?? budgetTokens} was not sent: providerOptions.anthropic.thinking is given and decides the thinking in its place.`,
  };
}

/** `applyThinking` for one ask: sets the body's thinking, and returns the warnings when it went out other than asked. */
function applyAsk(body: AnthropicMessagesRequest, request: GenerateRequest, ask: Ask, settings: ThinkingSettings, overrides: Record<string, unknown>): CallWarning[] {
  const askField = ask.verbatim ? 'providerOptions.anthropic.thinking' : 'reasoning';
  const notSent = (why: string): CallWarning[] => [{ code: 'setting_not_sent', field: askField, message: `${askField} was not sent: ${why}.` }];
  if (settings.reasoning === false) return ask.on ? notSent('this deployment has no reasoning capability') : [];
  let mode = anthropicThinkingMode(settings.modelId);
  // A model the id says cannot think, declared able to (`capabilities`): whatever forms it takes are unknown.
  if (mode === 'none') mode = 'both';
  if (!ask.on) {
    if (mode !== 'adaptive') body.thinking = ask.verbatim ?? { type: 'disabled' };
    return [];
  }
  if (unsignedToolTurn(request.messages)) return notSent('the last assistant turn has tool calls without signed thinking blocks, which Anthropic refuses with thinking on');
  if (conflictsWithThinking({ ...body, ...overrides })) {
    return notSent('the request sets a temperature other than 1, top_p below 0.95, top_k or a forced tool choice (JSON mode included), which Anthropic refuses with thinking');
  }
  if (ask.form === 'other') {
    body.thinking = ask.verbatim;
    return [];
  }
  const fromAdaptive = ask.form === 'adaptive' ? ask.verbatim : undefined;
  const effort = ask.effort ?? (ask.budget !== undefined ? reasoningEffort({ budgetTokens: ask.budget }) : undefined);
  let budget = Math.max(ask.budget ?? REASONING_BUDGETS[effort ?? 'high'], MIN_THINKING_BUDGET);
  const adaptive = mode === 'adaptive' || (ask.form === 'adaptive' && mode !== 'manual');

  if (request.maxTokens !== undefined) {
    if (request.maxTokens <= budget) budget = request.maxTokens - 1;
  } else {
    const cap = settings.maxOutputTokens;
    let maxTokens = budget + settings.defaultMaxTokens;
    if (cap !== undefined && maxTokens > cap) {
      maxTokens = cap;
      budget = Math.min(budget, cap - 1);
    }
    if (adaptive || budget >= MIN_THINKING_BUDGET) body.max_tokens = maxTokens;
  }

  if (adaptive) {
    body.thinking = withDisplay({ ...(fromAdaptive ?? {}), type: 'adaptive' }, ask.display);
    let sent: AnthropicEffort | undefined;
    if (effort !== undefined && effort !== 'none') {
      sent = anthropicEffort(settings.modelId, effort);
      body.output_config = { ...(isRecord(body.output_config) ? body.output_config : {}), effort: sent };
    }
    const changed = adaptiveChange(request, ask, settings.modelId, sent, mode === 'adaptive');
    return changed ? [changed] : [];
  }
  if (budget < MIN_THINKING_BUDGET) {
    return notSent(`no thinking budget of at least ${MIN_THINKING_BUDGET} tokens fits below max_tokens ${request.maxTokens ?? settings.maxOutputTokens}`);
  }
  const base = ask.form === 'budget' && ask.verbatim ? ask.verbatim : {};
  body.thinking = withDisplay({ ...base, type: 'enabled', budget_tokens: budget }, ask.display);
  return budgetChange(request, ask, settings.modelId, budget, body.max_tokens);
}

/**
 * The budget the caller gave, with its field: `budget_tokens` of a verbatim `enabled` form; next to a verbatim
 * `adaptive` form, a `reasoning.budgetTokens` above 0 (the form's budget on a manual-only model, else sent as an
 * effort); without a verbatim form, `reasoning.budgetTokens`. Other verbatim forms decide alone (`replacedReasoning`).
 */
function askedBudget(request: GenerateRequest, ask: Ask): { field: string; budget: number } | undefined {
  if (ask.verbatim) {
    if (!ask.on || ask.form === 'other' || ask.budget === undefined) return undefined;
    return { field: ask.form === 'budget' ? 'providerOptions.anthropic.thinking.budget_tokens' : 'reasoning.budgetTokens', budget: ask.budget };
  }
  const budget = request.reasoning?.budgetTokens;
  return budget !== undefined ? { field: 'reasoning.budgetTokens', budget } : undefined;
}

/**
 * `setting_changed` when adaptive thinking went out other than asked: `reasoning.effort` sent as another level
 * (`minimal` has none on Anthropic; a level the model lacks goes as the nearest one below), or a budget sent as
 * adaptive thinking (the model takes adaptive thinking only: `adaptiveOnly`), `reasoning.budgetTokens` next to a
 * verbatim `adaptive` form included.
 */
function adaptiveChange(request: GenerateRequest, ask: Ask, modelId: string, sent: AnthropicEffort | undefined, adaptiveOnly: boolean): CallWarning | undefined {
  // A verbatim `enabled` form decides the effort by its budget, whatever `reasoning.effort` says (`replacedReasoning`).
  const fromVerbatimBudget = ask.on && ask.form === 'budget' && ask.verbatim !== undefined;
  const effort = fromVerbatimBudget ? undefined : request.reasoning?.effort;
  if (effort !== undefined && effort !== 'none') {
    if (sent === undefined || sent === effort) return undefined;
    const takes = anthropicEffortLevels(modelId) ?? ANTHROPIC_EFFORT_LEVELS;
    return { code: 'setting_changed', field: 'reasoning.effort', message: `reasoning.effort ${effort} was sent as output_config.effort ${sent}: ${modelId} takes ${takes.join(', ')}.` };
  }
  // On a model that takes both forms, a budget's effort on an adaptive form asked through providerOptions is the
  // documented mapping (docs/core/anthropic.md, "Not warned").
  const asked = adaptiveOnly ? askedBudget(request, ask) : undefined;
  if (!asked) return undefined;
  const how = sent !== undefined ? ` with output_config.effort ${sent}` : '';
  return { code: 'setting_changed', field: asked.field, message: `${asked.field} ${asked.budget} was sent as adaptive thinking${how}: ${modelId} takes adaptive thinking only, not a budget.` };
}

/**
 * `setting_changed` when a budget went out other than asked: an adaptive form sent as a budget (the model takes
 * manual thinking only), and then the budget asked (`askedBudget`) raised to Anthropic's minimum or lowered below
 * `max_tokens`, or an effort's budget lowered below `max_tokens`.
 */
function budgetChange(request: GenerateRequest, ask: Ask, modelId: string, budget: number, maxTokens: number): CallWarning[] {
  const changed = asBudgetChange(request, ask, budget, maxTokens);
  if (!(ask.on && ask.form === 'adaptive')) return changed ? [changed] : [];
  const adaptive: CallWarning = { code: 'setting_changed', field: 'providerOptions.anthropic.thinking', message: `Adaptive thinking was sent as budget_tokens ${budget}: ${modelId} takes manual thinking only.` };
  return changed ? [adaptive, changed] : [adaptive];
}

/** `budgetChange` for the budget or effort the caller gave. */
function asBudgetChange(request: GenerateRequest, ask: Ask, budget: number, maxTokens: number): CallWarning | undefined {
  const why = `thinking must stay below max_tokens ${maxTokens}`;
  const asked = askedBudget(request, ask);
  if (asked) {
    if (asked.budget === budget) return undefined;
    const reason = asked.budget < MIN_THINKING_BUDGET ? `Anthropic's minimum is ${MIN_THINKING_BUDGET}` : why;
    return { code: 'setting_changed', field: asked.field, message: `${asked.field} ${asked.budget} was sent as budget_tokens ${budget}: ${reason}.` };
  }
  const effort = request.reasoning?.effort;
  if (effort === undefined || effort === 'none') return undefined;
  const full = Math.max(REASONING_BUDGETS[effort], MIN_THINKING_BUDGET);
  if (budget === full) return undefined;
  return { code: 'setting_changed', field: 'reasoning.effort', message: `reasoning.effort ${effort} (a budget of ${full} tokens) was sent as budget_tokens ${budget}: ${why}.` };
}
