import { YAML_MAX_ALIAS_COUNT, yamlExpansionRefusal } from '@llmrr/core';
import { Document, isAlias, isMap, isPair, isScalar, isSeq, Pair, parseAllDocuments, parseDocument, Scalar, visit, YAMLMap, YAMLSeq, type Node } from 'yaml';
import { deepEqual, getAt, isPlainObject, type Path } from '../library/plain.js';
import { emptyResult, migrateFileConfig } from './config-file-common.js';
import { OriginMap } from './origin-map.js';
import type { FileTransformOptions, FileTransformResult } from './types.js';

type AnyNode = Node | Pair;

function pairAt(doc: Document, path: Path): Pair | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (!isMap(parent)) return undefined;
  return parent.items.find((p): p is Pair => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === last);
}

function nodeAt(doc: Document, path: Path): Node | undefined {
  if (path.length === 0) return (doc.contents ?? undefined) as Node | undefined;
  const n = doc.getIn(path, true) as unknown;
  return n && typeof n === 'object' && ('range' in n || isScalar(n) || isMap(n) || isSeq(n)) ? (n as Node) : undefined;
}

function copyComments(from: AnyNode | undefined, to: Node): void {
  if (!from || isPair(from)) return;
  if (from.commentBefore) to.commentBefore = from.commentBefore;
  if (from.comment) to.comment = from.comment;
  if (from.spaceBefore) to.spaceBefore = true;
}

/**
 * Whether an unchanged node can be reused where the migrated config puts it: every alias in it must name an
 * anchor set before it in the new document (`written`, or inside the node itself), since moving keys (the
 * migration puts `models` first) can put an alias before its anchor. Adds the node's anchors to `written`.
 */
function aliasesResolve(node: Node, written: Set<string>): boolean {
  const anchors = new Set(written);
  let ok = true;
  visit(node, (_, n) => {
    if (isAlias(n) && !anchors.has(n.source)) {
      ok = false;
      return visit.BREAK;
    }
    if ((isScalar(n) || isMap(n) || isSeq(n)) && n.anchor) anchors.add(n.anchor);
    return undefined;
  });
  if (ok) for (const a of anchors) written.add(a);
  return ok;
}

/**
 * Migrates a YAML config file with the `yaml` Document API. Unchanged subtrees are the original nodes
 * (their layout and comments stay); moved keys take their comments along.
 */
export function transformYaml(file: string, input: string, options: FileTransformOptions): FileTransformResult {
  const result = emptyResult(file, 'yaml', input);
  // `merge`: `<<: *defaults` merge keys (YAML 1.1, which v1's YAML loaders and the core's both apply), not a key "<<".
  const docs = parseAllDocuments(input, { prettyErrors: true, uniqueKeys: true, merge: true });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > 1) {
    result.errors.push('a YAML file with several documents is not supported: split it into one file per config');
    return result;
  }
  const doc = list[0] ?? parseDocument(input, { merge: true });
  if (doc.errors.length) {
    // The parser recurses per level: a file nested thousands of levels deep runs it out of stack (a RangeError it
    // reports with the place); said as what it is.
    const message = doc.errors[0]!.message;
    const overflow = /^Maximum call stack size exceeded( at line \d+, column \d+)?/.exec(message);
    result.errors.push(`invalid YAML: ${overflow ? `nested too deep to read (the parser ran out of stack${overflow[1] ?? ''})` : message}`);
    return result;
  }
  // The core's loader's bounds: an alias bomb within yaml's alias count still expands hugely (refused before `toJS`).
  const refusal = yamlExpansionRefusal(doc, { isAlias, isMap, isPair, isSeq });
  if (refusal !== undefined) {
    result.errors.push(`invalid YAML: ${refusal}`);
    return result;
  }
  let value: unknown;
  try {
    // As the core's loader: 999 models may merge one defaults map (yaml's default stops at 99).
    value = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
  } catch (e) {
    // A merge key whose source is not a map, an anchor aliased too often: not in `doc.errors`.
    result.errors.push(`invalid YAML: ${(e as Error).message}`);
    return result;
  }
  const migration = migrateFileConfig(value, result, options);
  if (!migration?.changed) return result;

  const origins = new OriginMap(migration.moves, value);
  // Anchors set so far in the new document (it is built in document order). An alias whose anchor comes
  // later is not reused: its value is written out in full instead.
  const anchors = new Set<string>();
  const build = (v: unknown, path: Path): Node => {
    const o = origins.origin(path);
    const old = o ? nodeAt(doc, o) : undefined;
    if (o && old && deepEqual(getAt(value, o), v)) {
      if (aliasesResolve(old, anchors)) return old;
      if (isAlias(old)) result.issues.push({ path: path.join('.'), message: `alias *${old.source} now comes before its anchor: its value is written out in full`, severity: 'info' });
    }
    let node: Node;
    if (isPlainObject(v)) {
      const map = new YAMLMap();
      if (isMap(old) && old.flow) map.flow = true;
      for (const [k, child] of Object.entries(v)) {
        const childPath = [...path, k];
        const co = origins.origin(childPath);
        const oldPair = co ? pairAt(doc, co) : undefined;
        const keyNode = new Scalar(k);
        if (oldPair && isScalar(oldPair.key)) {
          copyComments(oldPair.key, keyNode);
          if (oldPair.key.value === k) keyNode.type = oldPair.key.type;
        }
        // A blank line before the first key of a nested map prints as a stray indented line: drop it there.
        if (map.items.length === 0 && path.length > 0) keyNode.spaceBefore = false;
        map.items.push(new Pair(keyNode, build(child, childPath)));
      }
      node = map;
    } else if (Array.isArray(v)) {
      const seq = new YAMLSeq();
      if (isSeq(old) && old.flow) seq.flow = true;
      v.forEach((child, i) => seq.items.push(build(child, [...path, i])));
      node = seq;
    } else {
      const s = doc.createNode(v) as Scalar;
      if (isScalar(old) && typeof old.value === typeof v && old.type && old.type !== 'PLAIN') s.type = old.type;
      node = s;
    }
    if (isScalar(old) && isMap(node) && node.items[0] && isScalar(node.items[0].value)) {
      // A name that became a model object: its line comment goes on the first line of the object.
      const first = node.items[0].value as Scalar;
      if (old.comment) first.comment = old.comment;
      if (old.commentBefore) node.commentBefore = old.commentBefore;
      if (old.spaceBefore) node.spaceBefore = true;
    } else copyComments(old, node);
    return node;
  };
  const root = build(migration.config, []);
  const rootOld = doc.contents as Node | null;
  doc.contents = root as typeof doc.contents;
  if (rootOld && root !== rootOld) copyComments(rootOld, root);
  // A comment heading the file stays at the top when a key (version) is put before the old first key.
  const oldFirst = isMap(rootOld) ? rootOld.items[0] : undefined;
  const newFirst = isMap(root) ? root.items[0] : undefined;
  const oldKey = oldFirst?.key;
  if (newFirst && isScalar(oldKey) && isScalar(newFirst.key) && newFirst.key !== oldKey && oldKey.value !== newFirst.key.value) {
    const moved = (root as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === oldKey.value && p.key.commentBefore);
    if (moved && isScalar(moved.key) && !root.commentBefore) {
      root.commentBefore = moved.key.commentBefore;
      moved.key.commentBefore = undefined;
    }
  }
  try {
    result.output = doc.toString({ lineWidth: 0 });
  } catch (e) {
    result.errors.push(`cannot write the migrated YAML: ${(e as Error).message}`);
    return result;
  }
  if (input.includes('\r\n')) result.output = result.output.replace(/\r?\n/g, '\r\n');
  result.changed = result.output !== input;
  return result;
}

