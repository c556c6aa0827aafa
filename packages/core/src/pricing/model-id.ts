/**
 * Model id normalization for price look-ups.
 *
 * Providers, gateways and clouds spell one model many ways: `openai/gpt-4o`, `gpt-4o-2024-08-06`,
 * `claude-3-5-sonnet-latest`, `anthropic.claude-3-haiku-20240307-v1:0`, `models/gemini-2.0-flash-001`,
 * `anthropic/claude-3.5-sonnet`. `modelIdCandidates` lists the spellings to try, most specific first, so an
 * exact row (`gpt-4o-2024-05-13`) wins over the family row (`gpt-4o`).
 */

/**
 * `-2024-08-06`, `-20241022`, `-latest`, Bedrock `-v1:0`, Gemini `-001`, Vertex `@20240620` / `@001` / `@latest`.
 * `-latest` only after a versioned name (`claude-3-5-sonnet-latest`, `gemini-1.5-pro-latest`: that version's
 * newest snapshot, at its price): after a bare family name it is a moving alias (`gemini-pro-latest`,
 * `gemini-flash-latest`, `mistral-large-latest`: the newest model of the tier, moved across versions and prices),
 * kept whole, since without it `gemini-pro` would be Gemini 1.0 Pro.
 */
const SUFFIXES: readonly RegExp[] = [
  /@[\w.-]+$/,
  /-v\d+(?::\d+)?$/,
  /-\d{4}-\d{2}-\d{2}$/,
  /-\d{8}$/,
  /(?<=\d.*)-latest$/,
];

/** A `-latest` alias of a versioned model (see `SUFFIXES`): it is priced as that model before its own row. */
const VERSIONED_LATEST = /\d.*-latest$/;

/**
 * Bedrock: optional cross-region inference profile prefix, then the vendor prefix (`us.anthropic.claude-...`,
 * `us-gov.anthropic.claude-...`). The geographies of Bedrock's cross-region profiles: `global`, `us`, `us-gov`,
 * `eu`, `apac`, `jp`, `au` (AWS CDK `CrossRegionInferenceProfileRegion`: GLOBAL, US, US_GOV, EU, APAC, JP, AU).
 */
const BEDROCK_PREFIX = /^(?:(?:global|us-gov|us|eu|apac|jp|au)\.)?(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek)\./;

/** Gemini's stable version suffix (`gemini-1.5-flash-002`). */
const GEMINI_VERSION = /^(gemini-.*)-\d{3}$/;

/** One id with prefixes and date/version suffixes removed: `openai/gpt-4o-2024-08-06` -> `gpt-4o`. */
export function normalizeModelId(modelId: string): string {
  const parts = modelId.trim().toLowerCase().split('/');
  return normalizeBare(parts[parts.length - 1] ?? '');
}

function normalizeBare(id: string): string {
  let out = id.replace(BEDROCK_PREFIX, '');
  // Strip suffixes until none applies (`claude-3-5-sonnet-20241022-v2:0` -> two steps).
  for (let changed = true; changed; ) {
    changed = false;
    for (const re of SUFFIXES) {
      const next = out.replace(re, '');
      if (next !== out && next.length > 0) {
        out = next;
        changed = true;
      }
    }
  }
  out = out.replace(GEMINI_VERSION, '$1');
  // OpenRouter and others write Claude versions with dots: claude-3.5-sonnet, claude-sonnet-4.5.
  if (out.startsWith('claude')) out = out.replace(/(\d)\.(\d)/g, '$1-$2');
  return out;
}

/**
 * Spellings to look up, most specific first: the id, then without each leading `provider/`, then normalized. A
 * `-latest` alias of a versioned model lists the model it names first: the alias costs what that model costs, and
 * a price file's own row for the alias only fills in when the model has none (LiteLLM's
 * `gemini/gemini-1.5-pro-latest` row bills output at a tenth of `gemini/gemini-1.5-pro`'s).
 */
export function modelIdCandidates(modelId: string): string[] {
  const id = modelId.trim().toLowerCase();
  if (!id) return [];
  const parts = id.split('/');
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (s: string) => {
    if (s && !seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  };
  const last = parts[parts.length - 1] ?? '';
  // The same with the last segment normalized (prefixes kept, so prefixed rows still match): after the exact
  // spellings, or before them for a versioned `-latest` alias.
  const bare = normalizeBare(last);
  const aliasFirst = VERSIONED_LATEST.test(last);
  if (aliasFirst) for (let i = 0; i < parts.length; i++) add([...parts.slice(i, -1), bare].join('/'));
  for (let i = 0; i < parts.length; i++) add(parts.slice(i).join('/'));
  if (!aliasFirst) for (let i = 0; i < parts.length; i++) add([...parts.slice(i, -1), bare].join('/'));
  return out;
}
