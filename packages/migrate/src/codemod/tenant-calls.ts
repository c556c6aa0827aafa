import type { CallExpression, Node } from '@babel/types';
import { lineEnding } from './print-js-value.js';
import type { Report } from './rewrite-imports.js';
import type { TextEdits } from './text-edits.js';

/** Router methods whose second argument is the call options (where v3 takes `tenant`). */
export const TENANT_METHODS = new Set(['generate', 'stream', 'chat', 'quick', 'batch', 'route']);

function quote(s: string, q: string): string {
  return q + s.replace(/\\/g, '\\\\').split(q).join(`\\${q}`) + q;
}

/**
 * Gives a router call the `tenant` option: `router.generate(p)` -> `router.generate(p, { tenant: 'acme' })`,
 * `{ ...opts }` gets a `tenant` property, a variable becomes `{ tenant: 'acme', ...opts }` (its own tenant
 * wins). Calls that already name a tenant are left alone (so a second run changes nothing).
 */
export function addTenant(call: CallExpression, tenant: string, source: string, edits: TextEdits, report: Report, q: string): void {
  const args = call.arguments;
  const method = call.callee.type === 'MemberExpression' && call.callee.property.type === 'Identifier' ? call.callee.property.name : 'call';
  const value = `tenant: ${quote(tenant, q)}`;
  if (args.some((a) => a.type === 'SpreadElement')) {
    report(call, `${method}(...) with spread arguments: add { tenant } to its options by hand`);
    return;
  }
  if (args.length === 0) {
    report(call, `${method}() without arguments: add the prompt and { tenant } by hand`);
    return;
  }
  if (args.length > 2) {
    report(call, `${method}(...) with ${args.length} arguments: the v2 router takes (input, options); add { tenant } by hand`);
    return;
  }
  const opts = args[1];
  if (opts === undefined) {
    edits.insert(args[0]!.end!, `, { ${value} }`);
    return;
  }
  if (opts.type === 'ObjectExpression') {
    const named = opts.properties.some((p) => p.type === 'ObjectProperty' && !p.computed && ((p.key.type === 'Identifier' && p.key.name === 'tenant') || (p.key.type === 'StringLiteral' && p.key.value === 'tenant')));
    if (named) return;
    const first = opts.properties[0];
    if (!first) {
      edits.replace(opts.start!, opts.end!, `{ ${value} }`);
      return;
    }
    const multiline = first.loc!.start.line !== opts.loc!.start.line;
    if (multiline) {
      const lineStart = source.lastIndexOf('\n', first.start! - 1) + 1;
      const indent = /^[ \t]*/.exec(source.slice(lineStart))![0];
      edits.insert(first.start!, `${value},${lineEnding(source)}${indent}`);
    } else edits.insert(first.start!, `${value}, `);
    return;
  }
  const text = source.slice(opts.start!, opts.end!);
  const simple = opts.type === 'Identifier' || opts.type === 'MemberExpression' || opts.type === 'CallExpression';
  edits.replace(opts.start!, opts.end!, `{ ${value}, ...${simple ? text : `(${text})`} }`);
}

/** The text that names a receiver (`router`, `this.router`), or undefined for other shapes. */
export function receiverKey(node: Node, source: string): string | undefined {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && (node.object.type === 'ThisExpression' || node.object.type === 'Identifier')) {
    return source.slice(node.start!, node.end!).replace(/\s+/g, '');
  }
  return undefined;
}
