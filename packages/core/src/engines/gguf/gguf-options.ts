import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { ModelConfig } from '../../config/schema.js';
import { parseEngineOptions } from '../shared/parse-engine-options.js';

/** `options` of a `gguf` model. Unknown keys are refused, so typos do not pass silently. */
export const GgufOptionsSchema = z
  .object({
    /** CPU threads per request context. Default 1 (on a small shared machine more threads are slower). */
    threads: z.number().int().positive().default(1),
    /**
     * Most calls generating at once, each in a context of its own (its KV cache: `contextSize` tokens of memory).
     * Default: as many as the machine's cores hold at `threads` each (`defaultMaxConcurrency`), at least 1; more
     * concurrent calls on the CPU share the same cores and only add memory.
     */
    maxConcurrency: z.number().int().positive().optional(),
    /**
     * Most calls waiting for a `maxConcurrency` slot (in arrival order, each until its signal aborts); a call past
     * them is refused at once with `overloaded` (503, retryable). Default 32; 0: refuse instead of waiting.
     */
    maxQueued: z.number().int().nonnegative().default(32),
    /** Tokens per request context. Default: 512 or the model's training context, whichever is smaller. */
    contextSize: z.number().int().positive().optional(),
    /** Offload layers to a GPU (`gpu: 'auto'` in node-llama-cpp). Default false: CPU only. */
    gpu: z.boolean().default(false),
    /** Default sampling seed when a request gives none (above 0xFFFFFFFE: hashed into 0..0xFFFFFFFE, see `llamaSeed`). */
    seed: z.number().int().nonnegative().optional(),
    /**
     * `auto`: the model's own chat template when its GGUF has one (`tokenizer.chat_template`), else raw
     * completion. `none`: raw completion (the prompt is the messages' text joined by newlines).
     * Any other value names a node-llama-cpp chat wrapper (`chatML`, `llama3.1`, `mistral`, ...).
     */
    chatTemplate: z.string().min(1).default('auto'),
    /** Default `maxTokens` when a request gives none. */
    maxTokens: z.number().int().positive().default(256),
    /** Default temperature when a request gives none. Default 0: greedy, deterministic. */
    temperature: z.number().min(0).default(0),
    /** Default top-p when a request gives none. */
    topP: z.number().min(0).max(1).optional(),
  })
  .strict();

/** The default `maxConcurrency`: the cores Node may use (`os.availableParallelism()`) over `threads`, at least 1. */
export function defaultMaxConcurrency(threads: number): number {
  return Math.max(1, Math.floor(availableParallelism() / threads));
}

/** A `gguf` model's options resolved: the schema's output with the `maxConcurrency` default applied. */
export type GgufOptions = z.output<typeof GgufOptionsSchema> & { maxConcurrency: number };
export type GgufOptionsInput = z.input<typeof GgufOptionsSchema>;

/**
 * Parses a model's `options` and applies the `maxConcurrency` default (it depends on `threads`; applied here, not in
 * the schema, so `GgufOptionsSchema` stays an object schema as the other engines'); a bad field becomes
 * `config_invalid` naming `options.<field>`.
 */
export function parseGgufOptions(model: ModelConfig): GgufOptions {
  const options = parseEngineOptions(GgufOptionsSchema, model, 'gguf');
  return { ...options, maxConcurrency: options.maxConcurrency ?? defaultMaxConcurrency(options.threads) };
}
