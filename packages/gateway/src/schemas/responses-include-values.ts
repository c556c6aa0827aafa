/** The `include` value that asks for the answer's log probabilities (the core request's `logprobs`). */
export const LOGPROBS_INCLUDE = 'message.output_text.logprobs';

/** `include` values OpenAI documents; the gateway adds nothing they ask for except logprobs (`LOGPROBS_INCLUDE`). */
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
