import { z } from 'zod';

/**
 * Log probabilities in OpenAI's answers (the gateway's output side; `TokenLogprob` in core). Chat completions:
 * `choices[].logprobs = { content, refusal }` with one entry per token (`bytes` null when unknown, `top_logprobs`
 * [] when none). Legacy completions: parallel arrays, `top_logprobs` as objects token -> logprob.
 */
const ChatTopLogprobSchema = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()).nullable() });
export const OpenAIChatTokenLogprobSchema = ChatTopLogprobSchema.extend({ top_logprobs: z.array(ChatTopLogprobSchema) });
export type OpenAIChatTokenLogprob = z.infer<typeof OpenAIChatTokenLogprobSchema>;

export const OpenAIChatLogprobsSchema = z.object({
  content: z.array(OpenAIChatTokenLogprobSchema).nullable(),
  refusal: z.array(OpenAIChatTokenLogprobSchema).nullable(),
});
export type OpenAIChatLogprobs = z.infer<typeof OpenAIChatLogprobsSchema>;

export const OpenAICompletionLogprobsSchema = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number()),
  top_logprobs: z.array(z.record(z.string(), z.number())).nullable(),
  text_offset: z.array(z.number().int()),
});
export type OpenAICompletionLogprobs = z.infer<typeof OpenAICompletionLogprobsSchema>;
