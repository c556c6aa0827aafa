import type { CallExpression, Node } from '@babel/types';
import type { Report } from './rewrite-imports.js';
import type { TextEdits } from './text-edits.js';

/**
 * Whether removing source[start, end) would join the code before it to the code after it into one statement
 * (no `;` or block start before, and the next statement starts with a character that continues an expression).
 */
function needsSemicolon(source: string, start: number, end: number): boolean {
  const before = source.slice(0, start).trimEnd();
  const next = source.slice(end).trimStart()[0];
  return before !== '' && !/[;{]$/.test(before) && next !== undefined && '([`+-/'.includes(next);
}

/**
 * Calls on a router made from the v1 package whose v2 spelling differs:
 * - `quick(p, o)` resolved to the full result in v1; in v2 `quick` resolves to the text only, so it becomes `generate(p, o)`;
 * - `cleanup()` becomes `close()`;
 * - `await router.initialize();` statements go (v2 needs no initialization);
 * - the v1 call option `modelId` becomes `model`.
 * Returns false when the call must not get other edits (it was removed).
 */
export function rewriteV1Call(call: CallExpression, ancestors: readonly Node[], source: string, edits: TextEdits, report: Report, info: Report): boolean {
  if (call.callee.type !== 'MemberExpression' || call.callee.property.type !== 'Identifier') return true;
  const prop = call.callee.property;
  const name = prop.name;
  if (name === 'quick') {
    edits.replace(prop.start!, prop.end!, 'generate');
    info(call, 'v1 quick() resolved to the whole result: it becomes generate() (v2 quick() resolves to the text only)');
  } else if (name === 'cleanup') {
    edits.replace(prop.start!, prop.end!, 'close');
    info(call, 'cleanup() becomes close()');
  } else if (name === 'initialize') {
    const awaited = ancestors[ancestors.length - 1]?.type === 'AwaitExpression';
    const stmt = ancestors[ancestors.length - (awaited ? 2 : 1)];
    const holder = ancestors[ancestors.length - (awaited ? 3 : 2)];
    if (stmt?.type === 'ExpressionStatement') {
      // A `;` on a later line (`\n;[1, 2].forEach(...)` in semicolon-less code) guards the next statement: it stays.
      const end = source.slice(stmt.expression.end!, stmt.end!).includes('\n') ? stmt.expression.end! : stmt.end!;
      const lineStart = source.lastIndexOf('\n', stmt.start! - 1) + 1;
      const lineEnd = source.indexOf('\n', end);
      const alone = source.slice(lineStart, stmt.start!).trim() === '' && source.slice(end, lineEnd === -1 ? source.length : lineEnd).trim() === '';
      // In a statement list it goes; as the body of an if/else, a loop or a label it becomes `{}`.
      const inList = holder?.type === 'Program' || holder?.type === 'BlockStatement' || holder?.type === 'StaticBlock' || holder?.type === 'SwitchCase' || holder?.type === 'TSModuleBlock';
      if (!inList) edits.replace(stmt.start!, end, '{}');
      // Its `;` ends the statement before it when that one has none and the next starts with ( [ ` + - /.
      else if (needsSemicolon(source, stmt.start!, end)) edits.replace(stmt.start!, end, ';');
      else if (alone) edits.replace(lineStart, lineEnd === -1 ? source.length : lineEnd + 1, '');
      else edits.replace(stmt.start!, end, '');
      info(call, 'initialize() removed: the v2 router needs no initialization');
      return false;
    }
    report(call, 'initialize() used as a value: v2 routers need no initialization; remove it by hand');
    return false;
  } else if (name === 'load' || name === 'ensemble' || name === 'advanced' || name === 'setupOllama' || name === 'addOllamaModel' || name === 'registerLoader') {
    report(call, `v1 ${name}() has no same-shaped v2 equivalent: list models in the config (router.load takes v2 model configs)`);
    return false;
  }
  if (['quick', 'generate', 'stream'].includes(name)) {
    const opts = call.arguments[1];
    if (opts?.type === 'ObjectExpression') {
      for (const p of opts.properties) {
        if (p.type === 'ObjectProperty' && !p.computed && p.key.type === 'Identifier' && p.key.name === 'modelId') {
          // `{ modelId }` is shorthand for `{ modelId: modelId }`: it becomes `{ model: modelId }`.
          edits.replace(p.key.start!, p.key.end!, p.shorthand ? 'model: modelId' : 'model');
          info(p, 'call option modelId becomes model');
        }
      }
    }
  }
  return true;
}
