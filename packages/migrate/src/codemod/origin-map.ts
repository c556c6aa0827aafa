import type { KeyMove } from '../library/types.js';
import { hasAt, type Path } from '../library/plain.js';

const key = (p: Path): string => p.map(String).join('\u0000');

/**
 * For each path of a migrated config, the path it came from in the original (from the migration's key
 * moves, else the same key under the parent's origin, else the same path), so that printers can reuse
 * the original nodes and carry their comments.
 */
export class OriginMap {
  private readonly byTo = new Map<string, Path>();
  private readonly movedAway = new Set<string>();

  constructor(
    moves: readonly KeyMove[],
    private readonly oldRoot: unknown,
  ) {
    for (const m of moves) {
      if (!this.byTo.has(key(m.to))) this.byTo.set(key(m.to), m.from);
      if (key(m.from) !== key(m.to)) this.movedAway.add(key(m.from));
    }
  }

  origin(path: Path): Path | undefined {
    const exact = this.byTo.get(key(path));
    if (exact) return exact;
    if (path.length === 0) return [];
    const parent = this.origin(path.slice(0, -1));
    const last = path[path.length - 1]!;
    if (parent) {
      const candidate = [...parent, last];
      if (hasAt(this.oldRoot, candidate) && !this.movedAway.has(key(candidate))) return candidate;
      return undefined;
    }
    if (hasAt(this.oldRoot, path) && !this.movedAway.has(key(path))) return path;
    return undefined;
  }
}
