export { createOnnxEngine } from './create-onnx-engine.js';
export type { OnnxEngine } from './create-onnx-engine.js';
export { OnnxEmbeddingEngine } from './onnx-embedding-engine.js';
export { OnnxTextEngine } from './onnx-text-engine.js';
export { OnnxOptionsSchema } from './onnx-options.js';
export type { OnnxOptions, OnnxOptionsInput } from './onnx-options.js';
