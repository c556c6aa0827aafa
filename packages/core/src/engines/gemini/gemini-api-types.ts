/**
 * The subset of the Gemini API (generativelanguage.googleapis.com, v1beta) wire format this engine speaks:
 * https://ai.google.dev/api/generate-content, .../embeddings, .../tokens, and the error model
 * (https://ai.google.dev/gemini-api/docs/troubleshooting). Response types are loose: read defensively.
 */

export interface GeminiFunctionCall {
  name: string;
  args?: Record<string, unknown>;
  /** Some models and endpoints send an id; most do not. */
  id?: string;
}

export interface GeminiPart {
  text?: string;
  /** True on thought-summary parts (thinking models with `includeThoughts`). */
  thought?: boolean;
  /** Opaque signature of the model's reasoning; thinking models want it back on the function call it came with. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: { name: string; response: Record<string, unknown>; id?: string };
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** OpenAPI 3.0 subset schema (see convert-json-schema-to-gemini-schema.ts). */
  parameters?: Record<string, unknown>;
}

export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Return `logprobsResult` on the candidate (the models that take it; others answer 400 "Logprobs is not enabled for models/..."). */
  responseLogprobs?: boolean;
  /** How many top candidates per step in `logprobsResult.topCandidates`, 0 to 20; only with `responseLogprobs`. */
  logprobs?: number;
  stopSequences?: string[];
  seed?: number;
  /** Taken by few models (`geminiTakesPenalties`); the others answer 400 "Penalty is not enabled". */
  frequencyPenalty?: number;
  presencePenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
  thinkingConfig?: GeminiThinkingConfig;
  [extra: string]: unknown;
}

/** `generationConfig.thinkingConfig`: `thinkingBudget` (Gemini 2.5) and `thinkingLevel` (Gemini 3) are mutually exclusive. */
export interface GeminiThinkingConfig {
  thinkingBudget?: number;
  thinkingLevel?: 'minimal' | 'low' | 'medium' | 'high';
  /** Thought summaries in the answer (parts with `thought: true`). */
  includeThoughts?: boolean;
}

export interface GeminiGenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: GeminiGenerationConfig;
  [extra: string]: unknown;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  /** Gemini's words on a finish other than `STOP` (a malformed function call's text, e.g. "Malformed function call: ..."). */
  finishMessage?: string;
  index?: number;
  /** With `generationConfig.responseLogprobs`: the tokens of this answer (this chunk's, when streamed). */
  logprobsResult?: GeminiLogprobsResult;
  avgLogprobs?: number;
}

/** One token of `logprobsResult` (`LogprobsResult.Candidate`). */
export interface GeminiLogprobsCandidate {
  token?: string;
  tokenId?: number;
  logProbability?: number;
}

/**
 * `Candidate.logprobsResult`: `chosenCandidates` has one entry per decoding step; `topCandidates` (as long, when
 * `generationConfig.logprobs` > 0) the most likely tokens of each step, by descending log probability.
 */
export interface GeminiLogprobsResult {
  topCandidates?: Array<{ candidates?: GeminiLogprobsCandidate[] }>;
  chosenCandidates?: GeminiLogprobsCandidate[];
  logProbabilitySum?: number;
}

/** The answer of :generateContent, and each SSE chunk of :streamGenerateContent?alt=sse. */
export interface GeminiGenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  /** Present when a stream fails after its 200 status. */
  error?: GeminiErrorBody['error'];
}

/** Google's error model: `{ error: { code, message, status, details } }`. */
export interface GeminiErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: Array<Record<string, unknown>> };
}
