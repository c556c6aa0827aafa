import type { GenerateRequest } from '../spec/index.js';

/** The text the learned router looks at: the last user message (its text parts joined). */
export function promptText(request: GenerateRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    let s = '';
    for (const p of m.content) if (p.type === 'text') s += (s ? '\n' : '') + p.text;
    return s;
  }
  return '';
}
