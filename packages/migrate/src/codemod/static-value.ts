import type { Expression, Node, ObjectProperty } from '@babel/types';
import { type Path } from '../library/plain.js';

/** Where each value of a static literal sits in the source. */
export interface NodeIndex {
  /** Value node by path (`models\u00000`). */
  values: Map<string, Node>;
  /** The property node holding each object key, by the key's path. */
  props: Map<string, ObjectProperty>;
}

export type StaticResult = { ok: true; value: unknown; index: NodeIndex } | { ok: false; node: Node; reason: string };

export const pathKey = (p: Path): string => p.map(String).join('\u0000');

/** `x as const`, `x satisfies T`, `(x)`, `x!`, `<T>x` -> x. */
export function unwrap(node: Node): Node {
  let n = node;
  while (n.type === 'TSAsExpression' || n.type === 'TSSatisfiesExpression' || n.type === 'TSNonNullExpression' || n.type === 'TSTypeAssertion' || n.type === 'ParenthesizedExpression') {
    n = n.expression;
  }
  return n;
}

class NotStatic extends Error {
  constructor(
    readonly node: Node,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function describe(node: Node): string {
  switch (node.type) {
    case 'Identifier':
      return `the variable \`${node.name}\``;
    case 'CallExpression':
    case 'NewExpression':
      return 'a function call';
    case 'MemberExpression':
    case 'OptionalMemberExpression':
      return 'a property read (member expression)';
    case 'TemplateLiteral':
      return 'a template string with expressions';
    case 'ConditionalExpression':
    case 'LogicalExpression':
    case 'BinaryExpression':
      return 'an expression computed at run time';
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
      return 'a function';
    default:
      return `a ${node.type}`;
  }
}

/**
 * Reads an object/array literal made only of literals (strings, numbers, booleans, null, plain templates,
 * nested literals). Anything computed at run time (variables, spreads, computed keys, calls, methods) makes
 * it not static, with the node and the reason, so the codemod can report file:line and leave it alone.
 */
export function staticValue(root: Node): StaticResult {
  const index: NodeIndex = { values: new Map(), props: new Map() };
  const read = (raw: Node, path: Path): unknown => {
    const node = unwrap(raw);
    index.values.set(pathKey(path), node);
    switch (node.type) {
      case 'StringLiteral':
      case 'NumericLiteral':
      case 'BooleanLiteral':
        return node.value;
      case 'NullLiteral':
        return null;
      case 'TemplateLiteral':
        if (node.expressions.length) throw new NotStatic(node, describe(node));
        return node.quasis.map((q) => q.value.cooked ?? q.value.raw).join('');
      case 'UnaryExpression':
        if ((node.operator === '-' || node.operator === '+') && node.argument.type === 'NumericLiteral') {
          return node.operator === '-' ? -node.argument.value : node.argument.value;
        }
        throw new NotStatic(node, 'an expression computed at run time');
      case 'ArrayExpression':
        return node.elements.map((el, i) => {
          if (el === null) throw new NotStatic(node, 'an array with holes');
          if (el.type === 'SpreadElement') throw new NotStatic(el, 'a spread (`...`) in an array');
          return read(el, [...path, i]);
        });
      case 'ObjectExpression': {
        const out: Record<string, unknown> = {};
        for (const prop of node.properties) {
          if (prop.type === 'SpreadElement') throw new NotStatic(prop, 'a spread (`...`) in the object');
          if (prop.type === 'ObjectMethod') throw new NotStatic(prop, 'a method');
          if (prop.computed) throw new NotStatic(prop, 'a computed key (`[...]:`)');
          const k = prop.key;
          const name = k.type === 'Identifier' ? k.name : k.type === 'StringLiteral' ? k.value : k.type === 'NumericLiteral' ? String(k.value) : undefined;
          if (name === undefined) throw new NotStatic(prop, 'an unusual key');
          if (prop.shorthand) throw new NotStatic(prop, `the variable \`${name}\` (shorthand property)`);
          if (Object.hasOwn(out, name)) throw new NotStatic(prop, `the key "${name}" given twice`);
          index.props.set(pathKey([...path, name]), prop);
          out[name] = read(prop.value as Expression, [...path, name]);
        }
        return out;
      }
      case 'Identifier':
        if (node.name === 'undefined') throw new NotStatic(node, '`undefined`');
        throw new NotStatic(node, describe(node));
      default:
        throw new NotStatic(node, describe(node));
    }
  };
  try {
    return { ok: true, value: read(root, []), index };
  } catch (e) {
    if (e instanceof NotStatic) return { ok: false, node: e.node, reason: e.reason };
    throw e;
  }
}
