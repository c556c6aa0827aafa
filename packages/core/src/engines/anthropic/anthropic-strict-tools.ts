/**
 * Claude model ids without strict tool use (`tools[].strict`, structured outputs): "Structured outputs are generally
 * available on the Claude API and Amazon Bedrock for Claude Opus 4.6, Claude Sonnet 4.6, Claude Sonnet 4.5, Claude
 * Opus 4.5, and Claude Haiku 4.5" with no beta header, and "remain in public beta on Microsoft Foundry"
 * (https://platform.claude.com/docs/en/build-with-claude/structured-outputs,
 * https://platform.claude.com/docs/en/agents-and-tools/tool-use/strict-tool-use). Vertex AI lists Opus 4.7, Sonnet
 * 4.6 and Opus 4.6, with Opus 4.5, Sonnet 4.5 and Haiku 4.5 "coming soon"
 * (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/structured_outputs).
 * The models without it: Claude 1, 2, Instant and 3.x, and Claude Opus 4 / 4.1 and Sonnet 4
 * (`claude-opus-4-20250514`, `claude-opus-4-1`, `claude-sonnet-4-0`...), also as Bedrock (`anthropic.` prefix,
 * `-v1:0` suffix) or Vertex (`@date`) ids; and the Vertex ids of the 4.5 models (`claude-sonnet-4-5@20250929`).
 *
 * Every other id (4.5 and later, and ids this engine does not know, such as a newer model or a proxy's alias) is taken
 * to have it: Anthropic answers 400 where it does not. The engine option `strictTools` overrides this.
 */
const WITHOUT_STRICT =
  /(?:^|[./])claude-(?:[1-3](?:[-.]|$)|instant|(?:opus|sonnet)-4(?:[-.][01])?(?:-\d{8})?(?:$|[@:]|-v\d)|(?:opus|sonnet|haiku)-4[-.]5(?:-\d{8})?@)/i;

/** True when the model id is not one of the models above: the default of the engine option `strictTools`. */
export function anthropicModelTakesStrictTools(modelId: string): boolean {
  return !WITHOUT_STRICT.test(modelId.trim());
}

/**
 * Why a model `anthropicModelTakesStrictTools` says no to goes without strict tool use, for its warning: the
 * Vertex AI ids of the 4.5 models are named apart (the models take it on the Claude API, Vertex does not offer it
 * for them yet).
 */
export function anthropicStrictToolsOffReason(modelId: string): string {
  return modelId.includes('@') && /(?:opus|sonnet|haiku)-4[-.]5/i.test(modelId)
    ? `Vertex AI does not offer strict tool use for ${modelId} yet (only Claude Opus 4.6, Sonnet 4.6 and Opus 4.7 there)`
    : `${modelId} is not known to take strict tool use (Claude Haiku 4.5, Sonnet 4.5, Opus 4.5 and later do)`;
}

/** The beta structured outputs (strict tool use) still need on Microsoft Foundry. */
export const STRUCTURED_OUTPUTS_BETA = 'structured-outputs-2025-11-13';

/**
 * The `anthropic-beta` value a strict tool needs on this base URL: `STRUCTURED_OUTPUTS_BETA` on a Microsoft Foundry
 * host (`*.azure.com`, where structured outputs are still in public beta), else undefined (GA: no header). A base
 * URL that is not a URL needs none.
 */
export function anthropicStrictToolsBeta(baseURL: string): string | undefined {
  let host: string;
  try {
    host = new URL(baseURL).hostname;
  } catch {
    return undefined;
  }
  return /(?:^|\.)azure\.com$/i.test(host) ? STRUCTURED_OUTPUTS_BETA : undefined;
}
