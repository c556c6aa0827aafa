import type * as NodeLlamaCpp from 'node-llama-cpp';
import { LLMError } from '../../errors/llm-error.js';
import type { ResponseFormat } from '../../spec/index.js';

const MAX_CACHED = 32;

/**
 * Grammars for JSON mode, built with node-llama-cpp (`json_object`: its JSON grammar; `json_schema`:
 * `createGrammarForJsonSchema`). Built once per schema and kept (up to 32).
 */
export class GgufGrammars {
  private readonly cache = new Map<string, Promise<NodeLlamaCpp.LlamaGrammar>>();

  constructor(private readonly llama: NodeLlamaCpp.Llama) {}

  get(format: ResponseFormat | undefined): Promise<NodeLlamaCpp.LlamaGrammar> | undefined {
    if (!format || format.type === 'text') return undefined;
    const key = format.type === 'json_object' ? 'json' : JSON.stringify(format.schema);
    let grammar = this.cache.get(key);
    if (!grammar) {
      grammar = this.build(format);
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, grammar);
      grammar.catch(() => this.cache.delete(key));
    }
    return grammar;
  }

  private async build(format: Exclude<ResponseFormat, { type: 'text' }>): Promise<NodeLlamaCpp.LlamaGrammar> {
    if (format.type === 'json_object') return this.llama.getGrammarFor('json');
    try {
      // The schema comes from the request at run time; node-llama-cpp checks what it can turn into a grammar.
      const create = this.llama.createGrammarForJsonSchema as (schema: unknown) => Promise<NodeLlamaCpp.LlamaGrammar>;
      return await create.call(this.llama, format.schema);
    } catch (e) {
      throw new LLMError({
        code: 'unsupported',
        message: `responseFormat.schema: node-llama-cpp cannot turn this JSON schema into a grammar: ${e instanceof Error ? e.message : String(e)}`,
        param: 'responseFormat.schema',
        provider: 'gguf',
        cause: e,
      });
    }
  }
}
