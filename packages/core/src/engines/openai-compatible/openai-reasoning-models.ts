import { REASONING_EFFORTS, type ReasoningEffort } from '../../spec/reasoning.js';
import { openAIModelFamilyId } from './openai-model-family.js';

/**
 * OpenAI's reasoning families, which take `reasoning_effort`: the o-series (`o1`, `o3-mini`, `o4-mini`...) except
 * `o1-mini` and `o1-preview` (reasoning models from before the field, which answer 400 "Unsupported parameter:
 * 'reasoning_effort'"), gpt-5 and later (`gpt-5`, `gpt-5.1`, `gpt-5-mini`...) except the `-chat` models
 * (`gpt-5-chat-latest` is not a reasoning model and refuses the field), and the open-weight `gpt-oss` models
 * (Groq, vLLM and Ollama, which names them `gpt-oss:20b`, take `reasoning_effort` for them). Every other model
 * (gpt-4o, gpt-4.1, Llama, Mistral...) is assumed not to take it: a deployment that does declares `capabilities`
 * with `reasoning` in its model config.
 */
const REASONING_ID = /^(?:(?!o1-(?:mini|preview)(?:-|$))o\d+(?:-|$)|gpt-(?:[5-9]|\d{2,})(?!.*-chat(?:-|$))(?:[.-]|$)|gpt-oss(?:[-:]|$))/;

/** True when the model id (any `provider/` prefix and date suffix ignored; a fine-tune by its base model: `openAIModelFamilyId`) names an OpenAI reasoning family. */
export function isOpenAIReasoningModel(modelId: string): boolean {
  return REASONING_ID.test(openAIModelFamilyId(modelId));
}

/**
 * The `reasoning_effort` values each family takes, first match wins (ids normalized as above). "Not all reasoning
 * models support every value" (openai 6.49 `ReasoningEffort`); from OpenAI's reasoning guide and model pages:
 * the o-series and gpt-oss take low, medium, high; gpt-5 (5.0: gpt-5, -mini, -nano) adds minimal; gpt-5-pro takes
 * high only; gpt-5.1 brought none (and dropped minimal); gpt-5.2-pro medium to xhigh; gpt-5.2 and later none to
 * xhigh. The Codex models are reasoning-only (no none, no minimal) and come before the general rows:
 * - gpt-5-codex (and gpt-5-codex-mini): low, medium, high. The API's 400: "Unsupported value: 'minimal' is not
 *   supported with the 'gpt-5-codex' model. Supported values are: 'low', 'medium', and 'high'."
 *   (CherryHQ/cherry-studio#10430);
 * - gpt-5.1-codex: low, medium, high ("'none' is not supported with the 'gpt-5.1-codex' model. Supported values
 *   are: 'low', 'medium', and 'high'", openai/codex#6647); gpt-5.1-codex-max: low to xhigh;
 * - gpt-5.1-codex-mini: medium and high only. Codex's own model list offers it no `low`, and whether the API takes
 *   `low` is not documented, so only the two levels that are known to work are sent (`low` and below -> medium);
 * - gpt-5.2-codex, gpt-5.3-codex and later 5.x Codex: low, medium, high, xhigh (OpenAI's gpt-5.3-codex model page,
 *   https://developers.openai.com/api/docs/models/gpt-5.3-codex; "the codex models are reasoning only and thus don't
 *   support a 'none' reasoning effort", router-for-me/CLIProxyAPI#249).
 * `max` is sent to no known family (the nearest below it is). A model outside the table (a deployment that
 * declares the `reasoning` capability: DeepSeek, Qwen on vLLM...) is sent the effort as asked, except `none` that
 * came from a budget of 0 (Anthropic's `thinking: disabled` through the gateway) where the endpoint is not known to
 * take it (`ResolvedEndpoint.reasoningNone`: the `groq` and `ollama` presets, `options.reasoningNone`): nothing is
 * sent then (the model's default, which may be to think; `openAIRequestWarnings` says so), since `none` is the one
 * effort many servers outside OpenAI refuse (xAI grok-3-mini takes low and high, vLLM up to 0.15 low, medium and
 * high); a `none` asked as an effort is the caller's own choice and goes as asked.
 */
const EFFORTS: ReadonlyArray<readonly [RegExp, readonly ReasoningEffort[]]> = [
  [/^o\d+(?:-|$)/, ['low', 'medium', 'high']],
  [/^gpt-oss(?:[-:]|$)/, ['low', 'medium', 'high']],
  [/^gpt-5-codex(?:-|$)/, ['low', 'medium', 'high']],
  [/^gpt-5\.1-codex-max(?:-|$)/, ['low', 'medium', 'high', 'xhigh']],
  [/^gpt-5\.1-codex-mini(?:-|$)/, ['medium', 'high']],
  [/^gpt-5\.1-codex(?:-|$)/, ['low', 'medium', 'high']],
  [/^gpt-5\.\d+-codex(?:-|$)/, ['low', 'medium', 'high', 'xhigh']],
  [/^gpt-5-pro(?:-|$)/, ['high']],
  [/^gpt-5(?:-|$)/, ['minimal', 'low', 'medium', 'high']],
  [/^gpt-5\.1(?:-|$)/, ['none', 'low', 'medium', 'high']],
  [/^gpt-5\.\d+-pro(?:-|$)/, ['medium', 'high', 'xhigh']],
  [/^gpt-(?:5\.\d+|[6-9]|\d{2,})(?:[.-]|$)/, ['none', 'low', 'medium', 'high', 'xhigh']],
];

/** The efforts a model takes (lowest first), or undefined when it is not in the table (send as asked). */
export function openAIReasoningEfforts(modelId: string): readonly ReasoningEffort[] | undefined {
  const id = openAIModelFamilyId(modelId);
  return EFFORTS.find(([re]) => re.test(id))?.[1];
}

/**
 * The effort to send: the asked one when the model takes it; else `none` becomes the model's lowest effort (the
 * least thinking it can do), and any other the nearest the model takes at or above it, else its highest (`xhigh`,
 * `max` -> `high` on the o-series). `fromBudget`: the effort is that of a token budget (`reasoningEffort`), not one
 * asked for, and the endpoint is not known to take `none`: `none` (a budget of 0) to a model outside the table is
 * undefined, nothing to send.
 */
export function openAIReasoningEffort(modelId: string, effort: ReasoningEffort, fromBudget = false): ReasoningEffort | undefined {
  const takes = openAIReasoningEfforts(modelId);
  if (!takes && fromBudget && effort === 'none') return undefined;
  if (!takes || takes.length === 0 || takes.includes(effort)) return effort;
  if (effort === 'none') return takes[0]!;
  const from = REASONING_EFFORTS.indexOf(effort);
  return REASONING_EFFORTS.slice(from).find((e) => takes.includes(e)) ?? takes[takes.length - 1]!;
}
