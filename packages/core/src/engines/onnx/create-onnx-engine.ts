import type { ModelConfig } from '../../config/schema.js';
import type { EngineContext } from '../types.js';
import { checkModelPath } from '../shared/require-model-path.js';
import { onnxCapabilities } from './onnx-capabilities.js';
import { OnnxEmbeddingEngine } from './onnx-embedding-engine.js';
import { onnxTask, parseOnnxOptions } from './onnx-options.js';
import { OnnxTextEngine } from './onnx-text-engine.js';

export type OnnxEngine = OnnxTextEngine | OnnxEmbeddingEngine;

/**
 * The `onnx` engine for a model file the user supplies: text generation (`options.task: 'generate'`,
 * the default) or embeddings (`task: 'embed'`, or `capabilities: ['embeddings']`). The graph and its
 * tokenizer load on first use. Its `capabilities` tell the router what the model can do without creating
 * the engine: an embedding model embeds only.
 */
export function createOnnxEngine(model: ModelConfig, ctx: EngineContext): OnnxEngine {
  return onnxTask(model, parseOnnxOptions(model)) === 'embed' ? new OnnxEmbeddingEngine(model, ctx) : new OnnxTextEngine(model, ctx);
}

createOnnxEngine.capabilities = onnxCapabilities;
createOnnxEngine.checkConfig = (model: ModelConfig): void => {
  checkModelPath(model, 'onnx', '.onnx');
  parseOnnxOptions(model);
};
