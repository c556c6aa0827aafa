/**
 * RouterBench stores prompts as a Python list literal (`['What is...']`, `["It's..."]`). Returns the
 * strings joined by blank lines; text that is not such a literal comes back unchanged.
 */
export function pythonListText(raw: string): string {
  const s = raw.trim();
  if (!s.startsWith('[') || !s.endsWith(']')) return raw;
  const parts: string[] = [];
  let i = 1;
  const n = s.length - 1;
  while (i < n) {
    const c = s[i]!;
    if (c === ' ' || c === ',' || c === '\n') {
      i++;
      continue;
    }
    if (c !== "'" && c !== '"') return raw;
    const quote = c;
    let out = '';
    i++;
    while (i < n && s[i] !== quote) {
      if (s[i] === '\\' && i + 1 < n) {
        const e = s[i + 1]!;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        i += 2;
      } else out += s[i++];
    }
    if (i >= n) return raw;
    i++;
    parts.push(out);
  }
  return parts.join('\n\n');
}
