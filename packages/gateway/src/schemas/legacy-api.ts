import { CAPABILITIES } from '@llmrr/core';
import { z } from 'zod';
import { ModelNameSchema } from './model-name.js';

/** `POST /api/quick` (the original project's quick inference). */
export const QuickRequestSchema = z.strictObject({
  prompt: z.string().min(1, 'prompt is required'),
  model: ModelNameSchema.default('auto'),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  strategy: z.string().min(1).optional(),
});
export type QuickRequest = z.infer<typeof QuickRequestSchema>;

/** `POST /api/chat` (the original project's chat endpoint). */
export const LegacyChatRequestSchema = z.strictObject({
  messages: z.array(z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1, 'at least one message is required'),
  model: ModelNameSchema.default('auto'),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  strategy: z.string().min(1).optional(),
});
export type LegacyChatRequest = z.infer<typeof LegacyChatRequestSchema>;

/** `POST /api/route`: which model would answer, and why (nothing is generated). */
export const RouteRequestSchema = z.strictObject({
  prompt: z.string().min(1, 'prompt is required'),
  model: ModelNameSchema.default('auto'),
  strategy: z.string().min(1).optional(),
  requirements: z.strictObject({ capabilities: z.array(z.enum(CAPABILITIES)).optional() }).default({}),
  explain: z.boolean().default(true),
});
export type RouteRequest = z.infer<typeof RouteRequestSchema>;

/** Answer of `/api/quick` and `/api/chat`. */
export const LegacyAnswerSchema = z.object({
  response: z.string(),
  model: z.string(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() }),
  costUsd: z.number(),
  requestId: z.string(),
  prompt: z.string().optional(),
});
export type LegacyAnswer = z.infer<typeof LegacyAnswerSchema>;
