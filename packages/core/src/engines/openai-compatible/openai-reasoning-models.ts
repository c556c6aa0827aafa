import { normalizeModelId } from '../../pricing/model-id.js';

/**
 * OpenAI's reasoning families, which take `reasoning_effort`: the o-series (`o1`, `o3-mini`, `o4-mini`...),
 * gpt-5 and later (`gpt-5`, `gpt-5.1`, `gpt-5-mini`...) except the `-chat` models (`gpt-5-chat-latest` is not a
 * reasoning model and refuses the field), and the open-weight `gpt-oss` models (Groq, vLLM, Ollama take
 * `reasoning_effort` for them). Every other model (gpt-4o, gpt-4.1, Llama, Mistral...) is assumed not to take it:
 * a deployment that does declares `capabilities` with `reasoning` in its model config.
 */
const REASONING_ID = /^(?:o\d+(?:-|$)|gpt-(?:[5-9]|\d{2,})(?!.*-chat(?:-|$))(?:[.-]|$)|gpt-oss(?:-|$))/;

/** True when the model id (any `provider/` prefix and date suffix ignored) names an OpenAI reasoning family. */
export function isOpenAIReasoningModel(modelId: string): boolean {
  return REASONING_ID.test(normalizeModelId(modelId));
}
