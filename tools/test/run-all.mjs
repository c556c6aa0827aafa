#!/usr/bin/env node
// Runs every project's `test` target through Nx, then sums the per-package vitest JSON reports
// (test-results/vitest.json) and Python unittest reports into one closing line:
//   N passed, N failed, N skipped
// Exit code: non-zero when any test failed or any test target failed to run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const groups = ['packages', 'apps', 'examples', 'tools'];

function reportFiles() {
  const files = [];
  for (const g of groups) {
    const dir = join(root, g);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const f = join(dir, name, 'test-results', 'vitest.json');
      if (existsSync(f)) files.push(f);
    }
  }
  return files;
}

for (const f of reportFiles()) rmSync(f, { force: true });

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true' };
const args = ['nx', 'run-many', '-t', 'test', '--output-style=static', '--parallel=1', ...process.argv.slice(2)];
const run = spawnSync('pnpm', ['exec', ...args], { cwd: root, stdio: 'inherit', env });

let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = [];
// Each failing test, named with its file and the first lines of its message: printed again at the end, where a CI
// log that keeps only its tail still shows them.
const failures = [];
const firstLines = (text, n) => String(text ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(0, n).join('\n      ');
for (const f of reportFiles()) {
  try {
    const r = JSON.parse(readFileSync(f, 'utf8'));
    const p = r.numPassedTests ?? 0;
    const x = r.numFailedTests ?? 0;
    const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    passed += p;
    failed += x;
    skipped += s;
    // A suite that failed to load counts as a failure even when it ran no test.
    const brokenSuites = (r.testResults ?? []).filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0).length;
    failed += brokenSuites;
    for (const t of r.testResults ?? []) {
      const file = String(t.name ?? '').slice(root.length);
      if (t.status === 'failed' && (t.assertionResults ?? []).length === 0) failures.push(`${file} (the file failed to load)\n      ${firstLines(t.message, 6)}`);
      for (const a of t.assertionResults ?? []) {
        if (a.status === 'failed') failures.push(`${file} > ${a.fullName ?? a.title}\n      ${firstLines((a.failureMessages ?? []).join('\n'), 6)}`);
      }
    }
    perPackage.push(`${f.slice(root.length).replace('/test-results/vitest.json', '')}: ${p} passed, ${x + brokenSuites} failed, ${s} skipped`);
  } catch (e) {
    failed += 1;
    perPackage.push(`${f}: unreadable report (${e.message})`);
  }
}
if (failures.length > 0) {
  console.log('\nFailed tests:');
  for (const line of failures) console.log(`  ${line}`);
}
console.log('\nTest summary by project:');
for (const line of perPackage) console.log(`  ${line}`);
if (run.status !== 0 && failed === 0) {
  // A target failed without a failing test in a report (e.g. a crash before reporting): count it.
  failed += 1;
  console.log('  (a test target exited non-zero without a failing test in its report: counted as 1 failure)');
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || run.status !== 0 ? 1 : 0);
