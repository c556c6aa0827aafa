import { VISITOR_KEYS, type Node } from '@babel/types';

/** Calls `visit` for every node, parents first, with its ancestors (nearest last). Returning false skips the children. */
export function walk(root: Node, visit: (node: Node, ancestors: readonly Node[]) => boolean | void): void {
  const ancestors: Node[] = [];
  const go = (node: Node): void => {
    if (visit(node, ancestors) === false) return;
    const keys = VISITOR_KEYS[node.type] ?? [];
    ancestors.push(node);
    for (const key of keys) {
      const child = (node as unknown as Record<string, unknown>)[key];
      if (Array.isArray(child)) {
        for (const c of child) if (c && typeof c === 'object' && typeof (c as Node).type === 'string') go(c as Node);
      } else if (child && typeof child === 'object' && typeof (child as Node).type === 'string') go(child as Node);
    }
    ancestors.pop();
  };
  go(root);
}
