/**
 * `~` alone keeps a root home's separator: `HOME=/` gives `/`, and a Windows drive root `USERPROFILE=C:\` gives
 * `C:\` (a bare `C:` is what Windows reads as the current directory of drive C, not its root).
 */
import { win32 } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHomePath } from './home-path.js';

describe('expandHomePath with a drive-root home', () => {
  it('`~` with USERPROFILE=C:\\ is the root of C:', () => {
    const expanded = expandHomePath('~', { USERPROFILE: 'C:\\' });
    expect(win32.resolve('C:\\work\\gateway', expanded)).toBe('C:\\');
  });
});
