/** The `include` value that asks for the answer's log probabilities (the core request's `logprobs`). */
export const LOGPROBS_INCLUDE = 'message.output_text.logprobs';

/**
 * The `include` value that asks for a reasoning item's `encrypted_content`: the provider's signed reasoning blocks,
 * to give back in a tool loop (responses/reasoning-encrypted-content.ts).
 */
export const ENCRYPTED_REASONING_INCLUDE = 'reasoning.encrypted_content';

/**
 * `include` values OpenAI documents; the gateway adds nothing they ask for except logprobs (`LOGPROBS_INCLUDE`) and
 * the encrypted reasoning (`ENCRYPTED_REASONING_INCLUDE`).
 */
export const RESPONSES_INCLUDE_VALUES = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
] as const;
