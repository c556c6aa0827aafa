/**
 * `LLMRR_DATA_DIR` naming a file (or a path through one) fails the start saying so, naming `LLMRR_DATA_DIR`, before
 * SQLite is asked to open a database under it (whose own error, "unable to open database file", says neither).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from './settings.js';
import { startServer } from './start-server.js';

describe('LLMRR_DATA_DIR that is a file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-data-file-'));
    writeFileSync(join(dir, 'data'), 'not a directory');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the start naming LLMRR_DATA_DIR as a file, not a directory', async () => {
    await expect(startServer(readSettings({ PORT: '0', LLMRR_DATA_DIR: join(dir, 'data') }, dir), () => {})).rejects.toMatchObject({
      code: 'config_invalid',
      param: 'LLMRR_DATA_DIR',
      message: `LLMRR_DATA_DIR "${join(dir, 'data')}" is a file, not a directory`,
    });
  });

  it('a path under a file: names the file', async () => {
    await expect(startServer(readSettings({ PORT: '0', LLMRR_DATA_DIR: join(dir, 'data', 'state') }, dir), () => {})).rejects.toMatchObject({
      code: 'config_invalid',
      param: 'LLMRR_DATA_DIR',
      message: `LLMRR_DATA_DIR "${join(dir, 'data', 'state')}": "${join(dir, 'data')}" is a file, not a directory`,
    });
  });
});
