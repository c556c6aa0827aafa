/**
 * Claude model ids that take mid-conversation system messages (`{ role: "system" }` inside `messages`):
 * "available on Claude Opus 4.8 only; no beta header required", on the Claude API and Claude Platform on AWS,
 * not on Amazon Bedrock, Vertex AI or Microsoft Foundry
 * (https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages). Other models answer
 * 400 "role 'system' is not supported on this model".
 *
 * Matched: `claude-opus-4-8`, its dated snapshots (`claude-opus-4-8-20260528`), and the dotted spelling some
 * proxies use (`claude-opus-4.8`), case-insensitive. Not matched: Bedrock ids (`anthropic.claude-opus-4-8-v1:0`,
 * `us.anthropic....`) and Vertex ids (`claude-opus-4-8@20260528`), whose platforms do not take the feature, and
 * every other model. A newer model that takes them is turned on with the engine option `midConversationSystem: true`.
 */
const OPUS_4_8 = /^claude-opus-4[-.]8(?:-\d{8})?$/i;

/** True when the model id is a Claude Opus 4.8 id of the Claude API (see above): the default of `midConversationSystem`. */
export function anthropicModelTakesMidConversationSystem(modelId: string): boolean {
  return OPUS_4_8.test(modelId.trim());
}

/**
 * Hosts of the clouds that serve Claude without mid-conversation system messages and that this engine can be
 * pointed at: Microsoft Foundry's Anthropic endpoint (`https://<resource>.services.ai.azure.com/anthropic`, the
 * Messages API with `x-api-key`, model = the deployment's name), and, for a proxy named after them, Google's and
 * Bedrock's API hosts.
 */
const NO_MID_CONVERSATION_HOST = /(?:^|\.)(?:azure\.com|googleapis\.com)$|^bedrock[\w-]*\.[\w.-]*amazonaws\.com$/i;

/**
 * The default of the engine option `midConversationSystem`: a Claude Opus 4.8 id
 * (`anthropicModelTakesMidConversationSystem`) on a base URL that is not one of the clouds without the feature
 * (Microsoft Foundry `*.azure.com`, `*.googleapis.com`, `bedrock*.amazonaws.com`). A base URL that is not a URL
 * counts as none.
 */
export function anthropicDeploymentTakesMidConversationSystem(modelId: string, baseURL: string): boolean {
  if (!anthropicModelTakesMidConversationSystem(modelId)) return false;
  let host: string;
  try {
    host = new URL(baseURL).hostname;
  } catch {
    return true;
  }
  return !NO_MID_CONVERSATION_HOST.test(host);
}
