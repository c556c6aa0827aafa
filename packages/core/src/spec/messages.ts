/** The one internal request shape every engine receives (normalized from OpenAI, Anthropic, Gemini, CLI...). */

import type { ReasoningOptions } from './reasoning.js';

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

/**
 * One reasoning ("thinking") block of an assistant turn, as the provider returned it. Anthropic signs its
 * thinking blocks (`signature`) and sends some encrypted (`redactedData`, a `redacted_thinking` block: `text`
 * is then empty); with thinking and tools it requires the last assistant turn's blocks back unchanged and in
 * order, which the Anthropic engine does (before the turn's text and tool calls). A block without either is
 * display text only: no engine sends it back. Other engines ignore reasoning parts in input.
 */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  /** The provider's signature of this block (Anthropic `thinking.signature`), opaque: pass it back unchanged. */
  signature?: string;
  /** An encrypted block (Anthropic `redacted_thinking.data`), opaque: pass it back unchanged. */
  redactedData?: string;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | {
      role: 'assistant';
      content: string | null;
      toolCalls?: ToolCall[];
      /** The turn's reasoning blocks, in the order the provider gave them (they come before its text and tool calls). */
      reasoning?: ReasoningPart[];
    }
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
  /**
   * Reasoning ("thinking") effort or budget for reasoning models. Each engine maps it to its provider's
   * field (OpenAI `reasoning_effort`, Anthropic `thinking`, Gemini `thinkingConfig`); local engines refuse
   * a request that asks for thinking. `providerOptions` still win over it.
   */
  reasoning?: ReasoningOptions;
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
