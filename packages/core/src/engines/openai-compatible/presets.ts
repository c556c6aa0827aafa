import type { OpenAIPrefill } from './openai-prefill.js';

/** How a provider wants its API key sent. */
export type AuthStyle = 'bearer' | 'api-key' | 'none';

/** One OpenAI-compatible provider: where it lives, how it authenticates, and where it departs from OpenAI. */
export interface OpenAICompatiblePreset {
  /** Human name, used in error messages. */
  readonly label: string;
  /** Base URL the `/chat/completions` and `/embeddings` paths are appended to. Absent: `baseURL` is required. */
  readonly baseURL?: string;
  /** Environment variable that can supply `baseURL` when the config gives none (Azure endpoints). */
  readonly baseURLEnv?: string;
  readonly auth: AuthStyle;
  /** Environment variable read for the key when the config gives neither `apiKey` nor `apiKeyEnv`. */
  readonly apiKeyEnv?: string;
  /** True: a call without a key fails with `authentication` before any request is sent. */
  readonly requiresApiKey: boolean;
  /** Quirks: the places this provider departs from the OpenAI wire format. */
  readonly quirks?: {
    /** Send `stream_options: { include_usage: true }` (default true). Mistral rejects unknown fields and sends usage anyway. */
    readonly streamOptions?: boolean;
    /** Body field for `seed` (Mistral calls it `random_seed`). */
    readonly seedField?: string;
    /** Send `user` (default true). */
    readonly userField?: boolean;
    /**
     * Body field for `maxTokens` (default `max_tokens`). OpenAI deprecated `max_tokens` for
     * `max_completion_tokens`, which every current chat model takes and its reasoning models (o-series, gpt-5)
     * require: they answer 400 to `max_tokens`. Azure OpenAI keeps the default: its GA API version
     * 2024-10-21 (our default) refuses unknown arguments, and `max_completion_tokens` came with its preview
     * versions for o1; set `options.maxTokensField` there with a newer `apiVersion`.
     */
    readonly maxTokensField?: string;
    /**
     * Send `prompt_cache_key` (the request's `promptCacheKey`; default false). OpenAI documents it on chat
     * completions and Responses and routes its automatic prompt cache by it; servers that do not know it may
     * answer 400 to an unknown field (Azure's GA API version among them), so only presets that document it
     * send it. `options.promptCacheKey` overrides the preset.
     */
    readonly promptCacheKey?: boolean;
    /**
     * Send `top_k` (the request's `topK`; default false): the servers that document it (vLLM, Together, OpenRouter,
     * llama.cpp server, LM Studio). OpenAI and Azure OpenAI answer 400 "Unrecognized request argument supplied:
     * top_k", Mistral refuses unknown fields, and Groq, DeepSeek and Ollama's OpenAI endpoint do not list it.
     * `options.topK` overrides the preset.
     */
    readonly topK?: boolean;
    /**
     * Send `verbosity` (the request's `verbosity`; default false) to the models that take it
     * (`openAIVerbosityRefusal`): OpenAI's. Azure OpenAI's GA API version refuses unknown fields: there only with
     * `options.verbosity`. `options.verbosity` overrides the preset.
     */
    readonly verbosity?: boolean;
    /**
     * Send `logprobs` / `top_logprobs` (the request's `logprobs`; default true: OpenAI's chat-completions fields) to
     * the models that take them (`openAILogprobsRefusal`). False where the provider refuses them or answers them in
     * another shape: Groq (documented unsupported, 400), Mistral (unknown fields refused), Together (an integer
     * `logprobs` and its own answer shape), LM Studio (not among its documented fields). `options.logprobs`
     * overrides the preset.
     */
    readonly logprobs?: boolean;
    /**
     * Send a tool's `strict` as `function.strict` (default false): OpenAI, Azure OpenAI (API 2024-08-01-preview and
     * later, our default GA 2024-10-21 among them) and Mistral document it; elsewhere a strict tool is not sent strict
     * and is warned (`tools.N.strict`). `options.strictTools` overrides the preset. A schema OpenAI's strict mode
     * refuses (`openAIStrictSchemaProblem`) is never sent strict.
     */
    readonly strictTools?: boolean;
    /**
     * Send an assistant turn's reasoning back as `reasoning_content` on every assistant turn of a tool loop (between
     * two user messages with tool calls between them; default false): DeepSeek's thinking mode answers 400 "The
     * reasoning_content in the thinking mode must be passed back to the API" without it (its Thinking Mode guide). OpenAI, Azure OpenAI and Mistral refuse
     * unknown message fields; other servers do not document it. `options.reasoningContent` overrides the preset.
     */
    readonly reasoningContent?: boolean;
    /**
     * Send `reasoning_effort: "none"` for a budget of 0 (thinking off: Anthropic's `thinking: disabled` through the
     * gateway) to a model outside OpenAI's family table (default false: nothing is sent, with a `setting_not_sent`
     * warning, since many servers refuse `none`: xAI grok-3-mini takes low and high, vLLM up to 0.15 low to high).
     * True where the provider documents `none` as thinking off: Groq (qwen/qwen3-32b takes `none` and `default`, and
     * reasons when the field is absent) and Ollama (its OpenAI endpoint turns thinking off only for `none`). Not
     * OpenRouter (a model whose reasoning is mandatory refuses `none`). `options.reasoningNone` overrides the preset.
     */
    readonly reasoningNone?: boolean;
    /**
     * Send `logit_bias` (the request's `logitBias`; default true: OpenAI's chat-completions field) to the models that
     * take it (`openAILogitBiasRefusal`). False where the provider refuses it: Groq ("will result in a 400 error", its
     * OpenAI compatibility page); the request's `logitBias` is then not sent, with a `setting_not_sent` warning.
     * `options.logitBias` overrides the preset.
     */
    readonly logitBias?: boolean;
    /**
     * Send a system, user or assistant message's author `name` (default true: OpenAI's `messages[].name`). False where
     * the provider refuses it: Groq (400, its OpenAI compatibility page); each name is then left out, with a
     * `setting_not_sent` warning naming `messages.N.name`. `options.messageNames` overrides the preset.
     */
    readonly messageNames?: boolean;
    /**
     * Refuse a message's author `name` outside OpenAI's characters (`OPENAI_MESSAGE_NAME_PATTERN`: letters, digits, `_`
     * and `-`) before the call, as an `invalid_request` naming `messages.N.name` (default false: the name is sent as
     * it is, and the server decides). OpenAI and Azure OpenAI answer such a name with a 400 of their own ("'J@ck'
     * does not match '^[a-zA-Z0-9_-]{1,64}$' - 'messages.0.name'"); vLLM and most servers take any string.
     */
    readonly checkMessageNames?: boolean;
    /**
     * How the server continues a final assistant message the request asks to be continued (`OpenAIPrefill`; default:
     * none, a `setting_not_sent` warning). vLLM: `continue_final_message` (0.6.4 and later). Mistral: `prefix` (it refuses a final assistant message without
     * `prefix: true`: "Expected last role User or Tool (or Assistant with prefix True)"); llama.cpp server: `native`
     * (its `prefill_assistant`, on by default, ggml-org/llama.cpp#13608). `options.prefill` overrides the preset.
     */
    readonly prefill?: OpenAIPrefill;
    /**
     * The server's answer to a `prefix: true` message repeats that message's text first (Mistral: SillyTavern#2557,
     * vercel/ai#3256), taken off by the engine. Default false: DeepSeek's prefix completion answers with the
     * continuation alone, which may itself start with the prefill's text. `options.prefillEcho` overrides the preset.
     */
    readonly prefillEcho?: boolean;
    /**
     * The server refuses a conversation that ends with an assistant message unless that message is continued with
     * `prefix: true` (Mistral's 400 "Expected last role User or Tool (or Assistant with prefix True) for serving but
     * got assistant"; its prefix guide, docs.mistral.ai/guides/prefix). Such a request that is not sent that way (no
     * `continueFinalMessage`, a message with tool calls or blank text, or `options.prefill` other than `prefix`) is
     * refused before the call (`LanguageEngineV1.refusal`): a router sends it to a deployment that takes it, and answers
     * `unsupported` naming `messages.N` when none does. Default false. `options.refusesFinalAssistant` overrides it.
     */
    readonly refusesFinalAssistant?: boolean;
    /**
     * The server continues a final assistant message by itself and refuses one that carries tool calls (llama.cpp
     * server: its request parsing turns on the continuation for a final assistant message, `prefill_assistant`, on by
     * default, and then throws "Cannot continue an assistant message that contains tool calls.", a 400; ggml-org/
     * llama.cpp#27626). Such a request is refused before the call (`LanguageEngineV1.refusal`), unless
     * `options.prefill` is `continue_final_message` (a server run with `--no-prefill-assistant`, which continues only
     * when asked, and a message with tool calls is never asked). Default false. `options.refusesFinalToolCalls`
     * overrides it.
     */
    readonly refusesFinalToolCalls?: boolean;
    /** Azure: the deployment goes in the path, `api-version` in the query. */
    readonly azureDeployments?: boolean;
  };
}

/** Azure OpenAI `api-version` used when `options.apiVersion` is not set (latest GA data-plane inference version). */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/**
 * Known OpenAI-compatible providers, by preset name (`preset:` in a model config).
 * A config's `baseURL`, `apiKey` and `apiKeyEnv` override what the preset says.
 */
export const OPENAI_COMPATIBLE_PRESETS = {
  openai: {
    label: 'OpenAI',
    baseURL: 'https://api.openai.com/v1',
    auth: 'bearer',
    apiKeyEnv: 'OPENAI_API_KEY',
    requiresApiKey: true,
    quirks: { maxTokensField: 'max_completion_tokens', promptCacheKey: true, verbosity: true, strictTools: true, checkMessageNames: true },
  },
  'azure-openai': {
    label: 'Azure OpenAI',
    baseURLEnv: 'AZURE_OPENAI_ENDPOINT',
    auth: 'api-key',
    apiKeyEnv: 'AZURE_OPENAI_API_KEY',
    requiresApiKey: true,
    quirks: { azureDeployments: true, strictTools: true, checkMessageNames: true },
  },
  groq: { label: 'Groq', baseURL: 'https://api.groq.com/openai/v1', auth: 'bearer', apiKeyEnv: 'GROQ_API_KEY', requiresApiKey: true, quirks: { logprobs: false, logitBias: false, messageNames: false, reasoningNone: true } },
  together: {
    label: 'Together AI',
    baseURL: 'https://api.together.xyz/v1',
    auth: 'bearer',
    apiKeyEnv: 'TOGETHER_API_KEY',
    requiresApiKey: true,
    quirks: { topK: true, logprobs: false },
  },
  mistral: {
    label: 'Mistral',
    baseURL: 'https://api.mistral.ai/v1',
    auth: 'bearer',
    apiKeyEnv: 'MISTRAL_API_KEY',
    requiresApiKey: true,
    quirks: { streamOptions: false, seedField: 'random_seed', userField: false, logprobs: false, strictTools: true, prefill: 'prefix', prefillEcho: true, refusesFinalAssistant: true },
  },
  deepseek: {
    label: 'DeepSeek',
    baseURL: 'https://api.deepseek.com/v1',
    auth: 'bearer',
    apiKeyEnv: 'DEEPSEEK_API_KEY',
    requiresApiKey: true,
    quirks: { reasoningContent: true },
  },
  openrouter: { label: 'OpenRouter', baseURL: 'https://openrouter.ai/api/v1', auth: 'bearer', apiKeyEnv: 'OPENROUTER_API_KEY', requiresApiKey: true, quirks: { topK: true } },
  ollama: { label: 'Ollama', baseURL: 'http://127.0.0.1:11434/v1', auth: 'none', requiresApiKey: false, quirks: { reasoningNone: true } },
  // prefill: vLLM takes continue_final_message since 0.6.3 (vllm-project/vllm#8942) and answers with the continuation
  // alone since 0.6.4 (vllm-project/vllm#10180; 0.6.3 repeated the prefill first).
  vllm: { label: 'vLLM', baseURL: 'http://127.0.0.1:8000/v1', auth: 'bearer', apiKeyEnv: 'VLLM_API_KEY', requiresApiKey: false, quirks: { topK: true, prefill: 'continue_final_message' } },
  lmstudio: { label: 'LM Studio', baseURL: 'http://127.0.0.1:1234/v1', auth: 'none', requiresApiKey: false, quirks: { topK: true, logprobs: false } },
  llamacpp: {
    label: 'llama.cpp server',
    baseURL: 'http://127.0.0.1:8080/v1',
    auth: 'bearer',
    apiKeyEnv: 'LLAMA_API_KEY',
    requiresApiKey: false,
    quirks: { topK: true, prefill: 'native', refusesFinalToolCalls: true },
  },
} as const satisfies Record<string, OpenAICompatiblePreset>;

export type OpenAICompatiblePresetName = keyof typeof OPENAI_COMPATIBLE_PRESETS;

/** The preset of that name, or undefined. */
export function findPreset(name: string): OpenAICompatiblePreset | undefined {
  return Object.hasOwn(OPENAI_COMPATIBLE_PRESETS, name) ? OPENAI_COMPATIBLE_PRESETS[name as OpenAICompatiblePresetName] : undefined;
}
