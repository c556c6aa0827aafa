import type { ChatMessage, GenerateRequest, StreamPart, ToolCall } from '../../spec/index.js';
import type { CallWarning } from '../../spec/warnings.js';
import { fnv1a64 } from '../../util/fnv1a64.js';
import { ENDS_ON_ABORT, endsOnAbort } from '../../util/sse-part-stream.js';

/**
 * The longest function name OpenAI's chat completions take (`^[a-zA-Z0-9_-]{1,64}$`; a longer one is a 400 "Invalid
 * 'tools[0].function.name': string too long. Expected a string with maximum length 64", code
 * string_above_max_length). Anthropic takes 128, and Claude Code names MCP tools `mcp__<server>__<tool>`, often
 * past 64 (ChromeDevTools/chrome-devtools-mcp#1169, thedotmack/claude-mem#358).
 */
export const OPENAI_TOOL_NAME_MAX_LENGTH = 64;

/**
 * The longest function name Gemini takes ("Must be a-z, A-Z, 0-9, or contain underscores, colons, dots, and dashes,
 * with a maximum length of 64": the Gemini API's FunctionDeclaration.name).
 */
export const GEMINI_TOOL_NAME_MAX_LENGTH = 64;

/**
 * The function names Gemini takes as they are: they start with a letter or `_` ("Must start with a letter or an
 * underscore": Vertex AI's FunctionDeclaration.name; the Gemini API refuses `-x` and `1x` with a 400 "Invalid function
 * name"), then only letters, digits, `_`, `.`, `:` and `-`. Length is checked apart (`GEMINI_TOOL_NAME_MAX_LENGTH`).
 */
export const GEMINI_TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

/** Characters of a long name's start kept (its server's part in Claude Code's `mcp__<server>__<tool>` names). */
const HEAD = 16;
/** '_', 16 hex digits of the hash, '_'. */
const HASH_PART = 18;

/**
 * A name of at most `max` characters as it is; a longer one as its first 16 characters, `_`, the FNV-1a 64 hash of
 * the whole name in hex, `_` and its last `max - 34` characters (30 of 64), any character outside `[a-zA-Z0-9_-]`
 * as `_`: the same for the same name, different for long names that differ anywhere (up to the hash). The end is
 * kept because it is what tells long names apart for the model: MCP tools are named `mcp__<server>__<tool>`, the
 * tool's own name last (`mcp__plugin_chrome-devtools-mcp_chrome-devtools__get_console_message` ->
 * `mcp__plugin_chro_<hash>_-devtools__get_console_message`).
 */
export function shortToolName(name: string, max = OPENAI_TOOL_NAME_MAX_LENGTH, valid?: RegExp): string {
  const fits = name.length <= max;
  if (fits && (valid === undefined || valid.test(name))) return name;
  const clean = (part: string): string => part.replace(/[^a-zA-Z0-9_-]/g, '_');
  // A name of the right length that `valid` refuses (Gemini: `-x`, `1x`): `_`, its hash, `_` and the name cleaned.
  if (fits && name.length <= max - HASH_PART) return `_${fnv1a64(name)}_${clean(name)}`;
  const head = Math.min(HEAD, Math.max(0, max - HASH_PART));
  const tail = Math.max(0, max - HASH_PART - head);
  const short = `${clean(name.slice(0, head))}_${fnv1a64(name)}_${tail > 0 ? clean(name.slice(-tail)) : ''}`;
  // Only its first character can still be refused (a digit or `-`): it goes as `_` (the hash keeps names apart).
  return valid === undefined || valid.test(short) ? short : `_${short.slice(1)}`;
}

/**
 * The request's tool names over `max` characters, or that `valid` refuses (its tools, the tool calls and tool results
 * of its history), as sent (`wire`: long -> short) and back (`back`: short -> long); `fields` the tools renamed.
 * Undefined when every name is kept: nothing is allocated then (the engine's hot path).
 */
export interface ToolNameMap {
  wire: Map<string, string>;
  back: Map<string, string>;
  fields: number[];
}

export function longToolNames(request: GenerateRequest, max = OPENAI_TOOL_NAME_MAX_LENGTH, valid?: RegExp): ToolNameMap | undefined {
  let names: ToolNameMap | undefined;
  const add = (name: unknown, tool?: number): void => {
    if (typeof name !== 'string' || (name.length <= max && (valid === undefined || valid.test(name)))) return;
    names ??= { wire: new Map(), back: new Map(), fields: [] };
    if (tool !== undefined) names.fields.push(tool);
    if (names.wire.has(name)) return;
    const short = shortToolName(name, max, valid);
    names.wire.set(name, short);
    names.back.set(short, name);
  };
  request.tools?.forEach((t, k) => add(t?.name, k));
  for (const m of request.messages ?? []) {
    if (m?.role === 'assistant' && Array.isArray(m.toolCalls)) for (const call of m.toolCalls) add(call?.name);
    else if (m?.role === 'tool') add(m.name);
  }
  return names;
}

/** The request with its long tool names as `names` sends them (tools, toolChoice, history tool calls and results' `name`); a copy: the caller's request is never changed. */
export function withShortToolNames(request: GenerateRequest, names: ToolNameMap): GenerateRequest {
  const rename = (name: string): string => names.wire.get(name) ?? name;
  const copy: GenerateRequest = { ...request };
  if (request.tools) copy.tools = request.tools.map((t) => (names.wire.has(t.name) ? { ...t, name: rename(t.name) } : t));
  const choice = request.toolChoice;
  if (typeof choice === 'object' && choice !== null && names.wire.has(choice.name)) copy.toolChoice = { ...choice, name: rename(choice.name) };
  copy.messages = request.messages.map((m): ChatMessage => {
    if (m?.role === 'tool' && m.name !== undefined && names.wire.has(m.name)) return { ...m, name: rename(m.name) };
    if (m?.role !== 'assistant' || !Array.isArray(m.toolCalls) || !m.toolCalls.some((c) => names.wire.has(c?.name))) return m;
    return { ...m, toolCalls: m.toolCalls.map((c) => (names.wire.has(c.name) ? { ...c, name: rename(c.name) } : c)) };
  });
  return copy;
}

/**
 * `setting_changed` `tools.K.name` for each tool sent under another name (`provider`: who takes at most `max`
 * characters; a name of the right length was renamed for its characters, `longToolNames`' `valid`).
 */
export function shortToolNameWarnings(names: ToolNameMap, request: GenerateRequest, provider: string, max = OPENAI_TOOL_NAME_MAX_LENGTH): CallWarning[] {
  return names.fields.map((k) => {
    const name = request.tools![k]!.name;
    return {
      code: 'setting_changed',
      field: `tools.${k}.name`,
      message:
        name.length > max
          ? `tools.${k}.name (${name.length} characters) was sent as ${names.wire.get(name)}: ${provider} takes tool names of at most ${max} characters; its calls come back under the full name.`
          : `tools.${k}.name "${name}" was sent as ${names.wire.get(name)}: ${provider} takes tool names that start with a letter or '_' and have only letters, digits, '_', '.', ':' and '-'; its calls come back under the name given.`,
    };
  });
}

/** Tool calls with their short names given back as the request's full names. */
export function restoreToolCallNames(calls: ToolCall[], names: ToolNameMap): void {
  for (let i = 0; i < calls.length; i++) {
    const full = names.back.get(calls[i]!.name);
    if (full !== undefined) calls[i] = { ...calls[i]!, name: full };
  }
}

/** A stream part with a short tool name (`tool-call-delta`, `tool-call`) given back under the full name. */
function restorePart(part: StreamPart, names: ToolNameMap): StreamPart {
  if (part.type === 'tool-call-delta' && part.name !== undefined) {
    const full = names.back.get(part.name);
    return full === undefined ? part : { ...part, name: full };
  }
  if (part.type === 'tool-call') {
    const full = names.back.get(part.toolCall.name);
    return full === undefined ? part : { ...part, toolCall: { ...part.toolCall, name: full } };
  }
  return part;
}

/**
 * A stream's parts with their short tool names given back as the full names. `next` and `return` go straight to
 * `parts` (no generator in between: a `return()` reaches the stream at once, whatever it is waiting for). Each part is
 * handed through as it comes, so a stream that ends by itself on its abort (`ENDS_ON_ABORT`) still does wrapped.
 */
export function restoreStreamToolNames(parts: AsyncIterableIterator<StreamPart>, names: ToolNameMap): AsyncIterableIterator<StreamPart> {
  const restore = (r: IteratorResult<StreamPart>): IteratorResult<StreamPart> => (r.done ? r : { done: false, value: restorePart(r.value, names) });
  const iterator: AsyncIterableIterator<StreamPart> & { [ENDS_ON_ABORT]?: boolean } = {
    next: () => parts.next().then(restore),
    return: (value?: unknown) => (parts.return ? parts.return(value) : Promise.resolve({ done: true, value: undefined })),
    [Symbol.asyncIterator]: () => iterator,
  };
  if (endsOnAbort(parts)) iterator[ENDS_ON_ABORT] = true;
  return iterator;
}
