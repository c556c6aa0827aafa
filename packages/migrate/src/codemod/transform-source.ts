import type { Comment, File, NewExpression, Node, ObjectExpression } from '@babel/types';
import { LLMError } from '@llmrr/core';
import { detectVersion } from '../library/detect-version.js';
import { migrate } from '../library/migrate.js';
import { isPlainObject } from '../library/plain.js';
import { OriginMap } from './origin-map.js';
import { parseSource } from './parse-source.js';
import { detectStyle, printJsValue, type JsStyle } from './print-js-value.js';
import { rewriteImports, type ImportFindings } from './rewrite-imports.js';
import { staticValue, unwrap } from './static-value.js';
import { addTenant, receiverKey, TENANT_METHODS } from './tenant-calls.js';
import { Scopes } from './scope.js';
import { rewriteV1Call } from './v1-calls.js';
import { TextEdits } from './text-edits.js';
import type { FileTransformOptions, FileTransformResult } from './types.js';
import { walk } from './walk.js';

interface RouterSite {
  node: NewExpression;
  /** `router`, `this.router`: what calls on this router look like. */
  receiver: string | undefined;
  /** What the receiver's name is bound to (see `binding`): calls on another `router` are not this router's. */
  binding: Node | undefined;
  /** The tenant its calls name with `--to v3`, once its config is known. */
  config?: { tenant: string | undefined };
}

/** The declaration a receiver key refers to from a place: its root name's scope, or the class for `this.x`. */
function binding(key: string, ancestors: readonly Node[], scopes: Scopes): Node | undefined {
  return key.startsWith('this.') ? scopes.thisClass(ancestors) : scopes.declaring(key.split('.')[0]!, ancestors);
}

/** The receiver a `new LLMRouter(...)` is stored in: `const router = ...`, `this.router = ...`, a class field. */
function receiverOf(ancestors: readonly Node[], source: string): string | undefined {
  let i = ancestors.length - 1;
  while (i >= 0 && (ancestors[i]!.type === 'AwaitExpression' || ancestors[i]!.type === 'ParenthesizedExpression' || ancestors[i]!.type === 'TSAsExpression')) i--;
  const parent = ancestors[i];
  if (!parent) return undefined;
  if (parent.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
  if (parent.type === 'AssignmentExpression') return receiverKey(parent.left, source);
  if ((parent.type === 'ClassProperty' || parent.type === 'ClassPrivateProperty') && parent.key.type === 'Identifier') return `this.${parent.key.name}`;
  return undefined;
}

/** Whether the file declares `name` itself (a variable, class, function or `import x = require(...)`), at any depth. */
function declaresName(ast: File, name: string): boolean {
  let found = false;
  walk(ast.program, (node) => {
    if (found) return false;
    if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier') found = node.id.name === name;
    else if ((node.type === 'ClassDeclaration' || node.type === 'FunctionDeclaration' || node.type === 'TSImportEqualsDeclaration') && node.id?.name === name) found = true;
  });
  return found;
}

/**
 * Upgrades JS/TS source: imports of `llm-runner-router` to `@llmrr/core`, literal `new LLMRouter({...})`
 * configs (inline or in a `const` of the same file) to v2/v3, and for v3 router calls to name the tenant.
 * Edits are text replacements at the parsed nodes' positions, so everything else stays byte for byte.
 */
export function transformSource(file: string, input: string, options: FileTransformOptions): FileTransformResult {
  const result: FileTransformResult = { file, kind: 'source', output: input, changed: false, issues: [], skipped: [], errors: [] };
  let ast: File;
  try {
    ast = parseSource(file, input);
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    // Babel recurses per level: source nested thousands of levels deep runs it out of stack.
    result.errors.push(`cannot parse: ${e instanceof RangeError ? 'nested too deep to read (the parser ran out of stack)' : err.message}`);
    return result;
  }
  const edits = new TextEdits();
  const report = (node: Node, reason: string) => {
    result.skipped.push({ file, line: node.loc?.start.line ?? 0, column: (node.loc?.start.column ?? 0) + 1, reason });
  };
  const warn = (node: Node, message: string) => {
    result.issues.push({ path: '', message, severity: 'warning', line: node.loc?.start.line });
  };
  const findings: ImportFindings = rewriteImports(ast, input, edits, report, warn);
  const routerNames = new Set(findings.routerNames);
  // `new LLMRouter` with no import in this file (a global, a setup file's import) is converted, unless a use of
  // the old package left here may be what binds it. One imported from another module (a local wrapper, another
  // library) or declared here is that module's or this code's business, and left alone.
  const otherBinding = findings.importedFrom.get('LLMRouter') ?? (declaresName(ast, 'LLMRouter') ? 'this file' : undefined);
  const unbound = routerNames.size === 0 && !findings.legacyNames.has('LLMRouter') && otherBinding === undefined && /\bnew\s+LLMRouter\b/.test(input);
  if (routerNames.size === 0 && otherBinding !== undefined && !findings.legacyNames.has('LLMRouter') && /\bnew\s+LLMRouter\b/.test(input)) {
    result.issues.push({ path: '', message: `new LLMRouter(...): LLMRouter comes from ${otherBinding === 'this file' ? 'a declaration in this file' : `"${otherBinding}"`}, not llm-runner-router: left alone`, severity: 'info' });
  }
  if (unbound && !findings.unboundLegacy) routerNames.add('LLMRouter');
  const comments = (ast.comments ?? []) as Comment[];
  const style = detectStyle(input, false);

  // Declarations by name, to follow `new LLMRouter(config)` to `const config = {...}`.
  const declarations = new Map<string, Node[]>();
  const assigned = new Set<string>();
  walk(ast.program, (node) => {
    if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier') {
      const list = declarations.get(node.id.name) ?? [];
      list.push(node);
      declarations.set(node.id.name, list);
    }
    if (node.type === 'AssignmentExpression' && node.left.type === 'Identifier') assigned.add(node.left.name);
  });

  const scopes = new Scopes();
  const sites: RouterSite[] = [];
  walk(ast.program, (node, ancestors) => {
    if (node.type !== 'NewExpression' || node.callee.type !== 'Identifier') return;
    const name = node.callee.name;
    if (routerNames.has(name)) {
      const receiver = receiverOf(ancestors, input);
      sites.push({ node, receiver, binding: receiver === undefined ? undefined : binding(receiver, ancestors, scopes) });
    } else if (findings.legacyNames.has(name)) {
      report(node, `new ${name}(...): ${name} still comes from "llm-runner-router" (not converted), so its config is left as v1`);
    } else if (unbound && name === 'LLMRouter') {
      report(node, 'new LLMRouter(...): LLMRouter is not imported here and "llm-runner-router" is used in a way the codemod does not convert, so it may still be v1: its config is left as v1');
    }
  });

  const converted = new Map<Node, RouterSite['config']>();
  for (const site of sites) {
    const arg = site.node.arguments[0];
    if (!arg) {
      report(site.node, 'new LLMRouter() without a config: v2 needs a config with models (list the models you load with router.load)');
      continue;
    }
    let literal: Node | undefined;
    const a = unwrap(arg);
    if (a.type === 'ObjectExpression') literal = a;
    else if (a.type === 'Identifier') {
      const decls = declarations.get(a.name) ?? [];
      const from = findings.importedFrom.get(a.name);
      const only = decls.length === 1 ? decls[0] : undefined;
      const init = only && only.type === 'VariableDeclarator' && only.init ? unwrap(only.init) : undefined;
      if (from !== undefined && /\.(json|ya?ml)$/i.test(from)) {
        result.issues.push({ path: '', message: `config imported from "${from}": the code needs no change; migrate that file (pass it to llmrr-migrate)`, severity: 'info', line: a.loc?.start.line });
      } else if (from !== undefined) {
        report(a, `config imported from "${from}": convert it there (a literal config in that file is converted when the file is passed to llmrr-migrate); this call is left as is`);
      } else if (init?.type === 'ObjectExpression' && !assigned.has(a.name)) {
        literal = init;
      } else {
        report(a, `config from the variable \`${a.name}\`${decls.length > 1 ? ' (declared more than once)' : assigned.has(a.name) ? ' (assigned more than once)' : ' (not a literal object in this file)'}: convert it by hand or keep it in a config file`);
      }
    } else if (arg.type === 'SpreadElement') {
      report(arg, 'new LLMRouter(...args) with a spread argument: cannot tell the config');
    } else {
      report(arg, 'config built at run time (not an object literal): convert it by hand or keep it in a config file');
    }
    if (!literal) continue;
    if (!converted.has(literal)) converted.set(literal, convertLiteral(literal as ObjectExpression, input, comments, style, options, edits, result, report));
    site.config = converted.get(literal);
  }

  const info = (node: Node, message: string) => {
    result.issues.push({ path: '', message, severity: 'info', line: node.loc?.start.line });
  };
  walk(ast.program, (node, ancestors) => {
    if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression' || node.callee.computed) return;
    const prop = node.callee.property;
    if (prop.type !== 'Identifier') return;
    const key = receiverKey(node.callee.object, input);
    if (key === undefined) return;
    // The router this call is made on: same receiver text, and the name bound to the same declaration.
    const site = sites.find((s) => s.receiver === key && s.binding === binding(key, ancestors, scopes));
    if (!site) return;
    if (findings.usedLegacy && !rewriteV1Call(node, ancestors, input, edits, report, info)) return;
    if (options.to !== 3 || !TENANT_METHODS.has(prop.name)) return;
    // A config known here says the tenant; one from elsewhere (a file, an import) gets --tenant.
    const tenant = site.config ? site.config.tenant : options.tenant;
    if (tenant === undefined) {
      report(node, `${key}.${prop.name}(...) left without a tenant: no tenant is configured (pass --tenant)`);
      return;
    }
    addTenant(node, tenant, input, edits, report, style.quote);
  });

  // A config that could not be migrated leaves the whole file as it is.
  if (edits.size && !result.errors.length) {
    result.output = edits.apply(input);
    result.changed = result.output !== input;
  }
  return result;
}

/**
 * The tenant calls on a router with this (v3) config name: `--tenant` when the config lists it, else the
 * config's `defaultTenant` (a `--tenant` the config does not list is reported: the router would refuse it).
 */
function callTenant(config: unknown, options: FileTransformOptions, warn: (message: string) => void): string | undefined {
  if (!isPlainObject(config)) return undefined;
  const listed = Array.isArray(config.tenants) ? config.tenants.filter(isPlainObject).map((t) => t.id) : [];
  const own = typeof config.defaultTenant === 'string' ? config.defaultTenant : undefined;
  if (options.tenant === undefined || listed.includes(options.tenant)) return options.tenant ?? own;
  warn(`--tenant "${options.tenant}" is not a tenant of this config (it lists ${listed.map((t) => `"${String(t)}"`).join(', ') || 'none'}): its calls get ${own === undefined ? 'no tenant' : `its defaultTenant "${own}"`}; add the tenant to the config to use it`);
  return own;
}

/** Migrates one literal config in place (as text edits); returns the tenant its router's calls name, or undefined if the config cannot be migrated. */
function convertLiteral(
  literal: ObjectExpression,
  source: string,
  comments: readonly Comment[],
  style: JsStyle,
  options: FileTransformOptions,
  edits: TextEdits,
  result: FileTransformResult,
  report: (node: Node, reason: string) => void,
): RouterSite['config'] {
  const line = literal.loc!.start.line;
  const warn = (message: string) => result.issues.push({ path: '', message, severity: 'warning', line });
  const read = staticValue(literal);
  if (!read.ok) {
    report(read.node, `the LLMRouter config at line ${literal.loc!.start.line} uses ${read.reason}: left as is (convert it by hand)`);
    return undefined;
  }
  const value = read.value;
  const version = detectVersion(value);
  // No models list (`{}`, `{ timeout: 5000 }`): v1's pattern of loading them at run time with `router.load`. Not a
  // mistake of the file but a change to make by hand, whatever other keys the config has: a place it cannot convert.
  if (version === undefined || (version === 1 && isPlainObject(value) && value.models === undefined)) {
    report(literal, 'the LLMRouter config has no models: v2 needs them (list the models you load with router.load)');
    return undefined;
  }
  if (version >= options.to) return { tenant: callTenant(value, options, warn) };
  let migration;
  // A config that cannot be migrated is an error of the file, as in a config file: the file is left as it is (its
  // import is not rewritten over a v1 config either) and the CLI exits 2, each error once, naming its line and field.
  const where = `the LLMRouter config at line ${line}`;
  try {
    migration = migrate(value, { to: options.to, tenant: options.tenant, modelNames: options.modelNames });
  } catch (e) {
    result.errors.push(`${where} cannot be migrated: ${LLMError.isInstance(e) ? e.message.replace(/^migrate: /, '') : String(e)}`);
    return undefined;
  }
  result.from = migration.from;
  const errors = migration.issues.filter((i) => i.severity === 'error');
  result.issues.push(...migration.issues.filter((i) => i.severity !== 'error').map((i) => ({ ...i, line })));
  if (errors.length) {
    for (const i of errors) result.errors.push(`${where} cannot be migrated: ${i.path || '(root)'}: ${i.message}`);
    return undefined;
  }
  const keysQuoted = literal.properties.length > 0 && literal.properties.every((p) => p.type === 'ObjectProperty' && p.key.type === 'StringLiteral');
  const text = printJsValue(migration.config, { source, comments, index: read.index, origins: new OriginMap(migration.moves, value), oldValue: value, style: { ...style, quoteKeys: keysQuoted } }, literal);
  edits.replace(literal.start!, literal.end!, text);
  return { tenant: callTenant(migration.config, options, warn) };
}
