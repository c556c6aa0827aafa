import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { configOf, listFixtures, report, runFixture } from './__fixtures__/fixture-cases.js';
import { transformFile } from './codemod/transform-file.js';

/**
 * Fixture runner: every folder under fixtures/<transform>/<case>/ holds `input.<ext>`, the expected
 * `output.<ext>`, the expected `report.txt` (what could not be converted, and the warnings) and optionally
 * `options.json` ({ "to": 2|3, "tenant": "..." }). UPDATE_FIXTURES=1 rewrites outputs and reports.
 */
const update = process.env.UPDATE_FIXTURES === '1';
const cases = listFixtures();

describe('codemod fixtures', () => {
  it('has fixtures for every transform', () => {
    expect(new Set(cases.map((c) => c.group))).toEqual(new Set(['v1-to-v2', 'v1-to-v3', 'v2-to-v3', 'v2-unchanged', 'yaml', 'source']));
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of cases) {
    describe(`${c.group}/${c.name}`, () => {
      it('gives the expected output and report', () => {
        const r = runFixture(c);
        const reportFile = join(c.dir, 'report.txt');
        if (update) {
          writeFileSync(c.outputFile, r.output);
          writeFileSync(reportFile, report(r));
        }
        expect(r.errors).toEqual([]);
        expect(r.output).toBe(readFileSync(c.outputFile, 'utf8'));
        expect(report(r)).toBe(readFileSync(reportFile, 'utf8'));
      });

      it('is idempotent: a second run changes nothing', () => {
        const out = readFileSync(c.outputFile, 'utf8');
        const name = c.outputFile.slice(c.dir.length + 1);
        const again = transformFile(name, out, { ...c.options, explicit: true });
        expect(again.errors).toEqual([]);
        expect(again.changed).toBe(false);
        expect(again.output).toBe(out);
      });

      const cfg = configOf(c.outputFile, existsSync(c.outputFile) ? readFileSync(c.outputFile, 'utf8') : '{}');
      if (cfg !== undefined) {
        it(`is a valid v${c.options.to} config for @llmrr/core`, () => {
          const parsed = parseConfig(cfg);
          expect(parsed.version).toBe(c.options.to);
        });
      }
    });
  }
});
