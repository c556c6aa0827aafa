export { GeminiEngine } from './gemini-engine.js';
export type { GeminiEngineSettings } from './gemini-engine.js';
export { GeminiEngineOptionsSchema } from './gemini-engine-options.js';
export type { GeminiEngineOptions } from './gemini-engine-options.js';
export { GEMINI_DEFAULT_BASE_URL, createGeminiEngine } from './create-gemini-engine.js';
export { convertJsonSchemaToGeminiSchema } from './convert-json-schema-to-gemini-schema.js';
export { decodeGeminiStream } from './decode-gemini-stream.js';
export type { GeminiSseMessage, GeminiStreamContext } from './decode-gemini-stream.js';
export { geminiToolCallId } from './gemini-tool-call-id.js';
