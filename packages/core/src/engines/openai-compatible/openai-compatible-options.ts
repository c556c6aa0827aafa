import { z } from 'zod';
import type { ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';

/**
 * `options` of an `openai-compatible` model config. Unknown keys are ignored (the gateway's admin API refuses them in a
 * tenant's own models).
 */
export const OpenAICompatibleOptionsSchema = z.object({
  /** Azure OpenAI `api-version` query parameter. */
  apiVersion: z.string().min(1).optional(),
  /** Azure OpenAI deployment name; defaults to the config's `model` (else `name`). */
  deployment: z.string().min(1).optional(),
  /** Ask for usage in streams with `stream_options.include_usage` (default: as the preset says, else true). */
  streamUsage: z.boolean().optional(),
  /**
   * Body field that carries `maxTokens` (default: as the preset says: `max_completion_tokens` for `openai`,
   * else `max_tokens`). Reasoning models behind Azure OpenAI (API 2024-12-01-preview or later) need
   * `max_completion_tokens`.
   */
  maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
  /**
   * Send the request's `promptCacheKey` as `prompt_cache_key` (default: as the preset says: true for `openai`,
   * else false). Turn it on for a server that documents the field (an Azure OpenAI API version that takes it,
   * another llmrr gateway); turn it off to keep it from `openai`.
   */
  promptCacheKey: z.boolean().optional(),
  /**
   * Send the request's `topK` as `top_k` (default: as the preset says: true for `vllm`, `together`, `openrouter`,
   * `llamacpp`, `lmstudio`; false elsewhere and without a preset). Turn it on for a server that documents `top_k`.
   */
  topK: z.boolean().optional(),
  /**
   * Send the request's `verbosity` (default: as the preset says: true for `openai`, else false), to the models that
   * take it. Turn it on for Azure OpenAI with an API version that takes it.
   */
  verbosity: z.boolean().optional(),
  /**
   * Send the request's `logprobs` as `logprobs` / `top_logprobs` (default: as the preset says: false for `groq`,
   * `mistral`, `together`, `lmstudio`, else true), except to the models known to refuse them.
   */
  logprobs: z.boolean().optional(),
  /**
   * Send a tool's `strict` as `function.strict` (default: as the preset says: true for `openai`, `azure-openai`,
   * `mistral`, else false: a strict tool is then sent without it, warned). A schema OpenAI's strict mode refuses (an
   * object without `additionalProperties: false`, an optional property) is never sent strict.
   */
  strictTools: z.boolean().optional(),
  /**
   * Send an assistant turn's reasoning (its `reasoning` parts' text, else "") as `reasoning_content` on every
   * assistant turn between two user messages with tool calls between them (default: as the preset says: true for
   * `deepseek`, else false). Turn it on for a server that wants a tool loop's reasoning back in that field
   * (DeepSeek's thinking mode behind another host).
   */
  reasoningContent: z.boolean().optional(),
  /**
   * Send a reasoning budget of 0 (thinking off; Anthropic's `thinking: disabled` through the gateway) as
   * `reasoning_effort: "none"` to a model outside OpenAI's family table (default: as the preset says: true for `groq`
   * and `ollama`, else false: nothing is sent, with a `setting_not_sent` warning, and the model may still think). Turn
   * it on for a server that takes `none` (a llama.cpp server with ggml-org/llama.cpp#26045).
   */
  reasoningNone: z.boolean().optional(),
  /**
   * Send the request's `logitBias` as `logit_bias` (default: as the preset says: false for `groq`, which answers it
   * with a 400, and for a `baseURL` on `api.groq.com`; else true), except to OpenAI's reasoning models. Turn it off
   * for another server that refuses the field; on for a Groq endpoint that takes it.
   */
  logitBias: z.boolean().optional(),
  /**
   * Send the messages' author `name` (default: as the preset says: false for `groq` and a `baseURL` on
   * `api.groq.com`, else true). Off: each name is left out, with a `setting_not_sent` warning naming
   * `messages.N.name`.
   */
  messageNames: z.boolean().optional(),
  /**
   * How the server continues a final assistant message the request asks to be continued (a prefill,
   * `GenerateRequest.continueFinalMessage`: the gateway's `/v1/messages` asks it, as Anthropic's Messages API
   * continues one, and its `/v1/chat/completions` for vLLM's `continue_final_message: true`). Default: as the preset
   * says (`continue_final_message` for `vllm`, `prefix` for `mistral`, `native` for `llamacpp`), else none.
   * `continue_final_message`: sent with `continue_final_message: true` and `add_generation_prompt: false` (vLLM 0.6.4
   * and later, SGLang, TGI); `prefix`: the last message with `prefix: true` (Mistral; DeepSeek's beta chat prefix
   * completion, at the `https://api.deepseek.com/beta` baseURL); `native`: the server continues it by itself
   * (llama.cpp server's default), sent as it is, no warning; `none` (also a preset's way turned off, as for a vLLM
   * before 0.6.4): the message is sent as it is, the server answers with a new turn, a `setting_not_sent` warning
   * names the message and the exact cache does not keep the answer. See `OpenAIPrefill`.
   */
  prefill: z.enum(['continue_final_message', 'prefix', 'native', 'none']).optional(),
  /**
   * Whether the server's answer to a `prefix: true` message starts with a copy of that message's text, which the
   * engine then takes off (default: as the preset says: true for `mistral`, else false: DeepSeek answers with the
   * continuation alone, and a continuation that starts with the prefill's own text is kept whole). Only with
   * `prefill: prefix`.
   */
  prefillEcho: z.boolean().optional(),
  /**
   * Whether the server refuses a conversation that ends with an assistant message unless it is continued with
   * `prefix: true` (default: as the preset says: true for `mistral`, which answers such a request with a 400; else
   * true when the model id names, behind a provider prefix, a Gemini or Claude model that refuses any final assistant
   * turn, `routedModelRefusal`: `google/gemini-3.6-flash`, `anthropic/claude-opus-4.6`; else false). True: such a
   * request not sent that way is refused before the call, naming `messages.N`, and a router sends it to another
   * deployment; false: it is sent as it is.
   */
  refusesFinalAssistant: z.boolean().optional(),
  /**
   * Whether the server refuses a conversation that ends with an assistant message carrying tool calls (default: as the
   * preset says: true for `llamacpp` unless `prefill` is `continue_final_message`, else false). llama.cpp server
   * continues a final assistant message by itself and answers one with tool calls with a 400 "Cannot continue an
   * assistant message that contains tool calls." True: such a request is refused before the call, naming
   * `messages.N`, and a router sends it to another deployment; false: it is sent as it is.
   */
  refusesFinalToolCalls: z.boolean().optional(),
  /**
   * Whether the model takes `dimensions` on embeddings (default: true, except for `text-embedding-ada-002`). Set false
   * for a server or model with one vector length only: a router then sends calls with `dimensions` elsewhere.
   */
  embedDimensions: z.boolean().optional(),
});

export type OpenAICompatibleOptions = z.output<typeof OpenAICompatibleOptionsSchema>;

/** Parses `model.options`, or throws `config_invalid` naming the field. */
export function parseOpenAICompatibleOptions(model: ModelConfig): OpenAICompatibleOptions {
  const parsed = OpenAICompatibleOptionsSchema.safeParse(model.options ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = ['options', ...(issue?.path ?? [])].join('.');
  throw new LLMError({
    code: 'config_invalid',
    message: `model "${model.name}": ${field}: ${issue?.message ?? 'invalid value'}`,
    param: `models.${model.name}.${field}`,
    provider: 'openai-compatible',
    deployment: model.name,
  });
}
