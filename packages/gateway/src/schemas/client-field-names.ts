/**
 * How one route's client names core's request fields, so a warning's `field` (and an error's `param`) about core's
 * top-level `frequencyPenalty` is the client's `frequency_penalty`. Only fields that a client field of the route
 * produces are here: a core field the route never sets keeps core's name.
 */
export interface ClientFieldNames {
  /**
   * Core's field (or a dotted path under it, e.g. `responseFormat.strict`) -> the client's path. The longest entry
   * that is the path or a dotted prefix of it wins; the rest of the path is kept (`reasoning.effort` is
   * `reasoning_effort` when `reasoning` is).
   */
  readonly fields: Readonly<Record<string, string>>;
  /** Under core's `tools.K`: a tool's field -> the client's name of it under the client's `tools.K`. */
  readonly tool?: Readonly<Record<string, string>>;
  /**
   * Under a message the client names `messages.N` as core does (its messages one for one): a message's field (core's
   * `toolCallId`, `toolCalls`) -> the client's name of it (`tool_call_id`, `tool_calls`).
   */
  readonly message?: Readonly<Record<string, string>>;
  /** Under such a message's `toolCalls.K`: a tool call's field -> the client's path of it under the call (`function.arguments`). */
  readonly toolCall?: Readonly<Record<string, string>>;
  /** The client's name of core's `cacheControl` mark at the end of any path (`messages.2.content.0.cache_control`). */
  readonly mark?: string;
  /**
   * Under a message's content part (core's `messages.N.content.K`, once named as the client's: `input.1.content.0`, a
   * function output's `input.2.output.0`, a tool result's block `messages.1.content.0.content.2`): an image part's
   * field (core's `url`, `mediaType`, `data`) -> the client's path of it under the part (`image_url`, `source.url`).
   */
  readonly part?: Readonly<Record<string, string>>;
  /**
   * Core fields whose `false` is the client's `true` (`/v1/messages`' `tool_choice.disable_parallel_tool_use` is
   * core's `parallelToolCalls: false`): in a message, `<core> false` is `<client> true`.
   */
  readonly negated?: readonly string[];
  /**
   * Core's phrases (a field and its value) -> the client's, in the text of a warning or error whose field is renamed,
   * before the field names: `/v1/messages` `thinking: {type: "disabled"}` is core's `reasoning.budgetTokens 0`, which
   * that client reads as `thinking disabled` (it sent no `budget_tokens`).
   */
  readonly phrases?: Readonly<Record<string, string>>;
  /**
   * Core fields the gateway set itself, not from a client field (a legacy `functions` request's `parallelToolCalls:
   * false`): core's warnings about them are not shown (the client sent nothing of the kind).
   */
  readonly gatewaySet?: readonly string[];
}

const TOOL = /^tools\.(\d+)\.([A-Za-z_]+)/;
/** A field of a message (`messages.N.toolCallId`), and of one of its tool calls (`messages.N.toolCalls.K.arguments`): see `message`. */
const MESSAGE_FIELD = /^(messages\.\d+\.)([A-Za-z_]+)(?![A-Za-z0-9_])(?:(\.\d+\.)([A-Za-z_]+)(?![A-Za-z0-9_]))?/;
/** A field of a message's content part (a tool output's, a tool result's block), last in the path: see `part`. */
const PART_FIELD = /^((?:input|messages)\.\d+(?:\.(?:content|output)\.\d+)+\.)(url|mediaType|data)$/;
const MARK = '.cacheControl';

function own(table: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The entry of `fields` naming `path` or its longest dotted prefix, and the client's path for it. */
function renamedPrefix(path: string, names: ClientFieldNames): { core: string; client: string } | undefined {
  for (let end = path.length; end > 0; end = path.lastIndexOf('.', end - 1)) {
    const core = path.slice(0, end);
    const client = own(names.fields, core);
    if (client !== undefined) return { core, client: client + path.slice(end) };
  }
  return undefined;
}

/**
 * `path` (core's, after `messages.N` was made the client's message) as the client names it: a top-level field or a
 * path under it from `names.fields`, a tool's field from `names.tool`, a trailing `cacheControl` as `names.mark`, an
 * image part's field from `names.part`.
 * The path itself when the client names it as core does.
 */
export function clientFieldName(path: string, names: ClientFieldNames | undefined): string {
  if (names === undefined) return path;
  let out = path;
  if (names.mark !== undefined && (out === 'cacheControl' || out.endsWith(MARK))) out = out.slice(0, out.length - 'cacheControl'.length) + names.mark;
  const part = names.part === undefined ? null : PART_FIELD.exec(out);
  const partField = part ? own(names.part, part[2]!) : undefined;
  if (partField !== undefined) {
    // The part's path itself as the client's too (core's `messages` is `input` on /v1/responses).
    const at = part![1]!.slice(0, -1);
    return `${renamedPrefix(at, names)?.client ?? at}.${partField}`;
  }
  const tool = TOOL.exec(out);
  const field = tool ? own(names.tool, tool[2]!) : undefined;
  if (tool && field !== undefined) return `tools.${tool[1]}.${field}${out.slice(tool[0].length)}`;
  const message = names.message === undefined ? null : MESSAGE_FIELD.exec(out);
  const messageField = message ? own(names.message, message[2]!) : undefined;
  if (messageField !== undefined) {
    const [whole, at, , index, sub] = message!;
    const callField = sub === undefined ? undefined : own(names.toolCall, sub);
    const rest = index === undefined ? '' : `${index}${callField ?? sub}`;
    return `${at}${messageField}${rest}${out.slice(whole.length)}`;
  }
  return renamedPrefix(out, names)?.client ?? out;
}

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `message` naming the client's `client` where it names core's `core` (a warning's or an error's field, as a
 * whole word: not part of a longer name, of a dotted path (`providerOptions.gemini.generationConfig.frequencyPenalty`
 * stays) nor of a hyphenated word of the engine's prose ("no end-user id field" stays)), and `<core> false` as
 * `<client> true` for a negated field.
 */
export function clientFieldText(message: string, core: string, client: string, names: ClientFieldNames | undefined): string {
  if (core === client) return message;
  if (names?.phrases !== undefined) for (const [from, to] of Object.entries(names.phrases)) message = message.replaceAll(from, to);
  const negated = names?.negated?.some((n) => n === core) === true;
  const pattern = new RegExp(`(?<![A-Za-z0-9_.-])${literal(core)}${negated ? '( false)?' : ''}(?![A-Za-z0-9_-]|\\.[A-Za-z0-9_])`, 'g');
  // Without the group the second argument is the match's offset (a number).
  return message.replace(pattern, (_, no: unknown) => (typeof no === 'string' ? `${client} true` : client));
}

/** A core field name in camelCase (`maxTokens`, `toolChoice.name`): never a plain word of a message's prose. */
const CAMEL = /[a-z][A-Z]/;

/**
 * `message` naming the client's fields where it names, as a whole word, a core field other than its own `field` (a
 * context-window refusal about `messages` counts `20 maxTokens`: the client's `max_tokens`). Only for an error core
 * or the gateway wrote about the request: never a warning's text nor a provider's error, which may quote the client's
 * own words (a strict tool schema's keyword `maxTokens`) or the upstream's. Only the camelCase
 * names: core's plain-word names (`stop`, `user`, `reasoning`) are words of the prose too, and are renamed only as the
 * message's own field (`clientFieldText`). The same string when none is there.
 */
export function otherClientFieldsText(message: string, names: ClientFieldNames | undefined): string {
  if (names === undefined) return message;
  for (const core in names.fields) {
    if (!CAMEL.test(core) || !message.includes(core)) continue;
    message = clientFieldText(message, core, names.fields[core]!, names);
  }
  return message;
}
