import type { Capability } from '../config/schema.js';
import { checkReasoning } from '../engines/shared/reasoning.js';
import { LLMError } from '../errors/llm-error.js';
import { MAX_TOP_LOGPROBS, VERBOSITIES, type ChatMessage, type GenerateRequest } from '../spec/index.js';
import { requestFieldsFor } from '../spec/request-fields.js';
import type { GenerateOptions, PromptOrRequest, RequestParams } from './types.js';

/** Every request field a call may give next to its routing options (`requestParam` in `REQUEST_FIELDS`). */
const REQUEST_PARAM_KEYS = requestFieldsFor('requestParam') as ReadonlyArray<keyof RequestParams>;

/** A prompt string or request plus option-level request params -> one GenerateRequest (validated lightly, no zod). */
export function normalizeRequest(input: PromptOrRequest | ChatMessage[], options: GenerateOptions | undefined): GenerateRequest {
  let request: GenerateRequest;
  if (typeof input === 'string') {
    request = { messages: [{ role: 'user', content: input }] };
  } else if (Array.isArray(input)) {
    request = { messages: input };
  } else if (input !== null && typeof input === 'object') {
    request = input;
  } else {
    throw new LLMError({ code: 'invalid_request', message: 'Expected a prompt string, a request object or a message array', param: 'prompt' });
  }
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw new LLMError({ code: 'invalid_request', message: 'The request needs at least one message', param: 'messages' });
  }
  for (let i = 0; i < request.messages.length; i++) {
    const m = request.messages[i] as { role?: unknown } | null | undefined;
    if (m === null || typeof m !== 'object' || (m.role !== 'system' && m.role !== 'user' && m.role !== 'assistant' && m.role !== 'tool')) {
      throw new LLMError({ code: 'invalid_request', message: `messages.${i}.role must be one of system, user, assistant, tool`, param: `messages.${i}.role` });
    }
    checkContent(m as ChatMessage, i);
  }
  if (options) {
    // Request params given next to the routing options fill in (or override) the request's own.
    let copied = false;
    for (const key of REQUEST_PARAM_KEYS) {
      const value = options[key];
      if (value === undefined) continue;
      if (!copied) {
        request = { ...request };
        copied = true;
      }
      (request as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens <= 0)) {
    throw new LLMError({ code: 'invalid_request', message: 'maxTokens must be a positive integer', param: 'maxTokens' });
  }
  if (request.temperature !== undefined && (typeof request.temperature !== 'number' || request.temperature < 0)) {
    throw new LLMError({ code: 'invalid_request', message: 'temperature must be a number >= 0', param: 'temperature' });
  }
  for (const key of ['frequencyPenalty', 'presencePenalty'] as const) {
    const v = request[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= -2 && v <= 2))) {
      throw new LLMError({ code: 'invalid_request', message: `${key} must be a number from -2 to 2`, param: key });
    }
  }
  if (request.parallelToolCalls !== undefined && typeof request.parallelToolCalls !== 'boolean') {
    throw new LLMError({ code: 'invalid_request', message: 'parallelToolCalls must be a boolean', param: 'parallelToolCalls' });
  }
  if (request.topK !== undefined && (!Number.isInteger(request.topK) || request.topK < 1)) {
    throw new LLMError({ code: 'invalid_request', message: 'topK must be an integer >= 1', param: 'topK' });
  }
  if (request.verbosity !== undefined && !(VERBOSITIES as readonly unknown[]).includes(request.verbosity)) {
    throw new LLMError({ code: 'invalid_request', message: `verbosity must be one of ${VERBOSITIES.join(', ')}`, param: 'verbosity' });
  }
  checkLogprobs(request.logprobs);
  checkStrictAndDescription(request);
  checkReasoning(request.reasoning);
  return request;
}

/**
 * A message's content as engines and the token estimate read it: text, or (a user's) an array of parts, each an object
 * with a `type` (an assistant's may be null or absent, with tool calls); a tool result's `parts` the same.
 */
function checkContent(m: ChatMessage, i: number): void {
  const content = (m as { content?: unknown }).content;
  const partsOk = m.role === 'user';
  if (typeof content !== 'string' && !(m.role === 'assistant' && content == null) && !(partsOk && Array.isArray(content))) {
    throw new LLMError({ code: 'invalid_request', message: `messages.${i}.content must be ${partsOk ? 'a string or an array of content parts' : m.role === 'assistant' ? 'a string or null' : 'a string'}`, param: `messages.${i}.content` });
  }
  if (Array.isArray(content)) checkParts(content, `messages.${i}.content`);
  const parts = (m as { parts?: unknown }).parts;
  if (parts !== undefined) {
    if (!Array.isArray(parts)) throw new LLMError({ code: 'invalid_request', message: `messages.${i}.parts must be an array of content parts`, param: `messages.${i}.parts` });
    checkParts(parts, `messages.${i}.parts`);
  }
}

function checkParts(parts: readonly unknown[], path: string): void {
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j] as { type?: unknown } | null;
    if (p === null || typeof p !== 'object' || typeof p.type !== 'string') {
      throw new LLMError({ code: 'invalid_request', message: `${path}.${j} must be a content part (an object with a type)`, param: `${path}.${j}` });
    }
  }
}

/** `tools[].strict` a boolean and a json_schema format's `description` a string, where given (engines send them as they are). */
function checkStrictAndDescription(request: GenerateRequest): void {
  const tools = request.tools;
  if (Array.isArray(tools)) {
    for (let i = 0; i < tools.length; i++) {
      const strict = (tools[i] as { strict?: unknown } | null | undefined)?.strict;
      if (strict !== undefined && typeof strict !== 'boolean') {
        throw new LLMError({ code: 'invalid_request', message: `tools.${i}.strict must be a boolean`, param: `tools.${i}.strict` });
      }
    }
  }
  const format = request.responseFormat as { type?: unknown; description?: unknown } | undefined;
  if (format?.type === 'json_schema' && format.description !== undefined && typeof format.description !== 'string') {
    throw new LLMError({ code: 'invalid_request', message: 'responseFormat.description must be a string', param: 'responseFormat.description' });
  }
}

function checkLogprobs(logprobs: GenerateRequest['logprobs']): void {
  if (logprobs === undefined) return;
  if (logprobs === null || typeof logprobs !== 'object' || Array.isArray(logprobs)) {
    throw new LLMError({ code: 'invalid_request', message: 'logprobs must be an object such as { topLogprobs: 5 }', param: 'logprobs' });
  }
  const top = logprobs.topLogprobs;
  if (top !== undefined && (!Number.isInteger(top) || top < 0 || top > MAX_TOP_LOGPROBS)) {
    throw new LLMError({ code: 'invalid_request', message: `logprobs.topLogprobs must be an integer from 0 to ${MAX_TOP_LOGPROBS}`, param: 'logprobs.topLogprobs' });
  }
}

/** Prompt size in characters (text parts, tool definitions), for token estimates. */
export function promptChars(request: GenerateRequest): number {
  let n = 0;
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const c = messages[i]!.content;
    if (typeof c === 'string') n += c.length;
    else if (Array.isArray(c)) {
      for (let j = 0; j < c.length; j++) {
        const p = c[j]!;
        if (p.type === 'text') n += p.text.length;
      }
    }
    const m = messages[i]!;
    if (m.role === 'assistant' && m.toolCalls) for (const t of m.toolCalls) n += t.arguments.length + t.name.length;
  }
  if (request.tools) for (const t of request.tools) n += JSON.stringify(t.parameters ?? {}).length + t.name.length + (t.description?.length ?? 0);
  return n;
}

const NO_CAPABILITIES: readonly Capability[] = [];

/** Capabilities a request implies: tools, json (response format), vision (image parts, tool results' too), streaming. */
export function impliedCapabilities(request: GenerateRequest, stream: boolean, extra: readonly Capability[] | undefined): readonly Capability[] {
  let caps: Capability[] | undefined;
  const add = (c: Capability) => {
    if (!caps) caps = [];
    if (!caps.includes(c)) caps.push(c);
  };
  if (stream) add('streaming');
  if (request.tools && request.tools.length > 0 && request.toolChoice !== 'none') add('tools');
  if (request.responseFormat && request.responseFormat.type !== 'text') add('json');
  if (hasImage(request)) add('vision');
  if (extra) for (const c of extra) add(c);
  return caps ?? NO_CAPABILITIES;
}

/** An image in a user message or in a tool result's `parts` (the Anthropic engine sends those too). */
function hasImage(request: GenerateRequest): boolean {
  for (const m of request.messages) {
    if (m.role === 'user' && Array.isArray(m.content)) {
      for (const p of m.content) if (p.type === 'image') return true;
    }
    if (m.role === 'tool' && Array.isArray(m.parts)) {
      for (const p of m.parts) if (p?.type === 'image') return true;
    }
  }
  return false;
}
