import type { GenerateRequest } from '../../spec/messages.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * The `providerOptions` path that set `field` of a chat-completions body (the preset's own key is merged after
 * `openai`, so it wins), else undefined. Warnings name it when the caller's options, not the mapping, decided what
 * went on the wire.
 */
export function openAIOptionPath(request: GenerateRequest, endpoint: ResolvedEndpoint, field: string): string | undefined {
  const options = request.providerOptions;
  if (options === undefined) return undefined;
  const own = endpoint.providerName !== 'openai' ? options[endpoint.providerName] : undefined;
  if (own && Object.hasOwn(own, field)) return `providerOptions.${endpoint.providerName}.${field}`;
  const openai = options.openai;
  return openai && Object.hasOwn(openai, field) ? `providerOptions.openai.${field}` : undefined;
}
