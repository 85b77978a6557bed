import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {describe, expect, it} from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CHAPTERS = ['01-attention', '02-transformer', '03-vit', '04-cifar-training'];

function readNb(p: string): any {
  return JSON.parse(readFileSync(p, 'utf8'));
}

describe('chapters', () => {
  it('all four chapters exist, use the tslab-course kernel and are committed without outputs', () => {
    const files = readdirSync(join(ROOT, 'chapters')).filter(f => f.endsWith('.ipynb')).sort();
    expect(files).toEqual(CHAPTERS.map(c => `${c}.ipynb`));
    for (const f of files) {
      const nb = readNb(join(ROOT, 'chapters', f));
      expect(nb.metadata.kernelspec.name, f).toBe('tslab-course');
      for (const [i, cell] of nb.cells.entries()) {
        if (cell.cell_type !== 'code') continue;
        expect(cell.outputs, `${f} cell ${i + 1} has outputs`).toEqual([]);
        expect(cell.execution_count, `${f} cell ${i + 1} has an execution count`).toBeNull();
      }
    }
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
