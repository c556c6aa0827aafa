import type { Document } from 'yaml';

/**
 * yaml's `maxAliasCount`: `toJS` refuses a document, as a possible alias bomb, once an anchor is aliased this many
 * times (each use weighted by the aliases inside the anchored node): 999 models may merge one defaults map
 * (`<<: *defaults`); yaml's default, 100, stopped at 99. The core's config loader and `@llmrr/migrate` use it.
 */
export const YAML_MAX_ALIAS_COUNT = 1000;

/**
 * The most values (scalars, maps, lists) a YAML config may expand to with its aliases resolved. yaml's alias count
 * does not bound the size: an anchor of 20 000 values aliased 999 times (a 45 KB file) expanded to 20 million (seconds,
 * hundreds of MB). A config of 999 models merging one defaults map expands to some thousands.
 */
export const YAML_MAX_EXPANDED_VALUES = 1_000_000;

/** The node checks of the `yaml` package (its module, imported by the caller: the core loads it on first use). */
export type YamlNodeChecks = Pick<typeof import('yaml'), 'isAlias' | 'isMap' | 'isPair' | 'isSeq'>;

/**
 * Why `doc` must not be expanded (`toJS`): its aliases expand it past `YAML_MAX_EXPANDED_VALUES` values, a possible
 * alias bomb that yaml's alias count lets through; undefined when it may. Call it before `toJS`.
 */
export function yamlExpansionRefusal(doc: Document, yaml: YamlNodeChecks): string | undefined {
  return expandedValues(doc, yaml) > YAML_MAX_EXPANDED_VALUES ? `its aliases expand it to more than ${YAML_MAX_EXPANDED_VALUES} values: refused as a possible alias bomb` : undefined;
}

/**
 * How many values (scalars, maps, lists; a map's keys count) `doc` holds with every alias replaced by what it names,
 * in one pass over its nodes in document order: an alias names the last anchor of its name before it, whose size is
 * known by then (yaml's `Alias.resolve` searches the whole document for each alias: quadratic).
 */
function expandedValues(doc: Document, { isAlias, isMap, isPair, isSeq }: YamlNodeChecks): number {
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
