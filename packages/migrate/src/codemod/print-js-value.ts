import type { Comment, Node, ObjectProperty } from '@babel/types';
import { deepEqual, getAt, isPlainObject, type Path } from '../library/plain.js';
import type { OriginMap } from './origin-map.js';
import { childComments, commentText, type NodeComments } from './source-comments.js';
import { pathKey, type NodeIndex } from './static-value.js';

export interface JsStyle {
  quote: "'" | '"';
  /** Line ending: the file's first (`\r\n` or `\n`). */
  eol: string;
  /** One level of indentation. */
  unit: string;
  trailingComma: boolean;
  quoteKeys: boolean;
}

export interface PrintContext {
  source: string;
  comments: readonly Comment[];
  index: NodeIndex;
  origins: OriginMap;
  oldValue: unknown;
  style: JsStyle;
}

const MAX_INLINE = 80;
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The indentation of the line `offset` is on. */
export function lineIndent(source: string, offset: number): string {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))![0];
}

/** The line ending of a text: that of its first line, `\n` for a single line. */
export function lineEnding(source: string): string {
  return /\r?\n/.exec(source)?.[0] ?? '\n';
}

/** Detects quote style, line ending, indent unit and trailing commas from the file. */
export function detectStyle(source: string, keysQuoted: boolean): JsStyle {
  const single = (source.match(/(^|[^\\\w])'[^'\n]*'/g) ?? []).length;
  const double = (source.match(/(^|[^\\\w])"[^"\n]*"/g) ?? []).length;
  const indents = [...source.matchAll(/\n([ \t]+)\S/g)].map((m) => m[1]!);
  const tabs = indents.filter((i) => i.startsWith('\t')).length;
  const spaces = indents.filter((i) => i.startsWith(' ')).map((i) => i.length);
  const unit = tabs > spaces.length ? '\t' : ' '.repeat(spaces.length ? Math.min(...spaces.filter((n) => n > 0)) || 2 : 2);
  return {
    quote: double > single ? '"' : "'",
    eol: lineEnding(source),
    unit: unit.length > 8 ? '  ' : unit,
    trailingComma: /,[ \t]*(\/\/[^\n]*)?\r?\n[ \t]*[}\]]/.test(source),
    quoteKeys: keysQuoted,
  };
}

function quoteString(s: string, q: "'" | '"'): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return q + escaped.split(q).join(`\\${q}`) + q;
}

/**
 * Prints a migrated config as a JS object literal in the file's style. Subtrees that did not change are
 * the original source text (re-indented when they moved); moved keys take their comments along; comments
 * whose key disappeared are kept at the top of the object.
 */
export function printJsValue(value: unknown, ctx: PrintContext, rootNode: Node): string {
  const used = new Set<Comment>();
  const { style, source } = ctx;
  const oldNode = (p: Path | undefined): Node | undefined => (p ? ctx.index.values.get(pathKey(p)) : undefined);
  const oldProp = (p: Path | undefined): ObjectProperty | undefined => (p ? ctx.index.props.get(pathKey(p)) : undefined);

  // Comments of every old object property and array element, by node.
  const around = new Map<Node, NodeComments>();
  const leftovers: Comment[] = [];
  for (const node of ctx.index.values.values()) {
    if (node.type === 'ObjectExpression' || node.type === 'ArrayExpression') {
      const children = (node.type === 'ObjectExpression' ? node.properties : node.elements).filter((c): c is NonNullable<typeof c> => c !== null);
      const { byChild, rest } = childComments(node, children, ctx.comments);
      for (const [k, v] of byChild) around.set(k, v);
      leftovers.push(...rest);
    }
  }
  const take = (list: readonly Comment[] | undefined): Comment[] => (list ?? []).filter((c) => !used.has(c) && (used.add(c), true));
  const markWithin = (node: Node) => {
    for (const c of ctx.comments) if (c.start! >= node.start! && c.end! <= node.end!) used.add(c);
  };

  const reindent = (text: string, from: string, to: string): string =>
    text
      .split('\n')
      .map((line, i) => (i > 0 && line.startsWith(from) ? to + line.slice(from.length) : line))
      .join('\n');

  const printKey = (k: string, prop: ObjectProperty | undefined): string => {
    if (prop && !prop.computed) {
      const keyNode = prop.key;
      const name = keyNode.type === 'Identifier' ? keyNode.name : keyNode.type === 'StringLiteral' ? keyNode.value : undefined;
      if (name === k) return source.slice(keyNode.start!, keyNode.end!);
    }
    return IDENT.test(k) && !style.quoteKeys ? k : quoteString(k, style.quote);
  };

  const print = (v: unknown, path: Path, indent: string): string => {
    const o = ctx.origins.origin(path);
    const old = oldNode(o);
    if (o && old && deepEqual(getAt(ctx.oldValue, o), v)) {
      markWithin(old);
      return reindent(source.slice(old.start!, old.end!), lineIndent(source, old.start!), indent);
    }
    const wasMultiline = old !== undefined && old.loc!.start.line !== old.loc!.end.line;
    const inner = indent + style.unit;
    type Entry = { text: string; leading: Comment[]; trailing: Comment[] };
    let entries: Entry[];
    let open: string;
    let close: string;
    if (isPlainObject(v)) {
      [open, close] = ['{', '}'];
      entries = Object.entries(v).map(([k, child]) => {
        const childPath = [...path, k];
        const co = ctx.origins.origin(childPath);
        const prop = oldProp(co);
        const c = prop ? around.get(prop) : undefined;
        const elementComments = !prop && co ? around.get(oldNode(co) as Node) : undefined;
        return {
          text: `${printKey(k, prop)}: ${print(child, childPath, inner)}`,
          leading: take(c?.leading ?? elementComments?.leading),
          trailing: take(c?.trailing ?? elementComments?.trailing),
        };
      });
    } else if (Array.isArray(v)) {
      [open, close] = ['[', ']'];
      entries = v.map((child, i) => {
        const childPath = [...path, i];
        const co = ctx.origins.origin(childPath);
        const el = oldNode(co);
        const c = el ? around.get(el) : undefined;
        const prop = !c && co ? oldProp(co) : undefined;
        const pc = prop ? around.get(prop) : undefined;
        return { text: print(child, childPath, inner), leading: take(c?.leading ?? pc?.leading), trailing: take(c?.trailing ?? pc?.trailing) };
      });
    } else {
      if (old) markWithin(old);
      if (typeof v === 'string') return quoteString(v, style.quote);
      return JSON.stringify(v);
    }
    if (path.length === 0) {
      const extra = take(leftovers.filter((c) => !used.has(c)));
      if (extra.length) {
        if (entries[0]) entries[0].leading.unshift(...extra);
        else entries.push({ text: '', leading: extra, trailing: [] });
      }
    }
    if (entries.length === 0) return `${open}${close}`;
    const hasComments = entries.some((e) => e.leading.length || e.trailing.length);
    const flat = open === '{' ? `{ ${entries.map((e) => e.text).join(', ')} }` : `[${entries.map((e) => e.text).join(', ')}]`;
    if (!hasComments && !wasMultiline && path.length > 0 && !flat.includes('\n') && indent.length + flat.length <= MAX_INLINE) return flat;
    const lines: string[] = [open];
    entries.forEach((e, i) => {
      for (const c of e.leading) lines.push(inner + commentText(c));
      if (e.text === '') return;
      const comma = i < entries.length - 1 || style.trailingComma ? ',' : '';
      const trail = e.trailing.length ? ` ${e.trailing.map(commentText).join(' ')}` : '';
      lines.push(inner + e.text + comma + trail);
    });
    lines.push(indent + close);
    return lines.join(style.eol);
  };
  return print(value, [], lineIndent(source, rootNode.start!));
}
