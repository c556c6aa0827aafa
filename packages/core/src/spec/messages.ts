/** The one internal request shape every engine receives (normalized from OpenAI, Anthropic, Gemini, CLI...). */

export type JSONSchema = Record<string, unknown>;

export interface TextPart {
  type: 'text';
  text: string;
}

/** An image given either as a URL or as base64 data with its media type. */
export interface ImagePart {
  type: 'image';
  url?: string;
  data?: string;
  mediaType?: string;
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string; name?: string };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: JSONSchema;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name?: string; schema: JSONSchema; strict?: boolean };

export interface GenerateRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  /** End-user id, passed to providers that accept one (OpenAI `user`). */
  user?: string;
  /** Escape hatch: provider-specific body fields, keyed by provider name (`openai`, `anthropic`, ...). */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** Plain text of a message's content (images dropped). */
export function messageText(message: ChatMessage): string {
  const c = message.content;
  if (c == null) return '';
  if (typeof c === 'string') return c;
  return c.map((p) => (p.type === 'text' ? p.text : '')).join('');
}
