import type { CallExpression, File, ImportDeclaration, Node, StringLiteral } from '@babel/types';
import { lineEnding } from './print-js-value.js';
import { patternNames } from './scope.js';
import type { TextEdits } from './text-edits.js';
import { walk } from './walk.js';

/** The original package. */
export const LEGACY_PACKAGE = 'llm-runner-router';

/** v1 exports that live on in the scoped packages: export name -> { package, name }. */
export const IMPORT_MAP: Readonly<Record<string, { from: string; name: string }>> = {
  default: { from: '@llmrr/core', name: 'LLMRouter' },
  LLMRouter: { from: '@llmrr/core', name: 'LLMRouter' },
};

/** v1 exports with no scoped equivalent, and what to do instead. */
export const REMOVED_EXPORTS: Readonly<Record<string, string>> = {
  quick: 'create a router (new LLMRouter(config)) and call router.generate(prompt)',
  load: 'list the model in the config\'s models instead of loading it at run time',
  advanced: 'call router.generate(prompt, { model, fallbacks })',
  stream: 'create a router and call router.stream(prompt)',
  ensemble: 'no v2 equivalent',
  setupOllama: 'add Ollama models to the config with preset "ollama"',
  addOllamaModel: 'add the model to the config with preset "ollama"',
  ModelRegistry: 'models are listed in the config',
  Router: 'use LLMRouter; strategies register with router.addStrategy',
  Pipeline: 'no v2 equivalent',
  APILoader: 'engines are chosen per model with engine/preset',
  OpenAIAdapter: 'use engine "openai-compatible" with preset "openai"',
  AnthropicAdapter: 'use engine "anthropic"',
  OpenRouterAdapter: 'use engine "openai-compatible" with preset "openrouter"',
  GroqAdapter: 'use engine "openai-compatible" with preset "groq"',
};

export interface ImportFindings {
  /** Local names bound to LLMRouter (old or new package). */
  routerNames: Set<string>;
  /** Local names imported from anywhere (binding -> module), to explain configs that come from imports. */
  importedFrom: Map<string, string>;
  /** Local names still bound to the v1 package (imports and requires left as they were). */
  legacyNames: Set<string>;
  /** Whether the file used the v1 package. */
  usedLegacy: boolean;
  /** Whether a use of the v1 package is left whose names the codemod cannot tell (`jest.mock(...)`, `import(...).then(...)`). */
  unboundLegacy: boolean;
}

export type Report = (node: Node, reason: string) => void;

const isLegacySource = (s: string) => s === LEGACY_PACKAGE;
const isLegacySubpath = (s: string) => s.startsWith(`${LEGACY_PACKAGE}/`);
const NEW_SOURCES = new Set(Object.values(IMPORT_MAP).map((m) => m.from));

function quoted(lit: StringLiteral, source: string, value: string): string {
  const q = source[lit.start!] === '"' ? '"' : "'";
  return `${q}${value}${q}`;
}

function specText(imported: string, local: string): string | undefined {
  const target = IMPORT_MAP[imported];
  if (!target) return undefined;
  return target.name === local ? target.name : `${target.name} as ${local}`;
}

/**
 * The names an expression is stored in, from its ancestors (nearest last): `const { default: X } = await
 * import(...)`, `X = require(...)`, `const X = (await import(...)).default`; undefined when it is not stored.
 */
function storedIn(ancestors: readonly Node[]): string[] | undefined {
  let i = ancestors.length - 1;
  while (i >= 0 && ['AwaitExpression', 'ParenthesizedExpression', 'MemberExpression', 'TSAsExpression'].includes(ancestors[i]!.type)) i--;
  const parent = ancestors[i];
  if (parent?.type === 'VariableDeclarator') return patternNames(parent.id);
  if (parent?.type === 'AssignmentExpression' && parent.operator === '=') return patternNames(parent.left);
  return undefined;
}

/** `require('llm-runner-router').default` (or `.LLMRouter`, `['default']`): the export name, else undefined. */
function requiredMember(node: Node): { call: CallExpression; name: string | undefined } | undefined {
  if (node.type !== 'MemberExpression' || node.object.type !== 'CallExpression') return undefined;
  const call = node.object;
  if (call.callee.type !== 'Identifier' || call.callee.name !== 'require') return undefined;
  const p = node.property;
  const name = !node.computed && p.type === 'Identifier' ? p.name : node.computed && p.type === 'StringLiteral' ? p.value : undefined;
  return { call, name };
}

/**
 * Rewrites imports (and requires, re-exports) of `llm-runner-router` to the scoped packages. Names with no
 * scoped equivalent stay imported from the old package and are reported.
 */
export function rewriteImports(ast: File, source: string, edits: TextEdits, report: Report, warn: Report): ImportFindings {
  const findings: ImportFindings = { routerNames: new Set(), importedFrom: new Map(), legacyNames: new Set(), usedLegacy: false, unboundLegacy: false };
  // Names a use of the old package left as is is stored in stay v1; a use stored nowhere leaves names unknown.
  const keepLegacy = (names: string[] | undefined) => {
    if (names === undefined || names.length === 0) findings.unboundLegacy = true;
    else for (const n of names) findings.legacyNames.add(n);
  };
  // Module names handled below (rewritten or reported); any other mention of the old package is reported at the end.
  const handled = new Set<Node>();
  for (const stmt of ast.program.body) {
    if (stmt.type !== 'ImportDeclaration') continue;
    const from = stmt.source.value;
    for (const s of stmt.specifiers) findings.importedFrom.set(s.local.name, from);
    if (NEW_SOURCES.has(from)) {
      for (const s of stmt.specifiers) {
        if (s.type === 'ImportSpecifier' && (s.imported.type === 'Identifier' ? s.imported.name : s.imported.value) === 'LLMRouter') findings.routerNames.add(s.local.name);
      }
      continue;
    }
    if (isLegacySubpath(from)) {
      findings.usedLegacy = true;
      handled.add(stmt.source);
      for (const s of stmt.specifiers) findings.legacyNames.add(s.local.name);
      report(stmt, `import from "${from}": internal v1 modules have no scoped equivalent`);
      continue;
    }
    if (!isLegacySource(from)) continue;
    findings.usedLegacy = true;
    handled.add(stmt.source);
    rewriteImport(stmt, source, edits, report, findings);
  }

  walk(ast.program, (node, ancestors) => {
    if (node.type === 'CallExpression' && node.callee.type === 'Import' && node.arguments[0]?.type === 'StringLiteral' && node.arguments[0].value.startsWith(LEGACY_PACKAGE)) {
      findings.usedLegacy = true;
      handled.add(node.arguments[0]);
      keepLegacy(storedIn(ancestors));
      report(node, `dynamic import("${node.arguments[0].value}"): change it by hand to import("@llmrr/core") and use its LLMRouter export; code using it is left as v1`);
    }
    if (node.type === 'TSImportEqualsDeclaration' && node.moduleReference.type === 'TSExternalModuleReference' && node.moduleReference.expression.value.startsWith(LEGACY_PACKAGE)) {
      findings.usedLegacy = true;
      handled.add(node.moduleReference.expression);
      findings.legacyNames.add(node.id.name);
      report(node, `import ${node.id.name} = require("${node.moduleReference.expression.value}"): change it by hand to import { LLMRouter } from '@llmrr/core' (an ES module); code using ${node.id.name} is left as v1`);
    }
    if ((node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') && node.source && node.source.value.startsWith(LEGACY_PACKAGE)) {
      findings.usedLegacy = true;
      handled.add(node.source);
      const names = node.type === 'ExportNamedDeclaration' ? node.specifiers.map((s) => (s.type === 'ExportSpecifier' ? (s.local.name) : '*')) : ['*'];
      if (node.source.value === LEGACY_PACKAGE && node.type === 'ExportNamedDeclaration' && names.length && names.every((n) => n === 'LLMRouter')) {
        edits.replace(node.source.start!, node.source.end!, quoted(node.source, source, '@llmrr/core'));
      } else report(node, `re-export from "${node.source.value}" of ${names.join(', ')}: only LLMRouter has a scoped equivalent (@llmrr/core)`);
    }
    const member = node.type === 'VariableDeclarator' && node.init ? requiredMember(node.init) : undefined;
    if (node.type === 'VariableDeclarator' && member) {
      // const LLMRouter = require('llm-runner-router').default;
      const arg = member.call.arguments[0];
      if (arg?.type !== 'StringLiteral' || !arg.value.startsWith(LEGACY_PACKAGE)) return;
      findings.usedLegacy = true;
      handled.add(arg);
      const target = member.name === undefined ? undefined : IMPORT_MAP[member.name];
      if (arg.value !== LEGACY_PACKAGE || !target || node.id.type !== 'Identifier') {
        for (const n of patternNames(node.id)) findings.legacyNames.add(n);
        report(node, `require("${arg.value}")${member.name === undefined ? '[...]' : `.${member.name}`}: only LLMRouter (the default export) has a scoped equivalent; change it by hand`);
        return;
      }
      findings.routerNames.add(node.id.name);
      edits.replace(node.init!.start!, node.init!.end!, `require(${quoted(arg, source, target.from)}).${target.name}`);
      warn(node, '@llmrr/core is an ES module: require() of it needs Node 20.19 or later (or switch to import)');
      return;
    }
    if (node.type === 'VariableDeclarator' && node.init?.type === 'CallExpression' && node.init.callee.type === 'Identifier' && node.init.callee.name === 'require') {
      const arg = node.init.arguments[0];
      if (arg?.type !== 'StringLiteral' || !arg.value.startsWith(LEGACY_PACKAGE)) return;
      findings.usedLegacy = true;
      handled.add(arg);
      if (arg.value !== LEGACY_PACKAGE) {
        for (const n of patternNames(node.id)) findings.legacyNames.add(n);
        report(node, `require("${arg.value}"): internal v1 modules have no scoped equivalent`);
        return;
      }
      if (node.id.type === 'Identifier') {
        const local = node.id.name;
        edits.replace(node.id.start!, node.id.end!, local === 'LLMRouter' ? '{ LLMRouter }' : `{ LLMRouter: ${local} }`);
      } else if (node.id.type === 'ObjectPattern') {
        const props = node.id.properties;
        const ok = props.every((p) => p.type === 'ObjectProperty' && !p.computed && p.key.type === 'Identifier' && p.key.name === 'LLMRouter' && p.value.type === 'Identifier');
        if (!ok) {
          for (const n of patternNames(node.id)) findings.legacyNames.add(n);
          report(node, `require("${LEGACY_PACKAGE}") of names other than LLMRouter: those have no scoped equivalent`);
          return;
        }
        for (const p of props) if (p.type === 'ObjectProperty' && p.value.type === 'Identifier') findings.routerNames.add(p.value.name);
      } else {
        for (const n of patternNames(node.id)) findings.legacyNames.add(n);
        report(node, `require("${LEGACY_PACKAGE}") with an unusual pattern`);
        return;
      }
      if (node.id.type === 'Identifier') findings.routerNames.add(node.id.name);
      edits.replace(arg.start!, arg.end!, quoted(arg, source, '@llmrr/core'));
      warn(node, '@llmrr/core is an ES module: require() of it needs Node 20.19 or later (or switch to import)');
    }
  });

  // Any other mention of the old package (`new (require('llm-runner-router'))()`, `jest.mock(...)`,
  // `require.resolve(...)`): not converted, and said so.
  walk(ast.program, (node, ancestors) => {
    if (node.type !== 'StringLiteral' || handled.has(node) || !(isLegacySource(node.value) || isLegacySubpath(node.value))) return;
    findings.usedLegacy = true;
    const call = ancestors[ancestors.length - 1];
    const required = call?.type === 'CallExpression' && call.callee.type === 'Identifier' && call.callee.name === 'require';
    keepLegacy(required ? storedIn(ancestors.slice(0, -1)) : undefined);
    report(node, `"${node.value}" is used here in a way the codemod does not convert: change it by hand (LLMRouter is in @llmrr/core)`);
  });
  return findings;
}

function rewriteImport(stmt: ImportDeclaration, source: string, edits: TextEdits, report: Report, findings: ImportFindings): void {
  const moved: string[] = [];
  const kept: string[] = [];
  let defaultKept: string | undefined;
  const namespace = stmt.specifiers.find((s) => s.type === 'ImportNamespaceSpecifier');
  if (namespace) {
    // The whole statement stays: every name it binds (`import LLMRouter, * as v1`) is still v1.
    for (const s of stmt.specifiers) findings.legacyNames.add(s.local.name);
    report(stmt, `namespace import (* as ${namespace.local.name}) from "${LEGACY_PACKAGE}": change it by hand (LLMRouter is in @llmrr/core); code using it is left as v1`);
    return;
  }
  for (const s of stmt.specifiers) {
    if (s.type === 'ImportNamespaceSpecifier') continue;
    const imported = s.type === 'ImportDefaultSpecifier' ? 'default' : s.imported.type === 'Identifier' ? s.imported.name : s.imported.value;
    // An inline `type` modifier (`import { type X }`) stays with its name.
    const typeMark = s.type === 'ImportSpecifier' && s.importKind === 'type' ? 'type ' : '';
    const text = specText(imported, s.local.name);
    if (text) {
      moved.push(typeMark + text);
      findings.routerNames.add(s.local.name);
    } else {
      const why = REMOVED_EXPORTS[imported] ?? 'not exported by the scoped packages';
      report(s, `"${imported}" from "${LEGACY_PACKAGE}" has no scoped equivalent (${why}): left imported from the old package`);
      findings.legacyNames.add(s.local.name);
      if (s.type === 'ImportDefaultSpecifier') defaultKept = s.local.name;
      else kept.push(typeMark + (imported === s.local.name ? imported : `${imported} as ${s.local.name}`));
    }
  }
  if (moved.length === 0) return;
  const stmtText = source.slice(stmt.start!, stmt.end!);
  const semi = stmtText.trimEnd().endsWith(';') ? ';' : '';
  const typeOnly = stmt.importKind === 'type' ? 'type ' : '';
  const attrs = stmt.attributes?.length ? source.slice(stmt.source.end!, stmt.end!).replace(/;\s*$/, '').trimEnd() : '';
  const lines = [`import ${typeOnly}{ ${moved.join(', ')} } from ${quoted(stmt.source, source, '@llmrr/core')}${semi}`];
  if (kept.length || defaultKept) {
    const parts = [defaultKept, kept.length ? `{ ${kept.join(', ')} }` : undefined].filter(Boolean).join(', ');
    lines.push(`import ${typeOnly}${parts} from ${quoted(stmt.source, source, LEGACY_PACKAGE)}${attrs}${semi}`);
  }
  const indent = /[ \t]*$/.exec(source.slice(source.lastIndexOf('\n', stmt.start! - 1) + 1, stmt.start!))![0];
  edits.replace(stmt.start!, stmt.end!, lines.join(`${lineEnding(source)}${indent}`));
}
