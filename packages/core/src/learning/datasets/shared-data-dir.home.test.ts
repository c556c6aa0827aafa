/**
 * A leading `~` in LLMRR_SHARED_DIR is the home directory for the CLI's routing data (`router train/eval --data
 * <name>`, `sharedRoutingDir`) as for the gateway server, so one .env line (`LLMRR_SHARED_DIR=~/shared`) finds the
 * data in both.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedRoutingDir } from './shared-data-dir.js';

describe('LLMRR_SHARED_DIR with a leading ~', () => {
  it('names the routing data under HOME, as the gateway server reads it', () => {
    const home = mkdtempSync(join(tmpdir(), 'llmrr-home-'));
    const cwd = mkdtempSync(join(tmpdir(), 'llmrr-cwd-'));
    try {
      mkdirSync(join(home, 'shared', 'data', 'routing'), { recursive: true });
      expect(sharedRoutingDir({ LLMRR_SHARED_DIR: '~/shared', HOME: home }, cwd)).toBe(join(home, 'shared', 'data', 'routing'));
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
