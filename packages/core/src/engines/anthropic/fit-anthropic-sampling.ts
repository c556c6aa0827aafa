import { normalizeModelId } from '../../pricing/model-id.js';
import type { AnthropicMessagesRequest } from './anthropic-api-types.js';
import type { AnthropicCallWarnings } from './anthropic-call-warnings.js';

/** Anthropic's largest `temperature` ("Ranges from 0.0 to 1.0"; above it a 400 "temperature: range: 0..1"). */
export const ANTHROPIC_MAX_TEMPERATURE = 1;

/**
 * Claude models that refuse `temperature` and `top_p` together (400 "`temperature` and `top_p` cannot both be
 * specified for this model. Please use only one."): Claude Opus 4.1 and later, Sonnet 4.5 and later, Haiku 4.5 and
 * later, every Claude 5 model, Mythos and Fable (open-webui/pipelines#546 on Opus 4.1, langfuse/langfuse#9882 on
 * Sonnet 4.5, Vali-98/ChatterUI#564 on Sonnet 4.6, cloud-apim/otoroshi-llm-extension#140 on Haiku 4.5; the API
 * reference: "You should either alter temperature or top_p, but not both"). Ids after `normalizeModelId` (dates,
 * Bedrock prefixes and versions removed). An id not listed (older models, a proxy's alias) is sent both.
 */
const ONE_OF_TEMPERATURE_TOP_P = /^claude-(?:opus-4[-.](?:[1-9]|\d{2,})|(?:sonnet|haiku)-4[-.](?:[5-9]|\d{2,})|(?:opus|sonnet|haiku)-(?:[5-9]|\d{2,})|mythos|fable)(?:[-.@:]|$)/;

/** Claude model ids (after `normalizeModelId`, as for the top_p rule), whose `temperature` range is 0 to 1. */
const CLAUDE = /^claude(?:[-.@:]|$)/;

/**
 * Hosts serving Claude alone on Anthropic's wire: Anthropic's API, Microsoft Foundry (`*.azure.com`, where the model is
 * the deployment's own name), Vertex AI (`*.googleapis.com`), Amazon Bedrock (`bedrock*.amazonaws.com`).
 */
const CLAUDE_HOST = /(?:^|\.)(?:anthropic\.com|azure\.com|googleapis\.com)$|^bedrock[\w-]*\.[\w.-]*amazonaws\.com$/i;

/**
 * Anthropic-wire APIs of other models that take OpenAI's temperature range, recognised by model id (after
 * `normalizeModelId`) or host: DeepSeek's https://api.deepseek.com/anthropic ("temperature ... range [0.0 ~ 2.0]").
 */
const WIDE_TEMPERATURE_MODEL = /^deepseek(?:[-.@:]|$)/;
const WIDE_TEMPERATURE_HOST = /(?:^|\.)deepseek\.com$/i;

/**
 * True when the deployment is recognisably not Claude and takes a `temperature` above 1: a DeepSeek model id or host
 * (`WIDE_TEMPERATURE_*`), not a Claude id, not on a Claude host (`CLAUDE_HOST`). Anything else is taken for Claude
 * (clamped to 1): a Foundry deployment name or a proxy's alias (`prod-sonnet`) may well be Claude, which answers a
 * temperature above 1 with a 400, while 1 is a valid temperature for any model. `baseURL` absent or not a URL: the id
 * alone decides. The engine resolves it once per deployment.
 */
export function anthropicDeploymentTakesTemperatureAbove1(modelId: string, baseURL?: string): boolean {
  const id = normalizeModelId(modelId);
  if (CLAUDE.test(id)) return false;
  let host = '';
  if (baseURL !== undefined) {
    try {
      host = new URL(baseURL).hostname;
    } catch {
      host = '';
    }
  }
  if (CLAUDE_HOST.test(host)) return false;
  return WIDE_TEMPERATURE_MODEL.test(id) || WIDE_TEMPERATURE_HOST.test(host);
}

/** True when the model id names a Claude model that refuses `temperature` and `top_p` together. */
export function anthropicRefusesTemperatureWithTopP(modelId: string): boolean {
  return ONE_OF_TEMPERATURE_TOP_P.test(normalizeModelId(modelId));
}

/**
 * Fits the body's sampling settings (set from the request, before `providerOptions.anthropic` is merged: those go as
 * given) to what Anthropic takes, each change with a warning, so that a request another provider takes is not a 400:
 * - `temperature` above 1 (OpenAI's range is 0 to 2) is sent as 1, `setting_changed` (as vercel/ai clamps it), unless
 *   `takesTemperatureAbove1` (a model recognisably not Claude: `anthropicDeploymentTakesTemperatureAbove1`, such as
 *   DeepSeek's Anthropic API), which gets it as asked;
 * - `temperature` and `top_p` both set, on a model that refuses the pair (`anthropicRefusesTemperatureWithTopP`):
 *   only `temperature` is sent, `setting_not_sent` `topP`;
 * - stop sequences that are only white space (`"\n"`: 400 "stop_sequences: each stop sequence must contain
 *   non-whitespace", BerriAI/litellm#3286) are not sent: `setting_not_sent` `stop` when none is left, else
 *   `setting_changed`. The answer then does not stop there.
 */
export function fitAnthropicSampling(body: AnthropicMessagesRequest, modelId: string, takesTemperatureAbove1: boolean, notes: AnthropicCallWarnings): void {
  const temperature = body.temperature;
  if (temperature !== undefined && temperature > ANTHROPIC_MAX_TEMPERATURE && !takesTemperatureAbove1) {
    body.temperature = ANTHROPIC_MAX_TEMPERATURE;
    notes.add('setting_changed', 'temperature', `temperature ${temperature} was sent as ${ANTHROPIC_MAX_TEMPERATURE}: Anthropic's range is 0 to ${ANTHROPIC_MAX_TEMPERATURE}.`);
  }
  if (body.temperature !== undefined && body.top_p !== undefined && anthropicRefusesTemperatureWithTopP(modelId)) {
    notes.add('setting_not_sent', 'topP', `topP ${body.top_p} was not sent: ${modelId} takes temperature or top_p, not both (temperature was sent).`);
    delete body.top_p;
  }
  const stops = body.stop_sequences;
  if (stops !== undefined && stops.some((s) => s.trim() === '')) {
    const kept = stops.filter((s) => s.trim() !== '');
    // Prose without the word "stop": the gateway names core's `stop` by the client's field wherever it is a word.
    const why = `Anthropic refuses a sequence that is only white space (the answer does not end there)`;
    if (kept.length === 0) {
      delete body.stop_sequences;
      notes.add('setting_not_sent', 'stop', `stop was not sent: ${why}.`);
    } else {
      body.stop_sequences = kept;
      notes.add('setting_changed', 'stop', `stop was sent without its sequences that are only white space: ${why}.`);
    }
  }
}
