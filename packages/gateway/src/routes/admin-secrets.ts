import { engineFactory, LLMError, type Tenant } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/**
 * What the admin API shows in place of a tenant model's `apiKey`, of its `headers` values (which carry credentials
 * as often: `Authorization`, `api-key`, ...), of its `baseURL`'s userinfo, query values (`?key=...`) and fragment
 * (`#token=...`) and of its credential-named `options`: they are write-only, like an API key's secret.
 */
export const REDACTED_SECRET = '[redacted]';

interface ModelSecrets {
  engine?: string | undefined;
  apiKey?: string | undefined;
  headers?: Record<string, string> | undefined;
  baseURL?: string | undefined;
  options?: Record<string, unknown> | undefined;
}

/**
 * Last words of an option name that say it holds a credential (`clientSecret`, `passphrase`, `bearer`, `privateKeyPem`,
 * `dsn`: a data source name holds its password or key, as Sentry's and a database's do; `pw`, `pwd`, `pass`: `dbPwd`,
 * `smtp_pass`, `?pw=`).
 */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'secret', 'password', 'passwd', 'passphrase', 'credential', 'cred', 'authorization', 'auth', 'bearer',
  'signature', 'sig', 'pem', 'apikey', 'cookie', 'jwt', 'dsn', 'pw', 'pwd', 'pass',
]);

/**
 * Words before a last word `key` / `token` that name a key or token that is no credential: a tokenizer's special
 * tokens (`eosToken`, `padToken`, `stopTokens`), token counts (`maxTokens`, `maxNewTokens`), keys of data
 * (`cachePartitionKey`, `sortKey`, `idempotencyKey`).
 */
const NOT_CREDENTIAL: ReadonlySet<string> = new Set([
  'eos', 'bos', 'pad', 'unk', 'sep', 'cls', 'mask', 'stop', 'start', 'end', 'eot', 'eom', 'boi', 'eoi', 'boa', 'eoa', 'special', 'image', 'audio',
  'video', 'vision', 'assistant', 'tool', 'think', 'thinking', 'reasoning', 'placeholder', 'separator',
  'sentinel', 'chat', 'turn', 'fim', 'prefix', 'suffix', 'middle',
  'max', 'min', 'num', 'total', 'new', 'context', 'prompt', 'input', 'output', 'reserved',
  'cache', 'partition', 'routing', 'sort', 'shard', 'lookup', 'dedup', 'dedupe', 'idempotency',
  'group', 'field', 'column', 'public',
]);

/** Last words that say how a value is written, not what it is (`serviceAccountJson`, `privateKeyPem`, `apiKeyValue`). */
const FORMAT_WORDS: ReadonlySet<string> = new Set(['json', 'pem', 'data', 'content', 'contents', 'value', 'b64', 'base64', 'string', 'str', 'text', 'raw']);

/**
 * An option name's words, lower-case, singular: `privateKeyPem` -> private, key, pem; `x-api-keys` -> x, api, key.
 * Linear in the name's length (a name may be a 100 KB query parameter's): each split is judged by the characters
 * around it alone (`HTTPHeader` -> HTTP Header: before a capital that follows one and precedes a lower-case letter).
 */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/(?<=[A-Z])(?=[A-Z][a-z])/g, ' ')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

/**
 * Whether an option's name says it holds a credential. Its words (camelCase, snake_case, kebab-case; plurals as
 * singular), without trailing format words (`json`, `pem`, `data`, `value`, `string`, ...: `FORMAT_WORDS`), end in
 * - a credential word: `secret`, `password`, `passwd`, `passphrase`, `pw`, `pwd`, `pass`, `credentials`, `creds`,
 *   `authorization`, `auth`, `bearer`, `signature`, `sig`, `pem`, `apikey`, `cookie`, `jwt`, `dsn` (`SECRET_WORDS`:
 *   `clientSecret` too);
 * - `authorization header` or `auth header` (the header's value: `authorizationHeader`);
 * - `service account` (`serviceAccount`, `serviceAccountJson`);
 * - `connection` or `conn` once a format word was taken off (`connectionString`, `connStr`: they hold the password or
 *   account key; a bare `connection` is a setting);
 * - `key` or `token` (`apiKey`, `apiKeys`, `accessToken`, `hfToken`, `privateKeyPem`, `token`), unless the word before
 *   names a key or token that is no credential (`NOT_CREDENTIAL`: `eosToken`, `padToken`, `boiToken`, `maxTokens`,
 *   `cachePartitionKey`, `sortKey`, `publicKeyPem`, ...), or the name is a bare plural `tokens` (a token count or list
 *   of a tokenizer, where a credential's plural names its kind: `apiTokens`).
 * Every string under such a name is write-only, at any depth (`apiKeys: [...]`, `credentials: { private_key }`).
 */
function isSecretOptionName(name: string): boolean {
  const words = nameWords(name);
  const named = words.length;
  while (words.length > 1 && FORMAT_WORDS.has(words[words.length - 1]!)) words.pop();
  const last = words[words.length - 1];
  if (last === undefined) return false;
  const before = words[words.length - 2];
  if (SECRET_WORDS.has(last)) return true;
  if (last === 'header' && (before === 'authorization' || before === 'auth')) return true;
  if (last === 'account' && before === 'service') return true;
  if ((last === 'connection' || last === 'conn') && words.length < named) return true;
  if (last === 'token' && before === undefined && /^tokens$/i.test(name)) return false;
  return (last === 'key' || last === 'token') && (before === undefined || !NOT_CREDENTIAL.has(before));
}

/** Query parameter names that carry a credential in an option URL besides the credential words (`?code=` of Azure Functions, `?sig=` of a SAS). */
const QUERY_CREDENTIALS = /^(?:code|sig|signature|key|token|access_?token|auth|password|pw|pwd|pass|secret|sas|x-api-key)$/i;

/** `text` percent-decoded (`+` as a space when `plus`), or as written when an escape is malformed. */
function decoded(text: string, plus: boolean): string {
  try {
    return decodeURIComponent(plus ? text.replace(/\+/g, ' ') : text);
  } catch {
    return text;
  }
}

/** Whether a query or fragment parameter's name (as written) says its value is a credential (`isSecretOptionName`, `QUERY_CREDENTIALS`). */
function isCredentialParam(name: string): boolean {
  const n = decoded(name, true);
  return isSecretOptionName(n) || QUERY_CREDENTIALS.test(n);
}

/**
 * Whether a query or fragment part is bare, a token rather than a pair: it has no `=`, or it is `X=`, `X==`, ...
 * (nothing after its `=`s) where `X` reads as a credential itself (`looksLikeCredential`: `YWRtaW46...==`, a padded
 * base64 token, whose "name" would otherwise be shown as a pair's). Any other `name=` is a pair with an empty value
 * (`?q=&lang=en`, `?callback=`).
 */
function isBarePart(part: string): boolean {
  if (part === '') return false;
  const eq = part.indexOf('=');
  return eq < 0 || (eq > 0 && /^=+$/.test(part.slice(eq)) && looksLikeCredential(part.slice(0, eq)));
}

/**
 * Whether a pair's value is shown redacted: every value (`allValues`, as for `baseURL`), else one whose name says it
 * holds a credential (`isCredentialParam`) or that reads as a key itself (`valueLooksLikeKey`: `?ref=sk-live-...`;
 * `page=2`, `lang=sk-SK`, `id=123`, a UUID, a git SHA, a timestamp are no key).
 */
function redactedPair(pair: string, allValues: boolean): string {
  const eq = pair.indexOf('=');
  const name = pair.slice(0, eq);
  return allValues || isCredentialParam(name) || valueLooksLikeKey(pair.slice(eq + 1)) ? `${name}=${REDACTED_SECRET}` : pair;
}

/**
 * A URL's query (`search`, with its `?`) with its credentials as `REDACTED_SECRET`: every value (`allValues`, as for
 * `baseURL`: names kept), or only those whose name says they hold one or that read as a key (`redactedPair`: an option
 * URL's `?lang=en&page=2` stays, so a tenant without secrets round-trips); the whole query as `?[redacted]` when a part
 * of it is bare (`isBarePart`: `?sk-...`, `?YWRtaW46...=`: the token is the part; a query is sent to the server, where
 * a bare part is a key as often).
 */
function redactQuery(search: string, allValues: boolean): string {
  if (search === '' || search === '?') return search;
  const pairs = search.slice(1).split('&');
  if (pairs.some(isBarePart)) return `?${REDACTED_SECRET}`;
  return `?${pairs.map((p) => (p === '' ? p : redactedPair(p, allValues))).join('&')}`;
}

/**
 * A key's prefix at the start of a word: OpenAI's and Anthropic's `sk-` (`sk-proj-`, `sk-ant-`), Stripe's `sk_live_`,
 * `rk_`, `pk_` (not `pk-`, `rk-`: words, `#pk-and-indexes`). For a bare part (`looksLikeCredential`).
 */
const KEY_PREFIX = /(?:^|[^A-Za-z0-9])(?:sk[-_]|rk_|pk_)/i;

/**
 * A well-known key format at the start of a word (after the start or a character other than a letter, digit, `-`,
 * `_`), case as written: one of the prefixes `AIza` (Google), `xoxa-` `xoxb-` `xoxo-` `xoxp-` `xoxr-` `xoxs-` (Slack),
 * `ghp_` `gho_` `ghu_` `ghs_` `ghr_` `github_pat_` (GitHub), `glpat-` (GitLab), `hf_` (Hugging Face), `ya29.` (a
 * Google OAuth token), `sk-` `sk_` (OpenAI, Anthropic, Stripe), `rk_` `pk_` `whsec_` (Stripe) followed by 8 or more
 * letters, digits, `-` or `_` (so `sk-SK`, a locale, is none); an AWS access key id (`AKIA` or `ASIA` and 16 capitals
 * or digits, the whole word); a JWT (`eyJ`, then two dots: `eyJhbGci....eyJzdWIi....sig`).
 */
const KNOWN_KEY =
  /(?:^|[^A-Za-z0-9_-])(?:(?:AIza|xox[abpors]-|gh[pousr]_|github_pat_|glpat-|hf_|ya29\.|sk[-_]|rk_|pk_|whsec_)[A-Za-z0-9_-]{8}|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.)/;

/** 1 upper-case letter, 2 lower-case, 3 digit, 0 anything else. */
function charClass(code: number): number {
  if (code >= 65 && code <= 90) return 1;
  if (code >= 97 && code <= 122) return 2;
  return code >= 48 && code <= 57 ? 3 : 0;
}

/**
 * Whether a run of the base64 / base64url alphabet (`A-Z a-z 0-9 + / _ -`) reads as random rather than words: at
 * least a fifth of its letters and digits follow one of another kind the way words do not (lower-case then upper-case,
 * a letter then a digit or back; an upper-case letter then lower-case starts a word, and a `-`, `_`, `/`, `+` between
 * them is no change). Random base64 makes such a change at about every other character; words, camelCase, model names
 * and versions far fewer (none in `Section-2-Getting-Started`, one in eight in `DeepSeek-R1-Distill-Qwen-7B`).
 */
function readsRandom(run: string): boolean {
  let changes = 0;
  let chars = 0;
  let prev = 0;
  for (let i = 0; i < run.length; i++) {
    const c = charClass(run.charCodeAt(i));
    if (c !== 0) {
      chars++;
      if (prev !== 0 && prev !== c && !(prev === 1 && c === 2)) changes++;
    }
    prev = c;
  }
  return changes * 5 >= chars;
}

/**
 * Whether a bare part (no name to judge it by: a fragment's anchor, a query's token, `X` of `X==`) reads as a
 * credential rather than an anchor (`#intro`, `#section-2`, `#L10-L20`, `#/settings/models`): percent-decoded, it
 * holds a key prefix (`KEY_PREFIX`: `#sk-live-...`; `KNOWN_KEY`), a run of 16 or more letters and digits that holds both (hex,
 * base64: `#9f86d081884c7d65...`, `#ghp_...`, a JWT's parts) or of 32 or more whatever it holds, or a run of 20 or
 * more characters of the base64 / base64url alphabet (`+`, `/`, `-`, `_` too) holding upper-case and lower-case
 * letters and a digit that reads as random (`readsRandom`: AWS's `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`,
 * `h3Kq-9ZbWx_T2pLm-Rv8aY`; about 97% of random 16-byte tokens, 99.6% of 24-byte ones). Words split by other
 * characters are an anchor, however many (`#installation-and-configuration`, `#Section-2-Getting-Started`), and so is
 * a UUID written with its hyphens (one case, hex: `#/runs/550e8400-e29b-41d4-a716-446655440000`): in an option URL it
 * names a record far more often than it is a key (a key in a pair whose name says so is redacted all the same).
 */
function looksLikeCredential(part: string): boolean {
  const text = decoded(part, false);
  if (KEY_PREFIX.test(text) || KNOWN_KEY.test(text)) return true;
  for (const run of text.match(/[A-Za-z0-9]{16,}/g) ?? []) if (run.length >= 32 || (/[0-9]/.test(run) && /[A-Za-z]/.test(run))) return true;
  return hasRandomRun(text, false);
}

/**
 * Whether `text` holds a run of 20 or more characters of the base64 / base64url alphabet (`A-Z a-z 0-9 + / _ -`)
 * holding upper-case and lower-case letters and a digit that reads as random (`readsRandom`); with `punctuated`, only
 * a run that holds a `+`, `/`, `_` or `-` too counts (one of letters and digits alone is an id's alphabet).
 */
function hasRandomRun(text: string, punctuated: boolean): boolean {
  for (const run of text.match(/[A-Za-z0-9+/_-]{20,}/g) ?? []) {
    if (punctuated && !/[+/_-]/.test(run)) continue;
    if (/[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run) && readsRandom(run)) return true;
  }
  return false;
}

/**
 * Whether a query or fragment value (of a pair whose name says nothing of a credential) reads as a key, rather than as
 * an id, a hash, a time, a word: percent-decoded, it holds a well-known key format (`KNOWN_KEY`: `sk-live-...`,
 * `ghp_...`, `AKIA...`, a JWT), or a run of 20 or more characters of the base64 / base64url alphabet that holds a `+`,
 * `/`, `-` or `_`, upper-case and lower-case letters and a digit, and reads as random (`hasRandomRun`: AWS's
 * `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, `h3Kq-9ZbWx_T2pLm-Rv8aY`). A value of letters and digits alone is an
 * id's alphabet and kept, however random it reads: a git SHA or another hex hash, a 32-hex id, a timestamp
 * (`20240101T000000Z`), a base62 id (a playlist's `PLrAXtmErZgO...`); so are words, versions, model names, UUIDs.
 */
function valueLooksLikeKey(value: string): boolean {
  const text = decoded(value, false);
  return KNOWN_KEY.test(text) || hasRandomRun(text, true);
}

/**
 * A URL's fragment (`hash`, with its `#`) with its credentials as `REDACTED_SECRET`. A `baseURL`'s is read as a query
 * is, every value redacted (`redactQuery`: `#access_token=...&state=x` -> `#access_token=[redacted]&state=[redacted]`,
 * `#section` -> `#[redacted]`): a fragment is never sent to a server, so in a `baseURL` it can only be a mistake or a
 * secret (an OAuth implicit-flow token pasted with the URL). An option URL's (`allValues` false) is read as its query
 * is, its parts split at `&` and `?` (`#/callback?access_token=...` of a single-page app): the values whose names say
 * they hold a credential or that read as one (`redactedPair`) are redacted, the other pairs and the bare parts
 * (`isBarePart`; anchors: `#intro&page=2`) kept; but a bare part that reads as a credential (`looksLikeCredential`:
 * `#sk-live-...`, a random token, padded or not: `#YWRtaW46...==`) hides the whole fragment, `#[redacted]`, as a bare
 * part hides an option URL's whole query.
 */
function redactFragment(hash: string, allValues: boolean): string {
  if (hash === '' || hash === '#') return hash;
  if (allValues) return `#${redactQuery(`?${hash.slice(1)}`, true).slice(1)}`;
  let token = false;
  const shown = hash.slice(1).replace(/[^&?]+/g, (part) => {
    if (isBarePart(part)) {
      token ||= looksLikeCredential(part);
      return part;
    }
    return redactedPair(part, false);
  });
  return token ? `#${REDACTED_SECRET}` : `#${shown}`;
}

/**
 * A URL the WHATWG parser refuses, as text: scheme and `://`; userinfo, up to the last `@` followed by a host list
 * (host names, IPv6 literals, ports, commas) and the path, query, fragment or end (a password may hold `#`, `/`, `?`,
 * `@`: the userinfo is not cut at the first of them, which would show the rest of the password as the host or a
 * fragment); the hosts and path; query; fragment (`[\s\S]`: one holding a line end is matched too, `.` is not, else
 * the URL would be shown whole).
 */
const TEXT_URL = /^([a-z][a-z0-9+.-]*:\/\/)([\s\S]*@(?=[A-Za-z0-9._~%:,[\]-]*(?:[/?#]|$)))?([^?#]*)(\?[^#]*)?(#[\s\S]*)?$/i;

/**
 * `TEXT_URL` with the userinfo up to the last `@` before the first `/`, `?` or `#`: the text match where no `@` is
 * followed by a host list as `TEXT_URL` reads one (`app:pw@h1:27017, h2:27017/db`, `app:pw@h1;h2/db`, `app:pw@h1,h2\n`).
 */
const TEXT_URL_FIRST = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)([^?#]*)(\?[^#]*)?(#[\s\S]*)?$/i;

/**
 * A URL the WHATWG parser takes with a digits-only password as its port: `https://user:123#x@host/` is the host `user`
 * on port 123 (the authority ends at the first `/`, `?` or `#`), its "fragment" `#x@host/`. An authority `name:digits`
 * followed at once by `?` or `#` whose rest holds an `@` followed by a host list (as `TEXT_URL` reads one) is read as
 * text instead (`TEXT_URL`: the userinfo up to that `@` hidden), unless the host is an IPv6 literal
 * (`http://[::1]:8080#...`). When in doubt it is hidden: `smtp://mail:587?from=bot@acme.example` reads the same way as
 * `https://user:123#a=b@host/` (a password may hold `=`, `&` or `/`), so such an option is shown hidden and must be
 * sent again when the tenant is saved. One with a path first (`https://host:8443/@scope/x`) is a URL with a port.
 */
const PASSWORD_AS_PORT = /^[a-z][a-z0-9+.-]*:\/\/[^@/?#[\]]*:\d*[?#][\s\S]*@[A-Za-z0-9._~%:,[\]-]*(?:[/?#]|$)/i;

/**
 * `url` with its credentials as `REDACTED_SECRET`: its query's and its fragment's (`redactQuery`, `redactFragment`;
 * every value for a `baseURL`, those named as credentials or reading as keys for an option URL, `allValues` false, and
 * a bare part that is one: a query's any, a fragment's that reads as a key) and its userinfo
 * (`https://user:pass@host` -> `https://[redacted]@host`: the model schema refuses one in `baseURL`, an older row may
 * hold it). Its path is shown as it is (a key in a path, `https://host/v1/KEY/chat`, is not told from a route: put it
 * in `apiKey` or `headers`). A URL the WHATWG parser refuses (a multi-host connection string,
 * `mongodb://app:pw@h1:27017,h2:27017/db`) is redacted as text (`TEXT_URL`): everything between `://` and the last `@`
 * followed by a host list (so a password holding `@`, `#`, `/` or `?` is hidden whole: `app:pw#x@h1,h2/db`; an `@`
 * followed by one in its path, query or fragment hides more, never less), else (no `@` so followed: a host list with a
 * space or a `;`, a line end after it) everything up to the last `@` before the first `/`, `?` or `#`
 * (`TEXT_URL_FIRST`), and its query and fragment as above. So is one the parser takes with a digits-only password as
 * its port (`PASSWORD_AS_PORT`: `https://user:123#x@host/`).
 */
function redactURL(url: string, allValues = true): string {
  let u: URL;
  try {
    if (PASSWORD_AS_PORT.test(url)) throw new Error('a password read as a port');
    u = new URL(url);
  } catch {
    // No `@` followed by a host list (one holding a space or a `;`, or a line end after it): the userinfo runs to the
    // last `@` before the first `/`, `?` or `#` (`TEXT_URL_FIRST`), so never less is hidden than that.
    const found = TEXT_URL.exec(url);
    const m = found?.[2] === undefined ? (TEXT_URL_FIRST.exec(url) ?? found) : found;
    if (!m) {
      // Not expected (the pattern matches whatever follows a scheme), but never shown whole: only its scheme is.
      const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
      return scheme ? `${scheme[0]}${REDACTED_SECRET}` : url;
    }
    const [, scheme, userinfo, rest, search, hash] = m;
    return `${scheme}${userinfo ? `${REDACTED_SECRET}@` : ''}${rest}${redactQuery(search ?? '', allValues)}${redactFragment(hash ?? '', allValues)}`;
  }
  if (u.username === '' && u.password === '' && u.search === '' && u.hash === '') return url;
  const query = redactQuery(u.search, allValues);
  const fragment = redactFragment(u.hash, allValues);
  if (u.username === '' && u.password === '' && query === u.search && fragment === u.hash) return url;
  return `${u.protocol}//${u.username !== '' || u.password !== '' ? `${REDACTED_SECRET}@` : ''}${u.host}${u.pathname}${query}${fragment}`;
}

/**
 * Where the admin API finds an engine kind's factory, for the option paths it declares secret (core's
 * `EngineFactory.secretOptions`): the router's (`GatewayRouter.engineFactory`, core's `LLMRouter.engineFactory`: its
 * own `engineFactories` over the registered ones), else core's registry (the engines registered with `registerEngine`).
 */
export type EngineFactoryLookup = (kind: string) => { readonly secretOptions?: readonly string[] | undefined } | undefined;

/** Core's registry of engine factories (`registerEngine`): the lookup without a router that has its own. */
const registeredFactory: EngineFactoryLookup = (kind) => engineFactory(kind);

/** The lookup of `router`'s engine factories (`GatewayRouter.engineFactory`), or core's registry's when it has none. */
export function routerFactories(router: GatewayRouter): EngineFactoryLookup {
  return typeof router.engineFactory === 'function' ? (kind) => router.engineFactory!(kind) : registeredFactory;
}

/**
 * The option paths the model's engine declares secret (`EngineFactory.secretOptions` of its factory in `factories`),
 * split at dots; undefined when none.
 */
function declaredSecrets(engine: string | undefined, factories: EngineFactoryLookup): string[][] | undefined {
  const paths = engine === undefined ? undefined : factories(engine)?.secretOptions;
  return paths && paths.length > 0 ? paths.map((p) => p.split('.')) : undefined;
}

/** The `declared` paths below key (or index) `key`: each path's rest where its first segment is `key` or `*`. */
function below(declared: string[][] | undefined, key: string): string[][] | undefined {
  if (declared === undefined) return undefined;
  const rest = declared.filter((p) => p[0] === key || p[0] === '*').map((p) => p.slice(1));
  return rest.length > 0 ? rest : undefined;
}

/**
 * Whether an option string reads as a URL with an authority (`scheme://...`: `https://`, `postgres://`, `redis://`),
 * whose userinfo and query values `redactURL` redacts (`endpoint: "https://fn.example/api?code=KEY"`, `proxy:
 * "http://user:pass@proxy:8080"`).
 */
function isURLOption(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}

/**
 * `value` with its secrets as `REDACTED_SECRET`: each string under a credential name (`isSecretOptionName`) or at a
 * path its engine declares (`declared`, `declaredSecrets`), the string itself or every string at any depth of an
 * array or object there; any other string that is a URL (`isURLOption`) with its userinfo and query values redacted
 * (`redactURL`); objects and arrays walked at any depth. `value` itself when it holds none (no copy).
 */
function redactValue(value: unknown, secret: boolean, declared?: string[][]): unknown {
  if (typeof value === 'string') return secret ? REDACTED_SECRET : isURLOption(value) ? redactURL(value, false) : value;
  if (value === null || typeof value !== 'object') return value;
  const walk = (v: unknown, key: string, named: boolean) => {
    const sub = below(declared, key);
    return redactValue(v, secret || named || (sub !== undefined && sub.some((p) => p.length === 0)), sub);
  };
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const next = walk(v, String(i), false);
      if (next !== v) (out ??= [...value])[i] = next;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const next = walk(v, k, isSecretOptionName(k));
    if (next !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = next;
  }
  return out ?? value;
}

/**
 * A model without its secrets (names and the rest kept): `apiKey`, each `headers` value, `baseURL`'s userinfo, query
 * values and fragment (`redactURL`; its path is kept), and the strings of credential-named `options` (`isSecretOptionName`, `redactValue`),
 * each as `REDACTED_SECRET`.
 */
function redactModel<M extends ModelSecrets>(model: M, factories: EngineFactoryLookup): M {
  const baseURL = model.baseURL === undefined ? undefined : redactURL(model.baseURL);
  const options = model.options === undefined ? undefined : (redactValue(model.options, false, declaredSecrets(model.engine, factories)) as Record<string, unknown>);
  if (model.apiKey === undefined && model.headers === undefined && baseURL === model.baseURL && options === model.options) return model;
  return {
    ...model,
    ...(model.apiKey !== undefined ? { apiKey: REDACTED_SECRET } : {}),
    ...(model.headers !== undefined ? { headers: Object.fromEntries(Object.keys(model.headers).map((name) => [name, REDACTED_SECRET])) } : {}),
    ...(baseURL !== undefined ? { baseURL } : {}),
    ...(options !== undefined ? { options } : {}),
  };
}

/**
 * Tenant models without their secrets (`redactModel`): as a server stores a v3 config's tenants' models (the router
 * serves those from the config itself, so the stored copy only shows them; a key given as `${VAR}` stays out of the
 * tenant store). The admin API shows them so too (`publicTenant`).
 */
export function redactModelSecrets<M extends ModelSecrets>(models: readonly M[], factories: EngineFactoryLookup = registeredFactory): M[] {
  return models.map((m) => redactModel(m, factories));
}

/**
 * A model as the admin API shows it: `redactModel`. A placeholder the store holds (a v3 config's tenant, stored so:
 * `redactModelSecrets`, that the config no longer lists) stands for no secret, and is shown as `REDACTED_SECRET` all
 * the same where the model cannot be called without it (its calls fail naming it, `TenantModelSync`): sent back as
 * shown, it is the 400 naming the field (`rejectRedacted`), so a tenant read back and saved never stores the model
 * without it (no key, no mark: it would be called without). Only a `[redacted]` `apiKey` beside `apiKeyEnv` is left
 * out: that variable is the model's key (as it is served), and saved back so the model keeps it.
 */
function shownModel<M extends ModelSecrets & { apiKeyEnv?: string | undefined }>(model: M, factories: EngineFactoryLookup): M {
  if (!isRedacted(model.apiKey) || model.apiKeyEnv === undefined) return redactModel(model, factories);
  const rest = { ...model };
  delete rest.apiKey;
  return redactModel(rest, factories);
}

/**
 * A tenant as the admin API shows it: its own models without their secrets (`shownModel`). `fromConfig`: a tenant the
 * router's v3 config defines, whose models the router serves from the config, with their secrets: a placeholder in
 * its stored copy stands for a secret that is set, so it is shown as one (`redactModel`).
 */
export function publicTenant(tenant: Tenant, fromConfig = false, factories: EngineFactoryLookup = registeredFactory): Tenant {
  return tenant.models ? { ...tenant, models: tenant.models.map((m) => (fromConfig ? redactModel(m, factories) : shownModel(m, factories))) } : tenant;
}

/**
 * Whether a secret is `REDACTED_SECRET`, ignoring spaces and line ends around it (as fetch ignores them around a
 * header value: `" [redacted]"` and `"[redacted]\n"` would go upstream as the placeholder).
 */
export function isRedacted(value: string | undefined): boolean {
  return value !== undefined && value.trim() === REDACTED_SECRET;
}

/** Whether a `baseURL` holds `REDACTED_SECRET` anywhere (as `redactURL` writes it, or percent-encoded). */
function urlRedacted(url: string | undefined): boolean {
  if (url === undefined) return false;
  const lower = url.toLowerCase();
  return lower.includes(REDACTED_SECRET) || lower.includes('%5bredacted%5d');
}

/**
 * The paths (dotted, from `at`) of the strings `redactValue` would redact in `value` that are `REDACTED_SECRET`, or, a
 * URL (`isURLOption`), hold it (`urlRedacted`).
 */
function redactedOptions(value: unknown, at: string, secret: boolean, declared: string[][] | undefined, found: string[]): string[] {
  if (typeof value === 'string') {
    if (secret ? isRedacted(value) : isURLOption(value) && urlRedacted(value)) found.push(at);
    return found;
  }
  if (value === null || typeof value !== 'object') return found;
  const walk = (v: unknown, key: string, named: boolean) => {
    const sub = below(declared, key);
    redactedOptions(v, `${at}.${key}`, secret || named || (sub !== undefined && sub.some((p) => p.length === 0)), sub, found);
  };
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, String(i), false));
  else for (const [k, v] of Object.entries(value)) walk(v, k, isSecretOptionName(k));
  return found;
}

/**
 * Where a model holds `REDACTED_SECRET` (`isRedacted`): `models.<i>.apiKey`, `models.<i>.headers.<name>`,
 * `models.<i>.baseURL`, `models.<i>.options.<path>`, in that order.
 */
export function redactedFields(model: ModelSecrets, i: number, factories: EngineFactoryLookup = registeredFactory): string[] {
  const fields = isRedacted(model.apiKey) ? [`models.${i}.apiKey`] : [];
  for (const [name, value] of Object.entries(model.headers ?? {})) if (isRedacted(value)) fields.push(`models.${i}.headers.${name}`);
  if (urlRedacted(model.baseURL)) fields.push(`models.${i}.baseURL`);
  if (model.options !== undefined) redactedOptions(model.options, `models.${i}.options`, false, declaredSecrets(model.engine, factories), fields);
  return fields;
}

/** At most this many fields are named in `rejectRedacted`'s message (the rest are counted: "and N more"). */
export const MAX_NAMED_REDACTED_FIELDS = 10;

/**
 * Refuses models whose `apiKey`, a `headers` value, `baseURL` or a credential option holds `REDACTED_SECRET`
 * (`redactedFields`, the engines' declared secrets looked up in `factories`; one 400 naming such fields of every model,
 * the first `MAX_NAMED_REDACTED_FIELDS` of them and how many more, `param` the first): a tenant read back from the
 * admin API and sent again would otherwise be stored with that text as its key, and every call of the model would fail
 * upstream. The stored secret stays as it was.
 */
export function rejectRedacted(models: ReadonlyArray<ModelSecrets> | null | undefined, factories: EngineFactoryLookup = registeredFactory): void {
  const fields = models?.flatMap((m, i) => redactedFields(m, i, factories));
  if (!fields?.length) return;
  const more = fields.length - MAX_NAMED_REDACTED_FIELDS;
  const named = more > 0 ? `${fields.slice(0, MAX_NAMED_REDACTED_FIELDS).join(', ')} and ${more} more field${more === 1 ? '' : 's'}` : fields.join(', ');
  throw new LLMError({
    code: 'invalid_request',
    message: `${named}: "${REDACTED_SECRET}" is how the admin API shows a stored secret, not one; send the value itself (or the key's variable as apiKeyEnv)`,
    param: fields[0]!,
  });
}
