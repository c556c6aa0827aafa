/**
 * Claude model ids without strict tool use (`tools[].strict`, structured outputs): "Structured outputs are generally
 * available on the Claude API and Amazon Bedrock for Claude Opus 4.6, Claude Sonnet 4.6, Claude Sonnet 4.5, Claude
 * Opus 4.5, and Claude Haiku 4.5" with no beta header
 * (https://platform.claude.com/docs/en/build-with-claude/structured-outputs,
 * https://platform.claude.com/docs/en/agents-and-tools/tool-use/strict-tool-use); Vertex AI lists Opus 4.7, Sonnet
 * 4.6 and Opus 4.6 (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/structured_outputs).
 * The models before them are not on the list: Claude 1, 2, Instant and 3.x, and Claude Opus 4 / 4.1 and Sonnet 4
 * (`claude-opus-4-20250514`, `claude-opus-4-1`, `claude-sonnet-4-0`...), also as Bedrock (`anthropic.` prefix,
 * `-v1:0` suffix) or Vertex (`@date`) ids.
 *
 * Every other id (4.5 and later, and ids this engine does not know, such as a newer model or a proxy's alias) is taken
 * to have it: Anthropic answers 400 where it does not.
 */
const WITHOUT_STRICT = /(?:^|[./])claude-(?:[1-3](?:[-.]|$)|instant|(?:opus|sonnet)-4(?:[-.][01])?(?:-\d{8})?(?:$|[@:]|-v\d))/i;

/** True when the model id is not one of the older Claude models above: the engine sends `tools[].strict` to it. */
export function anthropicModelTakesStrictTools(modelId: string): boolean {
  return !WITHOUT_STRICT.test(modelId.trim());
}
