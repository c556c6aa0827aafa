import type { Node as JsonNode, ParseError } from 'jsonc-parser';
import type { Document } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/** A parsed config text: its value, and where a field path sits in the text (for error messages). */
export interface ParsedText {
  data: unknown;
  /** Position of the field at `path`, or of its nearest existing parent; undefined when unknown. */
  locate(path: ReadonlyArray<string | number>): Position | undefined;
}

/** A syntax error with its position. */
export class TextSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position | undefined,
  ) {
    super(message);
  }
}

export type TextFormat = 'json' | 'yaml';

/**
 * Parses config text; rejects with `TextSyntaxError` (with line and column where known) when it is malformed.
 * The parsers are imported on first use: a router configured by an object (the gateway server's embedded default)
 * never loads them (about 1.5-3 MB of resident memory).
 */
export async function parseConfigText(text: string, format: TextFormat): Promise<ParsedText> {
  const clean = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return format === 'json' ? parseJson(clean, await import('jsonc-parser')) : parseYaml(clean, await import('yaml'));
}

function parseJson(text: string, { findNodeAtLocation, parseTree, printParseErrorCode }: typeof import('jsonc-parser')): ParsedText {
  // jsonc-parser finds the error position (JSON.parse's messages do not reliably carry one); strict JSON.
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) throw new TextSyntaxError(humanize(printParseErrorCode(first.error)), positionAt(text, first.offset));
  let data: unknown;
  try {
    // JSON.parse builds the value: exact JSON semantics (a `__proto__` key stays data).
    data = JSON.parse(text);
  } catch (e) {
    throw new TextSyntaxError((e as Error).message, undefined);
  }
  return {
    data,
    locate: (path) => {
      if (!tree) return undefined;
      for (let n = path.length; n >= 0; n--) {
        const node: JsonNode | undefined = findNodeAtLocation(tree, path.slice(0, n) as Array<string | number>);
        if (node) return positionAt(text, node.offset);
      }
      return undefined;
    },
  };
}

/**
 * yaml's `maxAliasCount`: `toJS` refuses a document, as a possible alias bomb, once an anchor is aliased this many
 * times (each use weighted by the aliases inside the anchored node): 999 models may merge one defaults map
 * (`<<: *defaults`); yaml's default, 100, stopped at 99.
 */
const YAML_MAX_ALIAS_COUNT = 1000;

/**
 * The most values (scalars, maps, lists) a YAML config may expand to with its aliases resolved. yaml's alias count
 * does not bound the size: an anchor of 20 000 values aliased 999 times (a 45 KB file) expanded to 20 million (seconds,
 * hundreds of MB). A config of 999 models merging one defaults map expands to some thousands.
 */
const YAML_MAX_EXPANDED_VALUES = 1_000_000;

function parseYaml(text: string, yaml: typeof import('yaml')): ParsedText {
  const { isNode, LineCounter, parseDocument } = yaml;
  const lineCounter = new LineCounter();
  // `merge`: `<<: *defaults` merge keys are applied (YAML 1.1's, which most YAML tools still apply), not a key "<<".
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    throw new TextSyntaxError(first.message, { line: pos.line, column: pos.col });
  }
  if (expandedValues(doc, yaml) > YAML_MAX_EXPANDED_VALUES) {
    throw new TextSyntaxError(`its aliases expand it to more than ${YAML_MAX_EXPANDED_VALUES} values: refused as a possible alias bomb`, undefined);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
  } catch (e) {
    // Not in `doc.errors`: a merge key whose source is not a map, an anchor aliased too often (yaml's ReferenceError).
    const message = (e as Error)?.message ?? String(e);
    if (/^Merge sources must be maps/.test(message)) {
      const offset = badMergeOffset(doc, yaml);
      const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
      throw new TextSyntaxError('a merge key (<<) takes a map, an alias of a map, or a list of them', pos && { line: pos.line, column: pos.col });
    }
    if (/^Excessive alias count/.test(message)) {
      throw new TextSyntaxError(`an anchor is aliased ${YAML_MAX_ALIAS_COUNT} times or more (each use weighted by the aliases inside it): refused as a possible alias bomb`, undefined);
    }
    throw new TextSyntaxError(message, undefined);
  }
  return {
    data,
    locate: (path) => {
      for (let n = path.length; n >= 0; n--) {
        const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) {
          const pos = lineCounter.linePos(node.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
      return undefined;
    },
  };
}

/**
 * How many values (scalars, maps, lists; a map's keys count) `doc` holds with every alias replaced by what it names,
 * in one pass over its nodes in document order: an alias names the last anchor of its name before it, whose size is
 * known by then (yaml's `Alias.resolve` searches the whole document for each alias: quadratic).
 */
function expandedValues(doc: Document, { isAlias, isMap, isPair, isSeq }: typeof import('yaml')): number {
  const anchors = new Map<string, unknown>();
  const sizes = new Map<unknown, number>();
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      // A scalar (or an alias inside its own anchor, which yaml refuses anyway) counts one.
      return (target !== undefined && sizes.get(target)) || 1;
    }
    const anchor = (node as { anchor?: unknown } | null)?.anchor;
    if (typeof anchor === 'string') anchors.set(anchor, node);
    if (!isMap(node) && !isSeq(node)) return 1;
    let n = 1;
    for (const item of node.items) n += isPair(item) ? size(item.key) + size(item.value) : size(item);
    sizes.set(node, n);
    return n;
  };
  return doc.contents === null ? 0 : size(doc.contents);
}

/** Where the first merge key (`<<`) whose source is not a map (nor a list of maps, or aliases of them) starts. */
function badMergeOffset(doc: Document, { isAlias, isMap, isScalar, isSeq, visit }: typeof import('yaml')): number | undefined {
  const resolved = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  let offset: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (!isScalar(key) || !(key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'))) return undefined;
      const source = resolved(pair.value);
      const sources = isSeq(source) ? source.items : [source];
      if (sources.every((s) => isMap(resolved(s)))) return undefined;
      offset = key.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** 1-based line and column of a character offset. */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** `PropertyNameExpected` -> `property name expected`. */
function humanize(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
