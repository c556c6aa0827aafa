import { normalizeModelId } from '../../pricing/model-id.js';

/**
 * The id OpenAI's model families are matched on: `normalizeModelId` (any `provider/` prefix, date and `-latest`
 * suffixes removed, lower case), and for a fine-tuned model the base model it names: OpenAI's fine-tune ids are
 * `ft:<base model>:<org>:<suffix>:<id>` (`ft:o4-mini-2025-04-16:acme::AbC123` -> `o4-mini`), and a fine-tune keeps
 * its base model's parameters.
 */
export function openAIModelFamilyId(modelId: string): string {
  const id = normalizeModelId(modelId);
  const fineTune = /^ft:([^:]+)/.exec(id);
  return fineTune ? normalizeModelId(fineTune[1]!) : id;
}
