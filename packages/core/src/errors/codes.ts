/** Every error code the project uses, with its HTTP status, wire type and default retryability. One table. */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_json: { status: 400, type: 'invalid_request_error', retryable: false },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', retryable: false },
  unsupported: { status: 400, type: 'invalid_request_error', retryable: false },
  content_filter: { status: 400, type: 'invalid_request_error', retryable: false },
  authentication: { status: 401, type: 'authentication_error', retryable: false },
  budget_exceeded: { status: 402, type: 'budget_error', retryable: false },
  permission_denied: { status: 403, type: 'permission_error', retryable: false },
  not_found: { status: 404, type: 'not_found_error', retryable: false },
  model_not_found: { status: 404, type: 'not_found_error', retryable: false },
  method_not_allowed: { status: 405, type: 'invalid_request_error', retryable: false },
  conflict: { status: 409, type: 'invalid_request_error', retryable: false },
  tenant_id_in_use: { status: 409, type: 'invalid_request_error', retryable: false },
  payload_too_large: { status: 413, type: 'invalid_request_error', retryable: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', retryable: false },
  rate_limited: { status: 429, type: 'rate_limit_error', retryable: true },
  aborted: { status: 499, type: 'aborted_error', retryable: false },
  internal: { status: 500, type: 'api_error', retryable: false },
  config_invalid: { status: 500, type: 'api_error', retryable: false },
  engine_unavailable: { status: 500, type: 'api_error', retryable: false },
  provider_error: { status: 502, type: 'api_error', retryable: true },
  // The provider does not know the deployment's model (its 404): the deployment's configuration, not the caller's
  // model, which `model_not_found` (404) is. Another deployment may serve the call; waiting does not help.
  provider_model_not_found: { status: 502, type: 'api_error', retryable: false },
  network_error: { status: 502, type: 'api_error', retryable: true },
  stream_interrupted: { status: 502, type: 'api_error', retryable: true },
  invalid_response: { status: 502, type: 'api_error', retryable: true },
  provider_unavailable: { status: 503, type: 'api_error', retryable: true },
  overloaded: { status: 503, type: 'overloaded_error', retryable: true },
  circuit_open: { status: 503, type: 'api_error', retryable: true },
  store_unavailable: { status: 503, type: 'api_error', retryable: true },
  shutting_down: { status: 503, type: 'api_error', retryable: true },
  no_deployment: { status: 503, type: 'api_error', retryable: false },
  timeout: { status: 504, type: 'timeout_error', retryable: true },
} as const satisfies Record<string, { status: number; type: string; retryable: boolean }>;

export type LLMErrorCode = keyof typeof ERROR_CODES;

export function statusForCode(code: LLMErrorCode): number {
  return ERROR_CODES[code].status;
}

/**
 * Maps a provider's HTTP status to our code, for engines that have nothing more specific. A 404 is `provider_error`:
 * the request reached an address that is not there (a wrong base URL or endpoint, a proxy without that route), which
 * is the deployment's configuration, not the caller's fault (`not_found` would tell the client its own resource is
 * unknown); it is permanent, so send it with `isRetryable: false` (the built-in engines do: the router then falls over
 * at once). A 404 whose body says the model is unknown is `provider_model_not_found`, and one whose body says the
 * request asks what the model cannot do is `unsupported`: only the provider's words tell those apart.
 */
export function codeForHttpStatus(status: number): LLMErrorCode {
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 401) return 'authentication';
  if (status === 402) return 'budget_exceeded';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'provider_error';
  if (status === 408) return 'timeout';
  if (status === 409) return 'conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'provider_unavailable';
  if (status === 504) return 'timeout';
  if (status === 529) return 'overloaded';
  if (status >= 500) return 'provider_error';
  return 'invalid_request';
}
