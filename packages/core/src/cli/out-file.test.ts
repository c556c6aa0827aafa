import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { syntheticCascadeExamples } from '../learning/__fixtures__/synthetic-cascade.js';
import { syntheticPairDataset } from '../learning/__fixtures__/synthetic-data.js';
import { runCli, tempDir } from './__fixtures__/cli-harness.js';
import { checkOutPath, writeOutFile } from './out-file.js';

/** A full disk: the next writeFile into a file named *.json* writes half its text, then fails with ENOSPC. */
const fullDisk = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile: typeof fs.writeFile = async (file, data, options) => {
    if (fullDisk.on && String(file).includes('.json') && typeof data === 'string') {
      await fs.writeFile(file, data.slice(0, data.length >> 1), options);
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
    }
    return fs.writeFile(file, data, options);
  };
  return { ...fs, writeFile, default: { ...fs, writeFile } };
});

const t = tempDir();
afterAll(() => t.remove());
const p = syntheticPairDataset(120);
t.write('pair.jsonl', p.examples.flatMap((e) => p.models.map((m, i) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, model: m, quality: e.quality[i] }))).join('\n'));
/** `llmrr router train` of pair.jsonl into `out` (every path absolute), printing its summary as JSON. */
const trainTo = (out: string) => ['router', 'train', '--data', join(t.dir, 'pair.jsonl'), '--out', out, '--hash-dim', '256', '--predictor', 'logistic', '--json'];

/** `llmrr <args>` as a real process from the package folder (tsx resolves there), its stdout `stdout`; resolves to its exit code and stderr. */
function runMain(args: string[], stdout: number | 'ignore', shell?: string): Promise<{ code: number | null; stderr: string }> {
  const mainTs = resolve(dirname(fileURLToPath(import.meta.url)), 'main.ts');
  const argv = ['--conditions=@llmrr/source', '--import', 'tsx', mainTs, ...args];
  return new Promise((done, fail) => {
    const child = shell === undefined
      ? spawn(process.execPath, argv, { cwd: resolve(dirname(mainTs), '../..'), stdio: ['ignore', stdout, 'pipe'] })
      : spawn('sh', ['-c', shell, 'sh', process.execPath, ...argv], { cwd: resolve(dirname(mainTs), '../..'), stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    // Hang guard (a CLI waiting for a pipe's reader for ever): killed well before the test's own timeout.
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ code, stderr });
    });
  });
}

/** `llmrr <args>` as a real process whose stdout is a socket (a Node parent's `stdio: 'pipe'`); its exit code, stdout and stderr. */
function runPiped(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const mainTs = resolve(dirname(fileURLToPath(import.meta.url)), 'main.ts');
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', 'tsx', mainTs, ...args], { cwd: resolve(dirname(mainTs), '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ code, stdout, stderr });
    });
  });
}

describe("llmrr router --out /dev/stdout (/dev/fd/1) with stdout a socket (a Node parent's stdio 'pipe'): written through stdout, as --out -", () => {
  it('router train --out /dev/stdout and /dev/fd/1: exit 0, stdout the model alone, the summary on stderr', { timeout: 120_000 }, async () => {
    for (const out of ['/dev/stdout', '/dev/fd/1']) {
      const r = await runPiped(trainTo(out));
      expect({ out, code: r.code, stderr: r.stderr.includes('socket') ? r.stderr : '' }).toEqual({ out, code: 0, stderr: '' });
      expect(JSON.parse(r.stdout)).toMatchObject({ format: 'llmrr-router-model' });
      expect(JSON.parse(r.stderr.slice(r.stderr.indexOf('{')))).toMatchObject({ out });
    }
  });

  it('router train --cascade --out /dev/fd/1: the scorer on stdout, and the advice on stderr names no verifierModel /dev/fd/1 (as --out -)', { timeout: 120_000 }, async () => {
    const own = tempDir();
    try {
      const ex = syntheticCascadeExamples(120);
      own.write('log.jsonl', ex.map((e) => JSON.stringify({ prompt_id: e.id, prompt: e.prompt, weak_answer: e.weakResponse, weak_correct: e.quality[0] === 1, strong_correct: e.quality[1] })).join('\n'));
      const r = await runPiped(['router', 'train', '--cascade', '--data', join(own.dir, 'log.jsonl'), '--out', '/dev/fd/1']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ format: 'llmrr-cascade-scorer' });
      expect(r.stderr).toContain('wrote the scorer to stdout');
      expect(r.stderr).toContain('verifierModel: <the file you saved it to>');
      expect(r.stderr).not.toContain('verifierModel: /dev/fd/1');
    } finally {
      own.remove();
    }
  });
});

describe('llmrr router --out through a closed stdout: a usage error that says stdout is closed', () => {
  // Its own folder: the pipes and files below stay out of the listings the other tests check.
  const own = tempDir();
  afterAll(() => own.remove());
  it('stdout a named pipe nothing reads any more: refused before training (reopening it would wait for a reader for ever)', { timeout: 120_000 }, async () => {
    const fifo = join(own.dir, 'left.pipe');
    execFileSync('mkfifo', [fifo]);
    // A writer whose reader has gone: opened while a reader held the pipe, which then closed.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    closeSync(reader);
    let r: { code: number | null; stderr: string };
    try {
      r = await runMain(trainTo('/dev/stdout'), writer);
    } finally {
      closeSync(writer);
    }
    expect(r).toEqual({ code: 2, stderr: 'llmrr router train: --out: cannot write /dev/stdout: stdout is closed (nothing reads its pipe any more) (see llmrr router train --help)\n' });
  });

  it('stdout a pipe whose reader has ended (| head -c 0): the EPIPE on writing the model is the usage error saying so, not an internal error', { timeout: 120_000 }, async () => {
    const sync = join(own.dir, 'sync.pipe');
    const codeFile = join(own.dir, 'epipe-code');
    // The reader closes its end of the pipe, then lets the CLI start (`cat` of a named pipe waits for that): no race.
    const script = `mkfifo '${sync}'; { cat '${sync}' >/dev/null; "$@"; echo $? > '${codeFile}'; } | { exec 0<&-; echo > '${sync}'; }`;
    const r = await runMain(trainTo('/dev/stdout'), 'ignore', script);
    expect({ shell: r.code, code: readFileSync(codeFile, 'utf8'), last: r.stderr.trimEnd().split('\n').at(-1) }).toEqual({
      shell: 0,
      code: '2\n',
      last: 'llmrr router train: --out: cannot write /dev/stdout: stdout is closed (nothing reads its pipe any more: EPIPE) (see llmrr router train --help)',
    });
  });

  it('--out /dev/fd/N of a descriptor that is not open: a usage error naming it before training', async () => {
    const fd = 900;
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
    const r = await runCli(trainTo(`/dev/fd/${fd}`));
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: '', stderr: `llmrr router train: --out: cannot write /dev/fd/${fd}: descriptor ${fd} is closed (no file is open on it) (see llmrr router train --help)\n` });
  });
});

describe('llmrr router eval --out written in place (/dev/null, /dev/stdout, /dev/fd/1): the report alone, no plot; a new file in /dev or /proc is refused', () => {
  const evalTo = (out: string) => ['router', 'eval', '--data', join(t.dir, 'pair.jsonl'), '--out', out, '--hash-dim', '256', '--predictors', 'logistic', '--json'];
  const own = tempDir();
  afterAll(() => own.remove());

  it('--out /dev/null, /dev/stdout and /dev/fd/1 work (exit 0), the report written there, with a note that there is no plot; no file made in /dev; stdout (--out /dev/stdout, /dev/fd/1) holds the report alone, as with --out -', { timeout: 300_000 }, async () => {
    const note = 'llmrr router eval: no plot: --out is not a file (the plot goes beside a report file, as <out>.svg): the report alone is written there';
    const stdoutNote = (out: string) => `llmrr router eval: no plot: --out ${out} prints the report on stdout (the tables go to stderr)`;
    const plots = ['/dev/null.svg', '/dev/stdout.svg'];
    const before = plots.filter((f) => existsSync(f));
    /** Runs eval with stdout a fresh file of `own` (through which /dev/stdout and /dev/fd/1 write); its text and the run. */
    const run = async (out: string) => {
      const file = join(own.dir, `${out.replaceAll('/', '_')}.stdout`);
      const fd = openSync(file, 'w');
      let r: { code: number | null; stderr: string };
      try {
        r = await runMain(evalTo(out), fd);
      } finally {
        closeSync(fd);
      }
      const text = readFileSync(file, 'utf8');
      // Through stdout: one JSON document: --out's report (indented) alone, not --json's print after it (/dev/null: the print).
      let documents = 0;
      try {
        JSON.parse(text);
        documents = 1;
      } catch {
        documents = text === '' ? 0 : -1;
      }
      return { code: r.code, note: r.stderr.split('\n').filter((l) => l.includes('plot')), reports: text.split('"protocol"').length - 1, outFirst: text.startsWith('{\n "'), documents };
    };
    const results = { null: await run('/dev/null'), stdout: await run('/dev/stdout'), fd: await run('/dev/fd/1') };
    expect({ ...results, made: plots.filter((f) => existsSync(f) && !before.includes(f)) }).toEqual({
      null: { code: 0, note: [note], reports: 1, outFirst: false, documents: 1 },
      stdout: { code: 0, note: [stdoutNote('/dev/stdout')], reports: 1, outFirst: true, documents: 1 },
      fd: { code: 0, note: [stdoutNote('/dev/fd/1')], reports: 1, outFirst: true, documents: 1 },
      made: [],
    });
  });

  it('--out /dev/null without --json: the log names the path written in place ("wrote the report to /dev/null", not "wrote null")', { timeout: 120_000 }, async () => {
    const r = await runCli(['router', 'eval', '--data', join(t.dir, 'pair.jsonl'), '--out', '/dev/null', '--hash-dim', '256', '--predictors', 'logistic'], { cwd: own.dir });
    expect({ code: r.code, wrote: r.stderr.split('\n').filter((l) => l.startsWith('wrote')) }).toEqual({ code: 0, wrote: ['wrote the report to /dev/null'] });
    expect(r.stdout).toMatch(/report: \/dev\/null\n$/);
  });

  it('a new file directly in /dev or under /proc is refused as --out; a folder under /dev such as /dev/shm is a folder like any', () => {
    const refusal = (file: string) => {
      try {
        checkOutPath('--out', file);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect({ dev: refusal('/dev/llmrr-model.json'), proc: refusal('/proc/self/llmrr-model.json') }).toEqual({
      dev: expect.stringMatching(/^--out: cannot write \/dev\/llmrr-model\.json: it would be a new file in \/dev, the system's folder of devices/),
      proc: expect.stringMatching(/^--out: cannot write \/proc\/self\/llmrr-model\.json: it would be a new file in \/proc\/\d+, under \/proc/),
    });
    if (existsSync('/dev/shm')) expect(refusal('/dev/shm/llmrr-model.json')).toBe('accepted');
  });
});

describe('llmrr router --out: written whole or not at all', () => {
  it('a write failing halfway (a full disk) leaves the model already at --out whole, and no temporary file', async () => {
    const train = ['router', 'train', '--data', 'pair.jsonl', '--out', 'model.json', '--hash-dim', '256', '--predictor', 'logistic'];
    expect((await runCli(train, { cwd: t.dir })).code).toBe(0);
    const good = readFileSync(join(t.dir, 'model.json'), 'utf8');
    fullDisk.on = true;
    try {
      const r = await runCli([...train, '--seed', '7'], { cwd: t.dir });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/ENOSPC/) });
      const r2 = await runCli(['router', 'eval', '--data', 'pair.jsonl', '--out', 'report.json', '--hash-dim', '256', '--predictors', 'logistic'], { cwd: t.dir });
      expect(r2.code).toBe(1);
    } finally {
      fullDisk.on = false;
    }
    expect(readFileSync(join(t.dir, 'model.json'), 'utf8')).toBe(good);
    expect(readdirSync(t.dir).sort()).toEqual(['model.json', 'pair.jsonl']);
  });

  it('a missing folder on the way to --out is created', async () => {
    writeFileSync(join(t.dir, 'keep.txt'), 'x');
    const r = await runCli(['router', 'train', '--data', 'pair.jsonl', '--out', 'a/b/model.json', '--hash-dim', '256', '--predictor', 'logistic', '--json'], { cwd: t.dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(t.dir, 'a/b/model.json'), 'utf8'))).toMatchObject({ format: 'llmrr-router-model', version: 1 });
    expect(readdirSync(join(t.dir, 'a/b'))).toEqual(['model.json']);
  });

  it('a Unix socket at --out is a usage error naming --out (exit 2) before training, not an internal error after it', { timeout: 60_000 }, async () => {
    const sub = join(t.dir, 'socket');
    mkdirSync(sub);
    const sock = join(sub, 'model.sock');
    const server = createServer();
    await new Promise<void>((done) => server.listen(sock, done));
    try {
      const r = await runCli(trainTo(sock), { cwd: sub });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/--out/) });
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('--out /dev/stdout with stdout appended to a log file (>> runs.log): the log keeps its earlier lines and gets the model alone (the summary on stderr, as with --out -)', { timeout: 120_000 }, async () => {
    const sub = join(t.dir, 'stdout-log');
    mkdirSync(sub);
    const log = join(sub, 'runs.log');
    writeFileSync(log, 'earlier run\n');
    const fd = openSync(log, 'a');
    let stderr = '';
    const mainTs = resolve(dirname(fileURLToPath(import.meta.url)), 'main.ts');
    let code: number | null;
    try {
      code = await new Promise<number | null>((done, fail) => {
        // A real process, as `pnpm llmrr ... --out /dev/stdout >> runs.log`; run from the package folder (tsx resolves there).
        const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', 'tsx', mainTs, ...trainTo('/dev/stdout')], { cwd: resolve(dirname(mainTs), '../..'), stdio: ['ignore', fd, 'pipe'] });
        child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.on('error', fail);
        child.on('close', done);
      });
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(log, 'utf8');
    expect({
      code,
      earlier: text.startsWith('earlier run\n'),
      model: (JSON.parse(text.slice('earlier run\n'.length)) as { format?: string }).format,
      summary: /"out": "([^"]*)"/.exec(stderr)?.[1],
      left: readdirSync(sub),
    }).toEqual({ code: 0, earlier: true, model: 'llmrr-router-model', summary: '/dev/stdout', left: ['runs.log'] });
  });
});

describe('writeOutFile: what the in-place write kept is kept', () => {
  it('a file made private (chmod 600) stays private when written over, and keeps its owner when run as root', async () => {
    const out = join(t.dir, 'private', 'model.json');
    await writeOutFile('--out', out, 'first\n');
    chmodSync(out, 0o600);
    const root = process.getuid?.() === 0;
    if (root) chownSync(out, 4242, 4243);
    await writeOutFile('--out', out, 'second\n');
    const st = statSync(out);
    expect({ text: readFileSync(out, 'utf8'), mode: (st.mode & 0o777).toString(8), left: readdirSync(join(t.dir, 'private')) }).toEqual({ text: 'second\n', mode: '600', left: ['model.json'] });
    if (root) expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: 4242, gid: 4243 });
  });

  it('a symbolic link at --out (current.json -> versions/v1.json) stays a link, the file it links to is replaced, no temporary file left in either folder', async () => {
    const sub = join(t.dir, 'linked');
    mkdirSync(join(sub, 'versions'), { recursive: true });
    writeFileSync(join(sub, 'versions', 'v1.json'), 'v1\n');
    symlinkSync(join('versions', 'v1.json'), join(sub, 'current.json'));
    await writeOutFile('--out', join(sub, 'current.json'), 'v2\n');
    expect({
      isLink: lstatSync(join(sub, 'current.json')).isSymbolicLink(),
      link: readlinkSync(join(sub, 'current.json')),
      target: readFileSync(join(sub, 'versions', 'v1.json'), 'utf8'),
      left: [readdirSync(sub).sort(), readdirSync(join(sub, 'versions'))],
    }).toEqual({ isLink: true, link: join('versions', 'v1.json'), target: 'v2\n', left: [['current.json', 'versions'], ['v1.json']] });
  });

  it('a dangling symbolic link into a folder not made yet (current.json -> versions/v2.json): the folder and the file it links to are created, the link stays', async () => {
    const sub = join(t.dir, 'dangling');
    mkdirSync(sub);
    symlinkSync(join('versions', 'v2.json'), join(sub, 'current.json'));
    await writeOutFile('--out', join(sub, 'current.json'), 'v2\n');
    expect({
      isLink: lstatSync(join(sub, 'current.json')).isSymbolicLink(),
      text: readFileSync(join(sub, 'versions', 'v2.json'), 'utf8'),
      left: readdirSync(join(sub, 'versions')),
    }).toEqual({ isLink: true, text: 'v2\n', left: ['v2.json'] });
  });

  it('a dangling symbolic link and a write failing halfway (a full disk): the file it links to is not left half written', async () => {
    const sub = join(t.dir, 'dangling-full');
    mkdirSync(join(sub, 'versions'), { recursive: true });
    symlinkSync(join('versions', 'v2.json'), join(sub, 'current.json'));
    fullDisk.on = true;
    let error = '';
    try {
      await writeOutFile('--out', join(sub, 'current.json'), '{"format":"llmrr-router-model","version":1}\n').catch((e: Error) => (error = e.message));
    } finally {
      fullDisk.on = false;
    }
    expect({ error, left: readdirSync(join(sub, 'versions')) }).toEqual({ error: expect.stringMatching(/ENOSPC/), left: [] });
  });

  it('a file name of 250 characters (NAME_MAX is 255) is written: the temporary name beside it stays within the limit', async () => {
    const sub = join(t.dir, 'long-name');
    const out = join(sub, `${'m'.repeat(245)}.json`);
    await writeOutFile('--out', out, 'x\n');
    expect({ text: readFileSync(out, 'utf8'), left: readdirSync(sub).length }).toEqual({ text: 'x\n', left: 1 });
  });

  it('a named pipe at --out (what /dev/stdout is in a pipeline) is written in place and stays a pipe', async () => {
    const fifo = join(t.dir, 'model.pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let read = '';
    reader.stdout.setEncoding('utf8').on('data', (c: string) => (read += c));
    const closed = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    try {
      await writeOutFile('--out', fifo, '{"format":"llmrr-router-model"}\n');
      // Hang guard: the reader ends when the writer closes the pipe; 10 s is far past that.
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      expect({ isFifo: lstatSync(fifo).isFIFO(), read }).toEqual({ isFifo: true, read: '{"format":"llmrr-router-model"}\n' });
    } finally {
      if (reader.exitCode === null && reader.signalCode === null) reader.kill();
    }
  });

  it('two writes to one --out at once from one pid (two containers with pid 1 sharing a volume) each land whole, neither fails on the other\'s temporary file', async () => {
    const sub = join(t.dir, 'concurrent');
    const out = join(sub, 'model.json');
    // 1 MB: written in several chunks, so the two writes interleave.
    const big = `${'a'.repeat(1 << 20)}\n`;
    const small = `${'b'.repeat(1000)}\n`;
    const results = await Promise.allSettled([writeOutFile('--out', out, big), writeOutFile('--out', out, small)]);
    const text = readFileSync(out, 'utf8');
    expect({
      results: results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).message.slice(0, 80))),
      written: text === big ? 'big' : text === small ? 'small' : `neither: ${text.length} chars`,
      left: readdirSync(sub),
    }).toEqual({ results: ['ok', 'ok'], written: expect.stringMatching(/^(big|small)$/), left: ['model.json'] });
  });
});
