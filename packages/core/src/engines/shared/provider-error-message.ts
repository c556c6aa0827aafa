import { leadingPythonLiteral } from './python-literal.js';

/**
 * A provider's own error message, as the provider or a router in front of it sends it, with the `param` it names, if
 * any. Where a message quotes the caller's words (a tool's name, a schema's property) it can hold any sentence
 * anywhere: a provider's fixed sentence is its own only at the start of one of these messages (`saidFirst`).
 */
export interface ProviderErrorMessage {
  readonly message: string;
  readonly param?: string;
}

/**
 * LiteLLM's prefix before the provider's own answer: `litellm.BadRequestError: MistralException - {...}`
 * (BerriAI/litellm#17761), `litellm.BadRequestError: VertexAIException BadRequestError - b'{...}'`
 * (BerriAI/litellm#9733), at the start of the message.
 */
const LITELLM_PREFIX = /^litellm\.BadRequestError: \w+Exception(?: BadRequestError)? - /;

/**
 * What LiteLLM's older releases put after its prefix for a provider it reaches with the `openai` client (Mistral): that
 * client's `Error code: 400 - ` and the body as a Python dict literal (huggingface/smolagents#757, BerriAI/litellm#3918:
 * `litellm.BadRequestError: MistralException - Error code: 400 - {'object': 'error', 'message': '...', ...}`).
 */
const OPENAI_CLIENT_STATUS = /^Error code: \d{3} - /;

/** The longest Python literal read after the `openai` client's `Error code: NNN - ` (characters). */
const MAX_PYTHON_LITERAL = 64 * 1024;

/**
 * The messages a provider's sentence may start: `message` itself (with `param`, the field the body names); after
 * LiteLLM's exact prefix, the provider's answer (its body's message and param when it is JSON, Python's `b'...'` of
 * JSON, or, after the `openai` client's `Error code: 400 - `, a Python dict literal; else the text after the prefix);
 * and `raw`, the provider's own body a router passes on (OpenRouter's `error.metadata.raw`, also inside LiteLLM's
 * wrapping of OpenRouter: `litellm.BadRequestError: OpenrouterException - {"error":{..., "metadata":{"raw":...}}}`),
 * its message and param when it is JSON (text that is not JSON is not read). An inner message that names no param of
 * its own carries the wrapping body's `param`.
 */
export function providerErrorMessages(message: string | undefined, param?: string, raw?: string): ProviderErrorMessage[] {
  const out: ProviderErrorMessage[] = [];
  if (message !== undefined) {
    out.push({ message, ...(param !== undefined ? { param } : {}) });
    const prefix = LITELLM_PREFIX.exec(message);
    if (prefix) {
      const rest = message.slice(prefix[0].length);
      const status = OPENAI_CLIENT_STATUS.exec(rest);
      // A Python literal is parsed only up to MAX_PYTHON_LITERAL (a refusal's body is some 200 bytes; the parser is
      // far slower than JSON.parse on an upstream that echoes a large input back).
      const literal = status ? rest.slice(status[0].length) : undefined;
      const body = literal !== undefined ? (literal.length <= MAX_PYTHON_LITERAL ? leadingPythonLiteral(literal) : undefined) : leadingJson(pythonBytes(rest) ?? rest);
      const inner = errorMessageOf(body);
      out.push(withParam(inner ?? { message: rest }, param));
      const innerRaw = rawOf(body);
      if (innerRaw !== undefined) {
        const provider = errorMessageOf(leadingJson(innerRaw));
        if (provider) out.push(withParam(provider, param));
      }
    }
  }
  if (raw !== undefined) {
    const inner = errorMessageOf(leadingJson(raw));
    if (inner) out.push(withParam(inner, param));
  }
  return out;
}

/** OpenRouter's `error.metadata.raw` (the provider's own body) in an error body, else undefined. */
function rawOf(body: unknown): string | undefined {
  const error = record(record(body)?.error);
  return str(record(error?.metadata)?.raw);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `m`, naming `param` (the wrapping body's) when it names none of its own. */
function withParam(m: ProviderErrorMessage, param: string | undefined): ProviderErrorMessage {
  return m.param === undefined && param !== undefined ? { ...m, param } : m;
}

/** A param that names the request's messages (`messages`, `messages.3`, `messages[3].content`). */
const MESSAGES_PARAM = /^messages(?:$|[.[])/;

/**
 * The first of `messages` that starts with `sentence` (anchored at its start) and names no param but the request's
 * messages, else undefined. `sentence` must begin with `^`.
 */
export function saidFirst(messages: readonly ProviderErrorMessage[], sentence: RegExp): ProviderErrorMessage | undefined {
  return messages.find((m) => (m.param === undefined || MESSAGES_PARAM.test(m.param)) && sentence.test(m.message));
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The message and param of an error body: `{ error: { message, param } }` (OpenAI, Google, Anthropic's
 * `{ type: 'error', error: {...} }`), `{ error: "text" }`, `{ message, param }` (Mistral, vLLM); Google's array of one.
 */
function errorMessageOf(body: unknown): ProviderErrorMessage | undefined {
  const b = Array.isArray(body) ? body[0] : body;
  if (typeof b !== 'object' || b === null) return undefined;
  const error = (b as Record<string, unknown>).error;
  if (typeof error === 'string') return { message: error };
  const source = (typeof error === 'object' && error !== null ? error : b) as Record<string, unknown>;
  const message = str(source.message);
  if (message === undefined) return undefined;
  const param = str(source.param);
  return { message, ...(param !== undefined ? { param } : {}) };
}

/** The JSON object (or array) `text` starts with, parsed, else undefined (what follows it is left: `. Received ...`). */
function leadingJson(text: string): unknown {
  const open = text[0];
  if (open !== '{' && open !== '[') return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) {
        try {
          return JSON.parse(text.slice(0, i + 1));
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/** The bytes of Python's `b'...'` that `text` starts with, decoded as UTF-8, else undefined. */
function pythonBytes(text: string): string | undefined {
  if (!text.startsWith("b'")) return undefined;
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 10, r: 13, t: 9, "'": 39, '"': 34, '\\': 92 };
  for (let i = 2; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") return new TextDecoder().decode(new Uint8Array(bytes));
    if (c !== '\\') {
      bytes.push(...new TextEncoder().encode(c));
      continue;
    }
    const e = text[++i];
    if (e === 'x' && /^[0-9a-f]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e !== undefined && Object.hasOwn(escapes, e)) bytes.push(escapes[e]!);
    else return undefined;
  }
  return undefined;
}
