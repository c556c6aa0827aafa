import type { z } from 'zod';
import type { ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';

/** Parses a model's `options` with `schema`; a bad field becomes `config_invalid` naming `options.<field>`. */
export function parseEngineOptions<S extends z.ZodType>(schema: S, model: ModelConfig, provider: string): z.output<S> {
  const parsed = schema.safeParse(model.options ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const keys = issue && 'keys' in issue && Array.isArray(issue.keys) ? (issue.keys as string[]) : [];
  const path = ['options', ...(issue?.path ?? []).map(String), ...keys.slice(0, 1)].join('.');
  throw new LLMError({
    code: 'config_invalid',
    message: `Model "${model.name}" (${provider}): ${path}: ${issue?.message ?? 'invalid options'}`,
    param: path,
    provider,
    deployment: model.name,
  });
}
