import { z } from 'zod';
import type { ModelConfig } from '../../config/schema.js';
import { parseEngineOptions } from '../shared/parse-engine-options.js';

/** `options` of an `onnx` model. Unknown keys are refused, so typos do not pass silently. */
export const OnnxOptionsSchema = z
  .object({
    /**
     * `generate`: a decoder-only language model (output `logits`). `embed`: an embedding model
     * (output `last_hidden_state`, `token_embeddings` or `sentence_embedding`). Default: `embed` when the
     * model's `capabilities` list `embeddings`, else `generate`.
     */
    task: z.enum(['generate', 'embed']).optional(),
    /** Hugging Face `tokenizer.json`, relative to the base dir. Default: `tokenizer.json` beside the model file. */
    tokenizer: z.string().min(1).optional(),
    /** `tokenizer_config.json` (eos/pad tokens). Default: the one beside `tokenizer.json`, when present. */
    tokenizerConfig: z.string().min(1).optional(),
    /** onnxruntime intra-op threads. Default 1. */
    threads: z.number().int().positive().default(1),
    /** Longest token sequence fed to the graph (prompt + generated, or one embedding input). Default: `contextWindow`, else 512. */
    contextSize: z.number().int().positive().optional(),
    /** End-of-sequence token id(s). Default: `eos_token` of tokenizer_config.json, else a well-known end token of the vocabulary. */
    eosTokenId: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()).min(1)]).optional(),
    /** Default `maxTokens` when a request gives none. */
    maxTokens: z.number().int().positive().default(256),
    /** Default temperature when a request gives none. Default 0: greedy. */
    temperature: z.number().min(0).default(0),
    /** Default top-p when a request gives none. */
    topP: z.number().min(0).max(1).optional(),
    /** Default sampling seed when a request gives none (else a random one per request). */
    seed: z.number().int().optional(),
    /** Embeddings: `mean` over the attention mask (default) or `cls` (first token). Ignored for `sentence_embedding` outputs. */
    pooling: z.enum(['mean', 'cls']).default('mean'),
    /** Embeddings: L2-normalize the vectors. Default true. */
    normalize: z.boolean().default(true),
    /** Embeddings: the output to read, when the graph names it differently. */
    output: z.string().min(1).optional(),
    /** Embeddings: inputs per graph run. Default 16. */
    batchSize: z.number().int().positive().default(16),
  })
  .strict();

export type OnnxOptions = z.output<typeof OnnxOptionsSchema>;
export type OnnxOptionsInput = z.input<typeof OnnxOptionsSchema>;

/** Parses a model's `options`; a bad field becomes `config_invalid` naming `options.<field>`. */
export function parseOnnxOptions(model: ModelConfig): OnnxOptions {
  return parseEngineOptions(OnnxOptionsSchema, model, 'onnx');
}

/** The task a model config asks for. */
export function onnxTask(model: ModelConfig, options: OnnxOptions): 'generate' | 'embed' {
  return options.task ?? (model.capabilities?.includes('embeddings') ? 'embed' : 'generate');
}
