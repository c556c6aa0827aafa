import type { Comment, Node } from '@babel/types';

export interface NodeComments {
  leading: Comment[];
  trailing: Comment[];
}

/**
 * Comments around the children of a container (object properties, array elements), assigned by position:
 * a comment on the same line after a child trails it; the others lead the next child. Comments after the
 * last child (dangling) come back in `rest`.
 */
export function childComments(container: Node, children: readonly Node[], comments: readonly Comment[]): { byChild: Map<Node, NodeComments>; rest: Comment[] } {
  const inside = comments.filter((c) => c.start! > container.start! && c.end! < container.end!);
  const byChild = new Map<Node, NodeComments>();
  const used = new Set<Comment>();
  children.forEach((child, i) => {
    const prev = children[i - 1];
    const next = children[i + 1];
    const lead = inside.filter((c) => !used.has(c) && c.end! <= child.start! && (prev === undefined || c.start! >= prev.end!));
    const trail = inside.filter((c) => !used.has(c) && c.start! >= child.end! && c.loc!.start.line === child.loc!.end.line && (next === undefined || c.end! <= next.start!));
    for (const c of [...lead, ...trail]) used.add(c);
    byChild.set(child, { leading: lead, trailing: trail });
  });
  // Comments inside a child belong to the child's own text.
  const within = (c: Comment) => children.some((ch) => c.start! >= ch.start! && c.end! <= ch.end!);
  const rest = inside.filter((c) => !used.has(c) && !within(c));
  return { byChild, rest };
}

export function commentText(c: Comment): string {
  return c.type === 'CommentLine' ? `//${c.value}` : `/*${c.value}*/`;
}
