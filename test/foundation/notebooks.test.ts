import {execFileSync, spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, existsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {describe, expect, it} from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CHAPTERS = ['01-attention', '02-transformer', '03-vit', '04-cifar-training'];

function readNb(p: string): any {
  return JSON.parse(readFileSync(p, 'utf8'));
}

const inGit = spawnSync('git', ['rev-parse', '--verify', 'HEAD'], {cwd: ROOT, stdio: 'ignore'}).status === 0;
/** The committed text of a file (HEAD), not the working copy a learner's Jupyter autosaves into. */
function committed(rel: string): string {
  return inGit ? execFileSync('git', ['show', `HEAD:${rel}`], {cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20}) : readFileSync(join(ROOT, rel), 'utf8');
}

describe('chapters', () => {
  it('all four chapters exist, use the tslab-course kernel and are committed without outputs', () => {
    const files = readdirSync(join(ROOT, 'chapters')).filter(f => f.endsWith('.ipynb') && !f.startsWith('.')).sort();
    expect(files).toEqual(CHAPTERS.map(c => `${c}.ipynb`));
    for (const f of files) {
      const nb = JSON.parse(committed(`chapters/${f}`));
      expect(nb.metadata.kernelspec.name, f).toBe('tslab-course');
      for (const [i, cell] of nb.cells.entries()) {
        if (cell.cell_type !== 'code') continue;
        expect(cell.outputs, `${f} cell ${i + 1} has outputs`).toEqual([]);
        expect(cell.execution_count, `${f} cell ${i + 1} has an execution count`).toBeNull();
      }
    }
  });
});

const hasNbconvert = spawnSync('/usr/bin/python3', ['-I', '-c', 'import nbconvert'], {cwd: '/', stdio: 'ignore'}).status === 0;

describe.skipIf(!hasNbconvert)('git filter course-strip-outputs (a learner\'s outputs never reach a commit)', () => {
  const withOutputs = () => {
    const nb = readNb(join(ROOT, 'chapters', '01-attention.ipynb'));
    const code = nb.cells.findIndex((c: any) => c.cell_type === 'code');
    nb.cells[code].outputs = [{output_type: 'stream', name: 'stdout', text: ['tfjs 4.22.0, backend wasm\n']}];
    nb.cells[code].execution_count = 1;
    nb.cells[code].metadata = {scrolled: true, execution: {'iopub.status.busy': '2026-01-01T00:00:00Z'}};
    nb.metadata.language_info = {...nb.metadata.language_info, version: '3.7.2', codemirror_mode: {mode: 'typescript'}};
    return nb;
  };

  it('is scoped by .gitattributes to chapters/*.ipynb, and npm run setup configured it', () => {
    const attrs = readFileSync(join(ROOT, '.gitattributes'), 'utf8');
    expect(attrs).toMatch(/^chapters\/\*\.ipynb filter=course-strip-outputs$/m);
    if (!inGit) return;
    const check = (p: string) => execFileSync('git', ['check-attr', 'filter', '--', p], {cwd: ROOT, encoding: 'utf8'}).trim();
    expect(check('chapters/01-attention.ipynb')).toBe('chapters/01-attention.ipynb: filter: course-strip-outputs');
    expect(check('site/full-runs/01-attention.ipynb')).toBe('site/full-runs/01-attention.ipynb: filter: unspecified');
    const r = spawnSync('git', ['config', 'filter.course-strip-outputs.clean'], {cwd: ROOT, encoding: 'utf8'});
    expect(r.stdout.trim(), 'run npm run setup: it configures the filter').toBe('/usr/bin/python3 scripts/strip_outputs.py');
  });

  it('strips outputs, counts and run metadata from chapters on git add (byte-identical to the clean chapter); site/full-runs keeps them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'course-filter-'));
    const git = (...a: string[]) => execFileSync('git', a, {cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20});
    git('init', '-q');
    git('config', 'user.email', 't@example.com'); git('config', 'user.name', 't');
    git('config', 'filter.course-strip-outputs.clean', `/usr/bin/python3 ${join(ROOT, 'scripts/strip_outputs.py')}`);
    writeFileSync(join(dir, '.gitattributes'), readFileSync(join(ROOT, '.gitattributes')));
    mkdirSync(join(dir, 'chapters')); mkdirSync(join(dir, 'site/full-runs'), {recursive: true});
    const text = JSON.stringify(withOutputs(), null, 1) + '\n';
    writeFileSync(join(dir, 'chapters/01-attention.ipynb'), text);
    writeFileSync(join(dir, 'site/full-runs/01-attention.ipynb'), text);
    git('add', '-A'); git('commit', '-qm', 'x');
    expect(git('show', 'HEAD:chapters/01-attention.ipynb')).toBe(readFileSync(join(ROOT, 'chapters/01-attention.ipynb'), 'utf8'));
    const site = JSON.parse(git('show', 'HEAD:site/full-runs/01-attention.ipynb'));
    expect(site.cells.find((c: any) => c.cell_type === 'code').outputs).toHaveLength(1);
    // the working copy keeps the learner's outputs, and git sees no change to commit
    expect(JSON.parse(readFileSync(join(dir, 'chapters/01-attention.ipynb'), 'utf8')).cells.some((c: any) => c.outputs?.length)).toBe(true);
    expect(git('status', '--porcelain')).toBe('');
  }, 60_000);
});

describe('npm run setup', () => {
  it('checks for the programs (a missing jupyter-notebook is installed, whatever Python can import)', () => {
    const bin = mkdtempSync(join(tmpdir(), 'course-bin-'));
    for (const p of ['node', 'git', 'bash', 'env', 'dirname', 'sha256sum', 'cut', 'cat']) {
      const where = spawnSync('bash', ['-c', `command -v ${p}`], {encoding: 'utf8'}).stdout.trim();
      if (where) symlinkSync(where, join(bin, p));
    }
    // Python's notebook package stays importable; the program is what `npm run notebook` needs
    const r = spawnSync('bash', [join(ROOT, 'scripts/setup.sh'), '--check-apt'], {encoding: 'utf8', env: {...process.env, PATH: bin}});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^missing Debian packages: .*\bjupyter-notebook\b/m);
    expect(r.stdout).toMatch(/\bpython3-nbclient\b/);
    expect(r.stdout).toMatch(/\bjupyter-client\b/);
    expect(r.stdout).toMatch(/\bchromium\b/);
  });

  it('the notebook command adds --allow-root for root and names what is missing', () => {
    const sh = readFileSync(join(ROOT, 'scripts/notebook.sh'), 'utf8');
    expect(sh).toMatch(/id -u\)" -eq 0 \] && args\+=\(--allow-root\)/);
    const bin = mkdtempSync(join(tmpdir(), 'course-bin-'));
    for (const p of ['bash', 'dirname']) symlinkSync(spawnSync('bash', ['-c', `command -v ${p}`], {encoding: 'utf8'}).stdout.trim(), join(bin, p));
    const r = spawnSync('bash', [join(ROOT, 'scripts/notebook.sh')], {encoding: 'utf8', env: {...process.env, PATH: bin}});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the program jupyter-notebook is missing — run npm run setup');
  });

  it('npm run course builds and serves the site even when a chapter fails, and says which way to go', () => {
    // a copy of the course's layout with stand-ins: setup succeeds, one chapter fails (as offline
    // without CIFAR-10), the site build and the server only say that they ran
    const dir = mkdtempSync(join(tmpdir(), 'course-run-'));
    mkdirSync(join(dir, 'scripts')); mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'scripts/course.sh'), readFileSync(join(ROOT, 'scripts/course.sh'), 'utf8'));
    writeFileSync(join(dir, 'scripts/setup.sh'), 'echo "[setup] done"\n');
    writeFileSync(join(dir, 'scripts/run_notebooks.py'),
      'import os, sys\nprint("FAIL chapters/03-vit.ipynb: DownloadError")\nsys.exit(int(os.environ["NB_RC"]))\n');
    writeFileSync(join(dir, 'site/build.ts'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'x', version: '0.0.0',
      scripts: {'build:site': 'echo built the site', serve: 'echo serving the site'}}));
    const run = (rc: number) => spawnSync('bash', [join(dir, 'scripts/course.sh')], {encoding: 'utf8', env: {...process.env, NB_RC: String(rc)}});
    const failed = run(1);
    expect(failed.status, failed.stderr).toBe(0);
    expect(failed.stdout).toMatch(/FAIL chapters\/03-vit[\s\S]*built the site[\s\S]*serving the site/);
    expect(failed.stderr).toContain('some chapters failed in Jupyter');
    const ok = run(0);
    expect(ok.stdout).toMatch(/built the site[\s\S]*serving the site/);
    expect(ok.stderr).not.toContain('failed');
  });
});

const hasJupyter = spawnSync('/usr/bin/python3', ['-c', 'import nbclient'], {stdio: 'ignore'}).status === 0;

describe.skipIf(!hasJupyter)('execute command', () => {
  it('fails naming the chapter, the cell and the error for a deliberately failing cell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'course-nb-'));
    const nb = readNb(join(ROOT, 'chapters', '01-attention.ipynb'));
    nb.cells.splice(2, 0, {cell_type: 'code', metadata: {}, execution_count: null, outputs: [],
      source: 'const n: number = 1;\nthrow new Error("deliberate failure in a test cell " + n);'});
    nb.cells.push({cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: 'console.log("after")'});
    // the copy must live in chapters/ so that its ../lib imports resolve as in the real chapter
    const copy = join(ROOT, 'chapters', '.broken-copy.ipynb');
    writeFileSync(copy, JSON.stringify(nb));
    try {
      const r = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts/run_notebooks.py'), '--out', dir, copy],
        {encoding: 'utf8', env: {...process.env, COURSE_MODE: 'quick'}});
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/FAIL chapters\/\.broken-copy\.ipynb \([\d.]+s\): cell 3 \(code cell 2\) failed/);
      expect(r.stdout).toContain('deliberate failure in a test cell 1');
      expect(r.stdout).toMatch(/0 passed, 1 failed/);
      expect(existsSync(join(dir, '.broken-copy.ipynb'))).toBe(true);
    } finally {
      execFileSync('rm', ['-f', copy]);
    }
  }, 120_000);

  it('reports a type error inside a cell with its line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'course-nb-'));
    const nb = readNb(join(ROOT, 'chapters', '01-attention.ipynb'));
    nb.cells = [nb.cells[0], {cell_type: 'code', metadata: {}, execution_count: null, outputs: [],
      source: 'import {maskedSoftmax} from "../lib/attention/softmax";\nconst s: string = maskedSoftmax;'}];
    const copy = join(ROOT, 'chapters', '.typeerror-copy.ipynb');
    writeFileSync(copy, JSON.stringify(nb));
    try {
      const r = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts/run_notebooks.py'), '--out', dir, copy], {encoding: 'utf8'});
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/cell 2 \(code cell 1\) failed/);
      expect(r.stdout).toMatch(/2:7 - Type .* is not assignable to type 'string'/);
    } finally {
      execFileSync('rm', ['-f', copy]);
    }
  }, 120_000);
});

describe('npm run lab without JupyterLab', () => {
  function runLab(withPipLog: boolean): {status: number | null; stderr: string} {
    const dir = mkdtempSync(join(tmpdir(), 'lab-'));
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'scripts/notebook.sh'), readFileSync(join(ROOT, 'scripts/notebook.sh')));
    if (withPipLog) writeFileSync(join(dir, 'build/lab-pip.log'), 'ERROR: No matching distribution found for jupyterlab\n');
    const r = spawnSync('bash', [join(dir, 'scripts/notebook.sh'), '--lab'], {cwd: dir, encoding: 'utf8'});
    return {status: r.status, stderr: r.stderr};
  }
  it('before setup: says to run npm run setup, or npm run notebook', () => {
    const r = runLab(false);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('JupyterLab is not installed in .venv/ — run npm run setup');
    expect(r.stderr).toContain('npm run notebook');
  });
  it('after setup could not install it: names pip, its index and the log, and offers npm run notebook', () => {
    const r = runLab(true);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("pip could not install it from its configured index (build/lab-pip.log)");
    expect(r.stderr).toContain('use npm run notebook');
  });
});
