import { LLMError, type ChatMessage, type ContentPart, type GenerateRequest, type ToolChoice } from '@llmrr/core';
import type { AnthropicMessagesRequest } from '../schemas/anthropic-messages.js';

type Param = AnthropicMessagesRequest['messages'][number];
type Block = Exclude<Param['content'], string>[number];

function imagePart(block: Extract<Block, { type: 'image' }>): ContentPart {
  const s = block.source;
  return s.type === 'base64' ? { type: 'image', data: s.data, mediaType: s.media_type } : { type: 'image', url: s.url };
}

function toolResultText(block: Extract<Block, { type: 'tool_result' }>): string {
  const c = block.content;
  if (c === undefined) return '';
  if (typeof c === 'string') return c;
  return c.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

function convertUser(content: Param['content']): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const block of content) {
    if (block.type === 'tool_result') out.push({ role: 'tool', toolCallId: block.tool_use_id, content: toolResultText(block) });
    else if (block.type === 'text') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push(imagePart(block));
  }
  if (parts.length > 0) out.push({ role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts });
  return out;
}

function convertAssistant(content: Param['content']): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const text = content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  const toolCalls = content
    .filter((b): b is Extract<Block, { type: 'tool_use' }> => b.type === 'tool_use')
    .map((b) => ({ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) }));
  return toolCalls.length > 0 ? { role: 'assistant', content: text === '' ? null : text, toolCalls } : { role: 'assistant', content: text };
}

function toolChoice(choice: AnthropicMessagesRequest['tool_choice']): ToolChoice | undefined {
  if (!choice) return undefined;
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { name: choice.name };
  }
}

/** A validated Anthropic Messages request as the engine-neutral `GenerateRequest`. */
export function messagesToGenerateRequest(body: AnthropicMessagesRequest): GenerateRequest {
  const messages: ChatMessage[] = [];
  if (body.system !== undefined) {
    const system = typeof body.system === 'string' ? body.system : body.system.map((b) => b.text).join('\n');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  for (const m of body.messages) {
    if (m.role === 'user') messages.push(...convertUser(m.content));
    else messages.push(convertAssistant(m.content));
  }
  const req: GenerateRequest = { messages, maxTokens: body.max_tokens };
  if (body.temperature !== undefined) req.temperature = body.temperature;
  if (body.top_p !== undefined) req.topP = body.top_p;
  if (body.stop_sequences && body.stop_sequences.length > 0) req.stop = body.stop_sequences;
  if (body.tools && body.tools.length > 0) {
    req.tools = body.tools.map((t) => ({ name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema }));
  }
  const choice = toolChoice(body.tool_choice);
  if (choice !== undefined) {
    if (typeof choice === 'object' && !req.tools?.some((t) => t.name === choice.name)) {
      throw new LLMError({ code: 'invalid_request', message: `tool_choice names "${choice.name}", which is not in tools`, param: 'tool_choice.name' });
    }
    req.toolChoice = choice;
  }
  if (body.metadata?.user_id) req.user = body.metadata.user_id;
  if (body.top_k !== undefined) req.providerOptions = { anthropic: { top_k: body.top_k } };
  return req;
}
