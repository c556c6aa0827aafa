import { LLMError } from '../../errors/llm-error.js';
import type { ChatMessage, GenerateRequest, ImagePart, ToolChoice } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { FetchFn } from '../../util/http.js';
import { checkReasoning, reasoningBudget } from '../shared/reasoning.js';
import type {
  GeminiContent,
  GeminiFunctionDeclaration,
  GeminiGenerateContentRequest,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiThinkingConfig,
} from './gemini-api-types.js';
import { convertJsonSchemaToGeminiSchema, isEmptyObjectSchema, isFreeFormGeminiSchema } from './convert-json-schema-to-gemini-schema.js';
import { downloadImage } from './download-image.js';
import { geminiRefusesJsonWithTools } from './gemini-json-with-tools-models.js';
import { geminiTakesPenalties } from './gemini-penalty-models.js';
import { GEMINI_MAX_STOP_SEQUENCES } from './gemini-sampling-warnings.js';
import { geminiRequiresThoughtSignatures, geminiThinkingBudget, geminiThinkingLevel, geminiThinkingRange } from './gemini-thinking-models.js';
import { mergeProviderOptions } from '../shared/merge-provider-options.js';
import { toolArgumentsObject } from '../shared/tool-arguments-object.js';

/** Fields of `providerOptions.gemini` the engine controls: never merged into the body. */
const KEPT_FIELDS: readonly string[] = ['model', 'stream'];

export interface GeminiRequestSettings {
  provider: string;
  deployment?: string;
  /** The model id; Gemini 3 and later take `thinkingLevel`, earlier models `thinkingBudget` (see `geminiThinkingRange`). */
  modelId?: string;
  /** False: the deployment cannot think (no `reasoning` capability), and `request.reasoning` is dropped. Default true. */
  reasoning?: boolean;
  /** `maxOutputTokens` when the request sets none (from the model config); Gemini needs none. */
  defaultMaxTokens?: number;
  /** Downloads images given by plain http(s) URL (Gemini only reads its own file URIs; see `downloadImage`). */
  fetch: FetchFn;
  signal?: AbortSignal;
  /** Download images from loopback, private and link-local addresses too (`downloadImage`). Default false. */
  allowPrivateImageUrls?: boolean;
  /** How an image URL with a host name is downloaded (`downloadImage`'s `imageFetch`). Default `pinned`. */
  imageFetch?: 'pinned' | 'fetch';
  /** The thought signature a thinking model gave with an earlier function call, by our tool call id. */
  thoughtSignature?: (toolCallId: string) => string | undefined;
  /**
   * Where the conversion pushes what it changes on the way (tool-call arguments that are not a JSON object, schema
   * keywords Gemini refuses, JSON mode left out beside tools): the engine reports them with `geminiRequestWarnings`'.
   */
  warnings?: CallWarning[];
}

/**
 * The thought signature Google's guide gives for a function call Gemini 3 did not sign (a turn another model or
 * provider answered, or one whose signature this process does not hold): the API then skips its validation.
 */
export const GEMINI_UNSIGNED_CALL_SIGNATURE = 'skip_thought_signature_validator';

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;
/** URIs Gemini reads itself: Files API uploads and Cloud Storage. */
const GEMINI_FILE_URI = /^(?:gs:\/\/|https:\/\/generativelanguage\.googleapis\.com\/[^/]+\/files\/)/;

type ErrorContext = Pick<GeminiRequestSettings, 'provider' | 'deployment'>;

function invalid(ctx: ErrorContext, param: string, message: string, code: 'invalid_request' | 'unsupported' = 'invalid_request', cause?: unknown): LLMError {
  return new LLMError({ code, message: `${ctx.provider}: ${message}`, param, provider: ctx.provider, deployment: ctx.deployment, cause });
}

async function imagePart(part: ImagePart, param: string, settings: GeminiRequestSettings): Promise<GeminiPart> {
  if (part.data !== undefined) {
    if (!part.mediaType) throw invalid(settings, `${param}.mediaType`, `${param}: base64 image data needs a mediaType (e.g. image/png)`);
    return { inlineData: { mimeType: part.mediaType, data: part.data } };
  }
  if (part.url === undefined) throw invalid(settings, param, `${param}: an image needs either url or data`);
  const m = DATA_URL.exec(part.url);
  if (m) return { inlineData: { mimeType: m[1]!, data: m[2]! } };
  if (GEMINI_FILE_URI.test(part.url)) return { fileData: { fileUri: part.url, ...(part.mediaType ? { mimeType: part.mediaType } : {}) } };
  if (/^https?:\/\//i.test(part.url)) return downloadImage(part.url, `${param}.url`, settings);
  throw invalid(settings, `${param}.url`, `${param}.url must be an http(s), gs:// or base64 data: URL`);
}

/**
 * Gemini's functionResponse.response is an object: JSON objects go as they are, anything else as `{ result }`. A
 * failed call's (`isError`) goes as `{ error }` (the key Gemini reads as the function's error details).
 */
function toolResponse(content: string, isError: boolean | undefined): Record<string, unknown> {
  let value: unknown = content;
  try {
    value = JSON.parse(content);
  } catch {
    // Not JSON: the text itself.
  }
  if (isError === true) return { error: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return { result: value };
}

/** The function name of a tool result: from the assistant tool call it answers, else the message's `name`. */
function toolName(messages: ChatMessage[], i: number, ctx: ErrorContext): string {
  const message = messages[i] as Extract<ChatMessage, { role: 'tool' }>;
  for (let k = i - 1; k >= 0; k--) {
    const m = messages[k]!;
    if (m.role !== 'assistant') continue;
    const call = m.toolCalls?.find((c) => c.id === message.toolCallId);
    if (call) return call.name;
  }
  if (message.name) return message.name;
  throw invalid(
    ctx,
    `messages.${i}.toolCallId`,
    `messages.${i}: no earlier assistant tool call has id "${message.toolCallId}"; Gemini needs the called function's name: keep the assistant turn with that call in the history`,
  );
}

async function convertMessage(messages: ChatMessage[], i: number, settings: GeminiRequestSettings): Promise<GeminiContent | undefined> {
  const message = messages[i]!;
  const param = `messages.${i}`;
  switch (message.role) {
    case 'user': {
      if (typeof message.content === 'string') {
        if (message.content === '') throw invalid(settings, `${param}.content`, `${param}.content must not be empty`);
        return { role: 'user', parts: [{ text: message.content }] };
      }
      const parts: GeminiPart[] = [];
      for (const [j, part] of message.content.entries()) {
        if (part.type === 'text') {
          if (part.text !== '') parts.push({ text: part.text });
        } else if (part.type === 'image') {
          parts.push(await imagePart(part, `${param}.content.${j}`, settings));
        } else {
          throw invalid(settings, `${param}.content.${j}.type`, `${param}.content.${j}: unknown content part type "${(part as { type: unknown }).type}"`);
        }
      }
      if (parts.length === 0) throw invalid(settings, `${param}.content`, `${param}.content must not be empty`);
      return { role: 'user', parts };
    }
    case 'assistant': {
      const parts: GeminiPart[] = [];
      if (message.content) parts.push({ text: message.content });
      message.toolCalls?.forEach((call, j) => {
        const part: GeminiPart = { functionCall: { name: call.name, args: toolArgumentsObject(call.arguments, `${param}.toolCalls.${j}.arguments`, 'Gemini', settings.warnings) } };
        const signature = settings.thoughtSignature?.(call.id);
        if (signature) part.thoughtSignature = signature;
        // Gemini 3 validates the first call of each step: unsigned, it goes with the guide's sentinel.
        else if (j === 0 && geminiRequiresThoughtSignatures(settings.modelId)) part.thoughtSignature = GEMINI_UNSIGNED_CALL_SIGNATURE;
        parts.push(part);
      });
      return parts.length === 0 ? undefined : { role: 'model', parts };
    }
    case 'tool':
      return { role: 'user', parts: [{ functionResponse: { name: toolName(messages, i, settings), response: toolResponse(message.content, message.isError) } }] };
    default:
      throw invalid(settings, `${param}.role`, `${param}.role "${(message as { role: unknown }).role}" is not supported`);
  }
}

function mergeSameRole(contents: GeminiContent[]): GeminiContent[] {
  const merged: GeminiContent[] = [];
  for (const c of contents) {
    const last = merged[merged.length - 1];
    if (last && last.role === c.role) last.parts = [...last.parts, ...c.parts];
    else merged.push({ role: c.role, parts: [...c.parts] });
  }
  return merged;
}

function toolConfig(choice: ToolChoice, names: string[], ctx: ErrorContext): NonNullable<GeminiGenerateContentRequest['toolConfig']> {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (!names.includes(choice.name)) throw invalid(ctx, 'toolChoice.name', `toolChoice.name "${choice.name}" is not one of the request's tools`);
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
}

/**
 * `request.reasoning` -> `generationConfig.thinkingConfig` (Google's thinking guide,
 * https://ai.google.dev/gemini-api/docs/thinking: `thinkingBudget` for 2.5, 0 off, -1 dynamic; `thinkingLevel`
 * for 3; the two together are a 400; `includeThoughts` for thought summaries), within what the model takes
 * (`geminiThinkingRange`, one table with its sources):
 * - Gemini 3+ (a model with levels): an effort becomes `thinkingLevel` (`geminiThinkingLevel`: `none` the lowest
 *   level, as Gemini 3 cannot turn thinking off; a level the model lacks the nearest one above it: 3 Pro takes
 *   only low and high); a budget alone is sent as `thinkingBudget` (0: the lowest level);
 * - otherwise `thinkingBudget` = `budgetTokens`, else the effort's `REASONING_BUDGETS` entry, clamped to the
 *   model's range (`none`/0 is 0 where thinking can be off, else the minimum: 128 on 2.5 Pro; 31999 is 24576 on
 *   2.5 Flash); an unknown model gets the value as asked.
 * Dropped (undefined) on a deployment without the `reasoning` capability (`settings.reasoning` false).
 * `includeThoughts: true` whenever thinking is asked for, so the thought summaries come back as reasoning.
 */
function thinkingConfig(request: GenerateRequest, settings: GeminiRequestSettings): GeminiThinkingConfig | undefined {
  const reasoning = checkReasoning(request.reasoning, settings.provider);
  if (!reasoning || settings.reasoning === false) return undefined;
  const range = geminiThinkingRange(settings.modelId);
  const budget = reasoningBudget(reasoning);
  if (range.levels) {
    const effort = reasoning.effort ?? (budget === 0 ? 'none' : undefined);
    if (effort !== undefined) {
      const level = geminiThinkingLevel(effort, range.levels);
      return effort === 'none' ? { thinkingLevel: level } : { thinkingLevel: level, includeThoughts: true };
    }
  }
  if (budget === undefined) return undefined;
  const sent = geminiThinkingBudget(budget, range.budget);
  return budget === 0 ? { thinkingBudget: sent } : { thinkingBudget: sent, includeThoughts: true };
}

/**
 * Our request -> a Gemini generateContent body: system messages -> `systemInstruction`, assistant -> role
 * `model`, tool calls/results -> functionCall/functionResponse parts, images -> inlineData (http URLs are
 * downloaded) or fileData (Gemini file URIs), tools -> functionDeclarations + toolConfig, sampling and JSON
 * mode -> generationConfig (`responseMimeType` + `responseSchema`). Throws LLMErrors naming the field. A system
 * message after the conversation started is joined into `systemInstruction` too (Gemini has no other place for
 * it): `geminiRequestWarnings` reports that and every field not sent.
 */
export async function convertToGeminiRequest(request: GenerateRequest, settings: GeminiRequestSettings): Promise<GeminiGenerateContentRequest> {
  if (!Array.isArray(request.messages)) throw invalid(settings, 'messages', 'messages must be an array');
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  for (let i = 0; i < request.messages.length; i++) {
    const message = request.messages[i]!;
    if (message.role === 'system') {
      if (message.content !== '') system.push(message.content);
      continue;
    }
    const converted = await convertMessage(request.messages, i, settings);
    if (converted) contents.push(converted);
  }
  if (contents.length === 0) throw invalid(settings, 'messages', 'messages must contain at least one user, assistant or tool message');

  const body: GeminiGenerateContentRequest = { contents: mergeSameRole(contents) };
  if (system.length > 0) body.systemInstruction = { parts: [{ text: system.join('\n\n') }] };

  const tools = request.tools ?? [];
  if (tools.length > 0) {
    const declarations: GeminiFunctionDeclaration[] = tools.map((tool, k) => {
      const declaration: GeminiFunctionDeclaration = { name: tool.name };
      if (tool.description) declaration.description = tool.description;
      if (!isEmptyObjectSchema(tool.parameters)) {
        const parameters = convertJsonSchemaToGeminiSchema(tool.parameters, `tools.${k}.parameters`, settings.provider, settings.warnings);
        // Every property left out (free-form objects): no `parameters`, as for a tool without arguments.
        if (!isFreeFormGeminiSchema(parameters)) declaration.parameters = parameters;
      }
      return declaration;
    });
    body.tools = [{ functionDeclarations: declarations }];
  }
  if (request.toolChoice !== undefined) {
    if (tools.length > 0) body.toolConfig = toolConfig(request.toolChoice, tools.map((t) => t.name), settings);
    else if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
      throw invalid(settings, 'toolChoice', 'toolChoice requires a tool call but the request has no tools');
    }
  }

  const config: GeminiGenerationConfig = {};
  const maxTokens = request.maxTokens ?? settings.defaultMaxTokens;
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw invalid(settings, 'maxTokens', 'maxTokens must be a positive integer');
    config.maxOutputTokens = maxTokens;
  }
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.topK !== undefined) config.topK = request.topK;
  // Log probabilities: `responseLogprobs`, and `logprobs` top candidates per step when asked for more than the
  // chosen token (Gemini's range is 0 to 20, ours the same). Models that do not take them answer 400.
  if (request.logprobs !== undefined) {
    config.responseLogprobs = true;
    const top = request.logprobs.topLogprobs ?? 0;
    if (top > 0) config.logprobs = top;
  }
  // Gemini takes at most 5 (a 6th is a 400): the first 5 go, `geminiSamplingWarnings` says so.
  if (request.stop && request.stop.length > 0) config.stopSequences = request.stop.length > GEMINI_MAX_STOP_SEQUENCES ? request.stop.slice(0, GEMINI_MAX_STOP_SEQUENCES) : request.stop;
  if (request.seed !== undefined) config.seed = request.seed;
  // Only to the models that take them: the others answer 400 (`geminiTakesPenalties`; `geminiRequestWarnings`
  // says what was not sent). `parallelToolCalls` has no Gemini field (functionCallingConfig has mode and
  // allowedFunctionNames only).
  if ((request.frequencyPenalty !== undefined || request.presencePenalty !== undefined) && geminiTakesPenalties(settings.modelId ?? '')) {
    if (request.frequencyPenalty !== undefined) config.frequencyPenalty = request.frequencyPenalty;
    if (request.presencePenalty !== undefined) config.presencePenalty = request.presencePenalty;
  }
  const format = request.responseFormat;
  if (format && format.type !== 'text' && tools.length > 0 && geminiRefusesJsonWithTools(settings.modelId)) {
    // Gemini before 3 refuses JSON mode beside function declarations (a 400): the tools go, JSON mode does not.
    settings.warnings?.push({
      code: 'setting_not_sent',
      field: 'responseFormat',
      message: `responseFormat was not sent: ${settings.modelId} refuses JSON mode in a request with tools (Gemini 3 takes both); the answer is not held to JSON.`,
    });
  } else if (format && format.type !== 'text') {
    config.responseMimeType = 'application/json';
    if (format.type === 'json_schema') {
      const schema = convertJsonSchemaToGeminiSchema(format.schema, 'responseFormat.schema', settings.provider, settings.warnings);
      if (isFreeFormGeminiSchema(schema)) {
        // A free-form object (or an array of them) as the whole answer: JSON mode without a schema.
        settings.warnings?.push({
          code: 'setting_changed',
          field: 'responseFormat.schema',
          message: `responseFormat.schema was left out: Gemini's schema cannot express an object with no properties (a free-form object); the answer is JSON, not held to the schema.`,
        });
      } else {
        // What the answer is for goes in the schema's own description, which the model reads, unless it has one
        // (then `geminiRequestWarnings` says it was not sent).
        config.responseSchema = format.description && schema.description === undefined ? { ...schema, description: format.description } : schema;
      }
    }
  }
  const thinking = thinkingConfig(request, settings);
  if (thinking) config.thinkingConfig = thinking;
  // `user` has no Gemini field and is not sent (`geminiRequestWarnings` says so, and what else is not sent as given).

  const { generationConfig: extraConfig, ...extra } = (request.providerOptions?.gemini ?? {}) as { generationConfig?: unknown } & Record<string, unknown>;
  // Own fields only: a `__proto__` field is sent as one, never made the body's prototype. Never `model` (the
  // deployment's, in the URL: the one the router priced, limited and checked; `geminiRequestWarnings` says it was not
  // sent) nor `stream` (the call's method, `streamGenerateContent`).
  mergeProviderOptions(body as Record<string, unknown>, extra, KEPT_FIELDS);
  const merged = { ...config, ...(typeof extraConfig === 'object' && extraConfig !== null ? extraConfig : {}) };
  if (Object.keys(merged).length > 0) body.generationConfig = merged;
  return body;
}
