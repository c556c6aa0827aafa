import type { Node } from '@babel/types';
import { walk } from './walk.js';

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod']);
const CLASSES = new Set(['ClassDeclaration', 'ClassExpression']);

/** Local names a binding pattern (`x`, `{ a, b: c }`, `[d, ...e]`, `f = 1`) declares. */
export function patternNames(node: Node): string[] {
  if (node.type === 'Identifier') return [node.name];
  if (node.type === 'ObjectPattern') return node.properties.flatMap((p) => patternNames(p.type === 'RestElement' ? p.argument : p.value));
  if (node.type === 'ArrayPattern') return node.elements.flatMap((e) => (e ? patternNames(e) : []));
  if (node.type === 'AssignmentPattern') return patternNames(node.left);
  if (node.type === 'RestElement') return patternNames(node.argument);
  if (node.type === 'TSParameterProperty') return patternNames(node.parameter);
  return [];
}

/** Names a statement of a statement list declares there (`let`/`const`/`var`, functions, classes, imports). */
function statementNames(stmt: Node, withVar: boolean): string[] {
  const s = (stmt.type === 'ExportNamedDeclaration' || stmt.type === 'ExportDefaultDeclaration') && stmt.declaration ? stmt.declaration : stmt;
  if (s.type === 'VariableDeclaration') return s.kind === 'var' && !withVar ? [] : s.declarations.flatMap((d) => patternNames(d.id));
  if ((s.type === 'FunctionDeclaration' || s.type === 'ClassDeclaration' || s.type === 'TSEnumDeclaration') && s.id) return [s.id.name];
  if (s.type === 'TSModuleDeclaration' && s.id.type === 'Identifier') return [s.id.name];
  if (s.type === 'ImportDeclaration') return s.specifiers.map((sp) => sp.local.name);
  if (s.type === 'TSImportEqualsDeclaration') return [s.id.name];
  return [];
}

/** `var` declarations in a function body, not crossing nested functions or namespaces (they are hoisted to the function). */
function varNames(body: Node): string[] {
  const out: string[] = [];
  walk(body, (node) => {
    if (FUNCTIONS.has(node.type) || (node !== body && node.type === 'TSModuleBlock')) return false;
    if (node.type === 'VariableDeclaration' && node.kind === 'var') out.push(...node.declarations.flatMap((d) => patternNames(d.id)));
    return undefined;
  });
  return out;
}

/**
 * Lexical scopes, enough to tell which declaration a name refers to: the router a call is made on is the
 * one in scope there, not another binding of the same name (a parameter called `router`).
 */
export class Scopes {
  private readonly names = new Map<Node, Set<string>>();

  /** Names a scope node binds (empty for nodes that are not scopes). */
  private bound(node: Node): Set<string> {
    let set = this.names.get(node);
    if (set) return set;
    const list: string[] = [];
    if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression' || node.type === 'ObjectMethod' || node.type === 'ClassMethod' || node.type === 'ClassPrivateMethod') {
      for (const p of node.params) list.push(...patternNames(p));
      if (node.type === 'FunctionExpression' && node.id) list.push(node.id.name);
      list.push(...varNames(node.body));
    } else if (node.type === 'Program' || node.type === 'TSModuleBlock') {
      // A TypeScript namespace body is a function body once compiled: its `var`s stay in it.
      for (const s of node.body) list.push(...statementNames(s, true));
      list.push(...varNames(node));
    } else if (node.type === 'BlockStatement' || node.type === 'StaticBlock') {
      for (const s of node.body) list.push(...statementNames(s, false));
    } else if (node.type === 'SwitchStatement') {
      for (const c of node.cases) for (const s of c.consequent) list.push(...statementNames(s, false));
    } else if (node.type === 'CatchClause' && node.param) {
      list.push(...patternNames(node.param));
    } else if (node.type === 'ForStatement' || node.type === 'ForInStatement' || node.type === 'ForOfStatement') {
      const decl = node.type === 'ForStatement' ? node.init : node.left;
      if (decl?.type === 'VariableDeclaration' && decl.kind !== 'var') list.push(...decl.declarations.flatMap((d) => patternNames(d.id)));
    } else if (node.type === 'ClassExpression' && node.id) {
      list.push(node.id.name);
    }
    set = new Set(list);
    this.names.set(node, set);
    return set;
  }

  /** The scope node that declares `name` as seen from a node with these ancestors (nearest last); undefined for a global. */
  declaring(name: string, ancestors: readonly Node[]): Node | undefined {
    for (let i = ancestors.length - 1; i >= 0; i--) if (this.bound(ancestors[i]!).has(name)) return ancestors[i];
    return undefined;
  }

  /**
   * What `this` is, as seen from these ancestors: the class for its instance members, the class body for its
   * static members (`this` is the class itself), a `function` or object method for its own `this` (arrow
   * functions have none); undefined at the top level.
   */
  thisClass(ancestors: readonly Node[]): Node | undefined {
    for (let i = ancestors.length - 1; i >= 0; i--) {
      const node = ancestors[i]!;
      if (CLASSES.has(node.type)) return node;
      if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ObjectMethod') return node;
      const member = node.type === 'ClassMethod' || node.type === 'ClassPrivateMethod' || node.type === 'ClassProperty' || node.type === 'ClassPrivateProperty';
      if ((member && node.static) || node.type === 'StaticBlock') return ancestors[i - 1];
    }
    return undefined;
  }
}
