import type * as NodeLlamaCpp from 'node-llama-cpp';
import { LLMError } from '../../errors/llm-error.js';
import type { ChatMessage } from '../../spec/index.js';
import { localMessageText } from '../shared/local-message-text.js';
import type { LoadedGguf } from './gguf-loader.js';

type Token = NodeLlamaCpp.Token;

/** A request's prompt, tokenized exactly as the model will see it. */
export interface GgufPrompt {
  /**
   * Tokens given to `LlamaCompletion`, without the beginning-of-sequence token: `LlamaCompletion`
   * prepends that one itself when the model wants it (`beginning`).
   */
  body: Token[];
  /** The token LlamaCompletion prepends (BOS), or null. */
  beginning: Token | null;
  /** Exact prompt length in tokens: `body.length` plus the beginning token. */
  inputTokens: number;
  /** Stop triggers of the chat template (end-of-turn markers), if any. */
  stopTriggers: NodeLlamaCpp.LlamaText[];
}

/** The token that `LlamaCompletion` prepends, with the same rule node-llama-cpp uses (llama.cpp's `llama_tokenize`). */
export function beginningToken(loaded: LoadedGguf): Token | null {
  const { model, lib } = loaded;
  const type = model.vocabularyType;
  if (type === lib.LlamaVocabularyType.rwkv || type === lib.LlamaVocabularyType.ugm) return null;
  if (type === lib.LlamaVocabularyType.wpm) return model.tokens.bos;
  return model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
}

function checkMessages(messages: ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new LLMError({ code: 'invalid_request', message: 'messages: at least one message is required', param: 'messages', provider: 'gguf' });
  }
  messages.forEach((m, i) => {
    if (m.role === 'tool' || (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0)) {
      throw new LLMError({
        code: 'unsupported',
        message: `messages.${i}: the gguf engine does not support tool calls or tool results`,
        param: `messages.${i}`,
        provider: 'gguf',
      });
    }
    if (m.role === 'user' && Array.isArray(m.content) && m.content.some((p) => p.type !== 'text')) {
      throw new LLMError({
        code: 'unsupported',
        message: `messages.${i}.content: the gguf engine takes text only (no images)`,
        param: `messages.${i}.content`,
        provider: 'gguf',
      });
    }
  });
}

/** The raw-completion prompt: the messages' text joined by newlines (a message's text parts too: `localMessageText`). */
export function rawPromptText(messages: ChatMessage[]): string {
  return messages.map(localMessageText).join('\n');
}

function chatHistory(messages: ChatMessage[]): NodeLlamaCpp.ChatHistoryItem[] {
  const history: NodeLlamaCpp.ChatHistoryItem[] = messages.map((m) => {
    if (m.role === 'system') return { type: 'system', text: m.content };
    if (m.role === 'assistant') return { type: 'model', response: [m.content ?? ''] };
    return { type: 'user', text: localMessageText(m) };
  });
  // The last model turn is the one generated; a trailing assistant message is continued (prefill).
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

/** Renders and tokenizes a request's messages: with the chat template, or raw. */
export function buildPrompt(loaded: LoadedGguf, messages: ChatMessage[]): GgufPrompt {
  checkMessages(messages);
  const { model, chatWrapper } = loaded;
  const beginning = beginningToken(loaded);
  let body: Token[];
  let stopTriggers: NodeLlamaCpp.LlamaText[] = [];
  if (chatWrapper === null) {
    // Tokenized as llama.cpp's own CLI does: a document start, so SentencePiece adds its leading space
    // ("\u2581Once"), which is what such models saw in training. (LlamaCompletion would trim it: "O", "n", "ce".)
    body = model.tokenize(rawPromptText(messages));
  } else {
    const state = chatWrapper.generateContextState({ chatHistory: chatHistory(messages) });
    body = state.contextText.tokenize(model.tokenizer);
    // Templates usually start with BOS themselves; LlamaCompletion adds it, so it must not come twice.
    if (beginning !== null && body[0] === beginning) body = body.slice(1);
    stopTriggers = state.stopGenerationTriggers;
  }
  return { body, beginning, inputTokens: body.length + (beginning !== null ? 1 : 0), stopTriggers };
}
