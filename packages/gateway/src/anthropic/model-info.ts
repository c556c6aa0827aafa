import { LLMError, type DeploymentInfo } from '@llmrr/core';

/**
 * A model in the Anthropic Models API shape (`GET /v1/models`, `GET /v1/models/{id}` with an
 * `anthropic-version` header). Fields the gateway cannot know are the API's documented "unknown" values:
 * `created_at` the epoch (the API's own value for an unknown release date), `capabilities`, `line` and the
 * lifecycle dates `null`. `llmrr` is the gateway's extension, as on the OpenAI shape.
 */
export interface AnthropicModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  capabilities: null;
  deprecated_at: null;
  retires_at: null;
  lifecycle: 'active';
  line: null;
  max_input_tokens: number | null;
  max_tokens: number | null;
  llmrr: { engine: string; capabilities: string[]; alias?: string };
}

/** A page of the Anthropic model list. */
export interface AnthropicModelPage {
  data: AnthropicModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/**
 * The Models API's list query: pagination (`limit` 1-1000, default 20; `after_id` or `before_id`) and the
 * `lifecycle` filter (its values, repeated or comma-separated).
 */
export interface AnthropicPageQuery {
  limit?: string | undefined;
  after_id?: string | undefined;
  before_id?: string | undefined;
  lifecycle?: readonly string[] | undefined;
}

/** The lifecycle states Anthropic names for its models (active, legacy, deprecated, retired). */
export const ANTHROPIC_LIFECYCLES = ['active', 'legacy', 'deprecated', 'retired'] as const;

export const ANTHROPIC_DEFAULT_PAGE_LIMIT = 20;
export const ANTHROPIC_MAX_PAGE_LIMIT = 1000;

/** When a release date is unknown the Models API answers the epoch. */
const UNKNOWN_DATE = '1970-01-01T00:00:00Z';

export function toAnthropicModelInfo(d: DeploymentInfo): AnthropicModelInfo {
  return {
    type: 'model',
    id: d.name,
    display_name: d.name,
    created_at: UNKNOWN_DATE,
    capabilities: null,
    deprecated_at: null,
    retires_at: null,
    lifecycle: 'active',
    line: null,
    max_input_tokens: d.config.contextWindow ?? null,
    max_tokens: d.config.maxOutputTokens ?? null,
    llmrr: { engine: d.engine, capabilities: d.capabilities, ...(d.alias !== undefined ? { alias: d.alias } : {}) },
  };
}

function badQuery(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `${param}: ${message}`, param });
}

function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return ANTHROPIC_DEFAULT_PAGE_LIMIT;
  if (!/^\d{1,5}$/.test(raw)) throw badQuery('limit', `must be an integer from 1 to ${ANTHROPIC_MAX_PAGE_LIMIT}, got ${JSON.stringify(raw.slice(0, 20))}`);
  const n = Number(raw);
  if (n < 1 || n > ANTHROPIC_MAX_PAGE_LIMIT) throw badQuery('limit', `must be an integer from 1 to ${ANTHROPIC_MAX_PAGE_LIMIT}, got ${n}`);
  return n;
}

/**
 * One page of `models` (already filtered to what the caller may see, in list order) as the Models API
 * pages: `after_id` starts after that id, `before_id` ends before it (the `limit` models closest to it);
 * `has_more` says whether more models lie further in the direction asked, after the `lifecycle` filter
 * (`byLifecycle`). A cursor that is not in the caller's (filtered) list, both cursors at once, a bad `limit`
 * or an unknown `lifecycle` is a 400 naming the parameter.
 */
/**
 * The models a `lifecycle` filter keeps: every model of the gateway is `active`, so all of them when the
 * filter is absent or names `active`, none when it names only other states. A value that is no lifecycle
 * state is a 400 naming `lifecycle`: a filter the gateway does not understand never passes silently.
 */
function byLifecycle(models: readonly DeploymentInfo[], values: readonly string[] | undefined): readonly DeploymentInfo[] {
  if (values === undefined || values.length === 0) return models;
  const states = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const state of states) {
    if (!(ANTHROPIC_LIFECYCLES as readonly string[]).includes(state)) {
      throw badQuery('lifecycle', `must be one of ${ANTHROPIC_LIFECYCLES.join(', ')} (repeated or comma-separated), got ${JSON.stringify(state.slice(0, 40))}`);
    }
  }
  return states.includes('active') ? models : [];
}

export function anthropicModelPage(all: readonly DeploymentInfo[], query: AnthropicPageQuery): AnthropicModelPage {
  const limit = pageLimit(query.limit);
  const models = byLifecycle(all, query.lifecycle);
  if (query.after_id !== undefined && query.before_id !== undefined) throw badQuery('before_id', 'give after_id or before_id, not both');
  const indexOf = (param: 'after_id' | 'before_id', id: string) => {
    const i = models.findIndex((d) => d.name === id);
    if (i < 0) throw badQuery(param, `no model with id ${JSON.stringify(id.length > 100 ? `${id.slice(0, 100)}...` : id)} in your model list`);
    return i;
  };
  let start: number;
  let end: number;
  let hasMore: boolean;
  if (query.before_id !== undefined) {
    end = indexOf('before_id', query.before_id);
    start = Math.max(0, end - limit);
    hasMore = start > 0;
  } else {
    start = query.after_id !== undefined ? indexOf('after_id', query.after_id) + 1 : 0;
    end = Math.min(models.length, start + limit);
    hasMore = end < models.length;
  }
  const data = models.slice(start, end).map(toAnthropicModelInfo);
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
