// The shared router, configured from llm-router.config.json (v1 keys).
import LLMRouter from 'llm-runner-router';
import config from '../llm-router.config.json' with { type: 'json' };

export const router = new LLMRouter(config);

export async function ask(question) {
  await router.initialize();
  const result = await router.quick(question, { maxTokens: 64 });
  return result;
}
