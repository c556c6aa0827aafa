import type { Node as JsonNode, ParseError } from 'jsonc-parser';
import type { Document } from 'yaml';
import { YAML_MAX_ALIAS_COUNT, yamlExpansionRefusal } from './yaml-bounds.js';

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
  const refusal = yamlExpansionRefusal(doc, yaml);
  if (refusal !== undefined) throw new TextSyntaxError(refusal, undefined);
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
