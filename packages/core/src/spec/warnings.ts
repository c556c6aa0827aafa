/**
 * Something a call did not do exactly as asked, said instead of done in silence. The call still ran; a
 * warning is never an error. Engines report what they changed or left out while mapping a request to their
 * provider (a setting the provider has no equivalent for, a hint dropped or changed so the provider would not
 * refuse the call, a message moved); the router passes on the warnings of the attempt that answered.
 *
 * Codes used by the built-in engines (outside code may add its own, snake_case):
 * - `setting_not_sent`: the provider has no equivalent for this setting; it was not sent (`field`: the
 *   GenerateRequest field, e.g. `seed`).
 * - `setting_changed`: a setting was sent in another form or value the provider takes (e.g. a reasoning effort
 *   sent as the nearest budget); `field` names it.
 * - `cache_control_dropped`: a cache breakpoint was not sent (over the provider's limit, or on a block that
 *   cannot carry one); `field` names the mark.
 * - `cache_control_changed`: a cache breakpoint was sent with another TTL (a 1-hour mark after a 5-minute one
 *   goes as 5-minute on Anthropic).
 * - `system_message_hoisted`: a system message after the conversation started was joined into the
 *   provider's top-level system instructions instead of being sent in its place (`field`: `messages.N`).
 */
export interface CallWarning {
  /** Stable snake_case code (see above). */
  code: string;
  /**
   * The field of the `GenerateRequest` it concerns, as a dotted path with numeric indexes
   * (`seed`, `messages.3`, `messages.1.content.0.cacheControl`, `tools.2.cacheControl`). A gateway maps
   * `messages.N` back to the client's own message index before it shows the warning.
   */
  field?: string;
  /** One sentence for people, ASCII. */
  message: string;
}
