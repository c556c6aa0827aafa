import type { CallWarning } from '@llmrr/core';

/**
 * Betas that ask nothing of `/v1/messages` the gateway does not do, by family (the name without its date, so each
 * version counts): said nothing of. Honoured: `prompt-caching` (`cache_control` marks are served),
 * `extended-cache-ttl` (a 1-hour mark: the Anthropic engine sends this beta itself), `token-counting`
 * (`count_tokens` is served), `structured-outputs` (strict tools and `output_config.format` are served). Nothing to
 * do with the answer: `claude-code` and `oauth` (who is asking, and how it signs in to Anthropic; the gateway has its
 * own keys), `message-batches` and `files-api` (other APIs). Only unlocking a body field, block or tool that has its
 * own answer (a `setting_not_sent` warning for `context_management` and `mcp_servers`, a 400 for `document` blocks
 * and server tools): `context-management`, `mcp-client`, `pdfs`, `computer-use`, `code-execution`. Any other beta
 * (`interleaved-thinking`, `fine-grained-tool-streaming`, `context-1m`, `output-128k`, `token-efficient-tools`, one
 * the gateway does not know) asks for something it does not do.
 */
const QUIET_BETAS: ReadonlySet<string> = new Set([
  'prompt-caching',
  'extended-cache-ttl',
  'token-counting',
  'structured-outputs',
  'claude-code',
  'oauth',
  'message-batches',
  'files-api',
  'context-management',
  'mcp-client',
  'pdfs',
  'computer-use',
  'code-execution',
]);

/**
 * A beta's name without its trailing date (`interleaved-thinking-2025-05-14` -> `interleaved-thinking`, `claude-code-20250219`
 * -> `claude-code`).
 */
function family(beta: string): string {
  return beta.replace(/-\d{4}-?\d{2}-?\d{2}$/, '');
}

const warningText = (shown: string) => `anthropic-beta ${shown} not acted on: the gateway does not do what these betas ask and passes no beta on.`;

/**
 * The most characters of the betas a warning repeats: x-llmrr-warnings keeps a message whose quoted form is at most
 * 200 characters, and the fixed text around the betas with "..." takes the rest.
 */
const BETAS_SHOWN_MAX = 198 - warningText('...').length;

/**
 * The warning for a request's `anthropic-beta` header (a comma-separated list; undefined, nothing allocated, without
 * one): the gateway applies no beta and passes none on, so the betas of it that ask for something the gateway does not
 * do (see `QUIET_BETAS`) are named, once, in a `setting_not_sent` warning with field `anthropic-beta` (cut with "..."
 * when long). Not a 400: Claude Code and the SDKs' beta resources send betas with every request, and the answer is
 * what it is without them. Undefined when every beta is quiet.
 */
export function betaWarning(header: string | null | undefined): CallWarning | undefined {
  if (header == null) return undefined;
  let unacted = '';
  for (const raw of header.split(',')) {
    const beta = raw.trim();
    if (beta !== '' && !QUIET_BETAS.has(family(beta))) unacted += unacted === '' ? beta : `,${beta}`;
  }
  if (unacted === '') return undefined;
  return { code: 'setting_not_sent', field: 'anthropic-beta', message: warningText(cutQuoted(unacted, BETAS_SHOWN_MAX)) };
}

/**
 * `text` cut with "..." so that its quoted form (an RFC 8941 string, where `"` and `\` take two characters) fits in
 * `max` characters; unchanged when it fits.
 */
function cutQuoted(text: string, max: number): string {
  let quoted = 0;
  for (let i = 0; i < text.length; i++) {
    quoted += text[i] === '"' || text[i] === '\\' ? 2 : 1;
    if (quoted > max) return `${text.slice(0, i)}...`;
  }
  return text;
}
