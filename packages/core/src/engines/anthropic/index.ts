export { AnthropicEngine } from './anthropic-engine.js';
export type { AnthropicEngineSettings } from './anthropic-engine.js';
export { AnthropicEngineOptionsSchema } from './anthropic-engine-options.js';
export type { AnthropicEngineOptions } from './anthropic-engine-options.js';
export { ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_DEFAULT_MAX_TOKENS, createAnthropicEngine } from './create-anthropic-engine.js';
export { AnthropicStreamDecoder } from './anthropic-stream-decoder.js';
export type { AnthropicStreamContext } from './anthropic-stream-decoder.js';
export { decodeAnthropicStream } from './decode-anthropic-stream.js';
export type { SseMessage } from './decode-anthropic-stream.js';
