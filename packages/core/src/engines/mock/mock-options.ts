import { z } from 'zod';
import type { ModelConfig } from '../../config/schema.js';
import { ERROR_CODES, type LLMErrorCode } from '../../errors/codes.js';
import { parseEngineOptions } from '../shared/parse-engine-options.js';
import type { MockEngineOptions } from './mock-engine.js';

const ms = z.number().min(0);

/** A scripted failure (`MockFailure`): its `code` one of the project's error codes (an `LLMError` is made of it). */
const MockFailureSchema = z
  .object({
    code: z.enum(Object.keys(ERROR_CODES) as [LLMErrorCode, ...LLMErrorCode[]]),
    message: z.string().optional(),
    times: z.number().int().positive().optional(),
    retryAfterMs: ms.optional(),
    afterChunks: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * `options` of a `mock` model (`MockEngineOptions`). Unknown keys are refused, so a misspelt option does not pass
 * silently, as the other engines' options.
 */
export const MockOptionsSchema = z
  .object({
    reply: z.string().optional(),
    delayMs: ms.optional(),
    chunkDelayMs: ms.optional(),
    wordsPerChunk: z.number().int().positive().optional(),
    toolArguments: z.record(z.string(), z.unknown()).optional(),
    failures: z.array(MockFailureSchema).optional(),
    modelId: z.string().min(1).optional(),
    warnings: z.array(z.object({ code: z.string().min(1), field: z.string().optional(), message: z.string() }).strict()).optional(),
  })
  .strict() satisfies z.ZodType<MockEngineOptions>;

/** Parses a `mock` model's `options`; a bad field becomes `config_invalid` naming `options.<field>`. */
export function parseMockOptions(model: ModelConfig): MockEngineOptions {
  return parseEngineOptions(MockOptionsSchema, model, 'mock');
}
