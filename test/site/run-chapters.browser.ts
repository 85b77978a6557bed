/**
 * Issue 19's acceptance test: every code cell of every chapter runs in the browser (run mode,
 * quick mode, wasm backend, headless Chromium), in order, with no error; key outputs equal the
 * Jupyter run of the same code (build/chapters/<chapter>.ipynb, written by `npm run execute` in
 * quick mode just before this test in scripts/test.sh):
 *   - softmax tables (every table with a column of weights α) cell by cell: the same text, or the
 *     same number at the printed precision (showTable prints an integer without decimals, so a
 *     float32 sum of weights 0.99999994 prints "1.000" where an exact 1 prints "1");
 *   - training losses: every `loss <decimal>` a cell prints, within 1e-4 relative (plus half a unit
 *     of the last printed digit: the print rounds) — same seeds, same batches.
 * Each progress bar of the Jupyter run is there too, ending at the same count.
 * "Run all" times per chapter go to build/run-mode-times.json and the log.
 * Run by scripts/test.sh (`npx vitest run --config test/site/run-chapters.vitest.mts`), after the chapters ran in Jupyter.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import type {Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {buildSite, BuildResult} from '../../site/build';
import {serve} from '../../site/serve';
import {hasChromium, launchChromium, SHOTS, stopSite} from './fixtures';

const ROOT = resolve(__dirname, '../..');
const REFERENCE = resolve(ROOT, process.env.COURSE_RUNNER_REFERENCE ?? 'build/chapters');
const TIMES = join(ROOT, 'build/run-mode-times.json');

type Output = {output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]>};
const text = (s: unknown): string => Array.isArray(s) ? s.join('') : typeof s === 'string' ? s : '';
const codeCells = (nb: any): any[] => nb.cells.filter((c: any) => c.cell_type === 'code');

/** The table cells of each HTML table whose header has an α column (a table of softmax weights). */
export function softmaxTables(htmls: string[]): string[][] {
  const out: string[][] = [];
  for (const h of htmls) {
    for (const t of h.match(/<table[\s\S]*?<\/table>/g) ?? []) {
      const head = /<thead>([\s\S]*?)<\/thead>/.exec(t)?.[1] ?? '';
      if (!/α/.test(head)) continue;
      out.push([...t.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map(m => m[1]!.replace(/<[^>]+>/g, '').trim()));
    }
  }
  return out;
}

/** Two table cells are equal: the same text, or numbers equal at the precision printed. */
export function sameCell(a: string, b: string): boolean {
  if (a === b) return true;
  const num = /^-?\d+(\.(\d+))?$/;
  const ma = num.exec(a), mb = num.exec(b);
  if (!ma || !mb) return false;
  const decimals = Math.max(ma[2]?.length ?? 0, mb[2]?.length ?? 0);
  return Math.abs(Number(a) - Number(b)) <= 0.5 * 10 ** -decimals;
}

/** Every `loss <decimal>` in a text (not e-notation: those are printed differences, not losses). */
export function losses(s: string): {value: number; decimals: number}[] {
  return [...s.matchAll(/\bloss (-?\d+\.(\d+))(?![\de])/g)].map(m => ({value: Number(m[1]), decimals: m[2]!.length}));
}

interface CellRun { ok: boolean; seconds: number; error?: {name: string; message: string; line?: number} }

describe.skipIf(!hasChromium)('every chapter runs in the browser (run mode, quick, wasm) like in Jupyter', () => {
  let tmp: string, site: BuildResult, server: Server, base: string, browser: any;
  const times: Record<string, {seconds: number; cells: number; backend: string; slowest: {cell: number; seconds: number}[]}> = {};

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'course-run-chapters-'));
    site = await buildSite({outDir: join(tmp, 'site'), quiet: true});
    ({server, url: base} = await serve(site.outDir, 0));
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    mkdirSync(join(ROOT, 'build'), {recursive: true});
    writeFileSync(TIMES, JSON.stringify({backend: 'wasm', mode: 'quick', browser: 'headless Chromium', chapters: times}, null, 1) + '\n');
    await stopSite(browser, server, tmp);
  });

  const chapters = ['01-attention', '02-transformer', '03-vit', '04-cifar-training'].filter(c => existsSync(join(ROOT, 'chapters', `${c}.ipynb`)));
  it.each(chapters)('%s: Run all without an error; softmax tables and training losses equal the Jupyter run', async (ch) => {
    const source = JSON.parse(readFileSync(join(ROOT, 'chapters', `${ch}.ipynb`), 'utf8'));
    const refFile = join(REFERENCE, `${ch}.ipynb`);
    expect(existsSync(refFile), `no Jupyter run of ${ch} in ${REFERENCE}: run \`npm run execute -- chapters/${ch}.ipynb\` (quick mode) first`).toBe(true);
    const ref = JSON.parse(readFileSync(refFile, 'utf8'));
    const refCells = codeCells(ref), srcCells = codeCells(source);
    expect(refCells.map(c => text(c.source)), `${refFile} ran other code than chapters/${ch}.ipynb: run it again`).toEqual(srcCells.map(c => text(c.source)));
    expect(ref.metadata?.course?.mode ?? 'quick', 'the reference must be a quick-mode run').not.toBe('full');

    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const pageErrors: string[] = [];
    page.on('pageerror', (e: Error) => pageErrors.push(e.message));
    await page.goto(`${base}chapters/${ch}.html?backend=wasm&mode=quick`);
    await page.click('.run-toggle');
    await page.waitForFunction(() => (window as any).courseRunner);
    const ready = await page.evaluate(() => (window as any).courseRunner.ready());
    expect(ready.backend).toMatch(/backend wasm/);
    const n = await page.evaluate(() => (window as any).courseRunner.cells());
    expect(n).toBe(srcCells.length);
    const result = await page.evaluate(() => (window as any).courseRunner.runAll()) as {ok: boolean; failed?: number; error?: CellRun['error']; seconds: number; cellSeconds: number[]};
    const failed = result.failed !== undefined ? `cell ${result.failed + 1} failed: ${result.error?.name}: ${result.error?.message}${result.error?.line ? ` (line ${result.error.line})` : ''}` : '';
    expect(result.ok, failed).toBe(true);
    // the slowest cells (1-based, as the page numbers them): where a chapter's browser time goes
    const slowest = result.cellSeconds.map((s, i) => ({cell: i + 1, seconds: Math.round(s * 10) / 10}))
      .sort((a, b) => b.seconds - a.seconds).slice(0, 3);
    times[ch] = {seconds: Math.round(result.seconds * 10) / 10, cells: n, backend: ready.backend, slowest};
    console.log(`${ch}: Run all in ${result.seconds.toFixed(1)} s in headless Chromium (${ready.backend}, quick mode); Jupyter quick run ${ref.metadata?.course?.execution_seconds ?? '?'} s; slowest cells ${slowest.map(c => `${c.cell}: ${c.seconds} s`).join(', ')}`);

    const browserCells = await page.evaluate(() => Array.from(document.querySelectorAll('.code-cell .outputs'), o => ({
      html: Array.from(o.querySelectorAll('.output.html'), h => h.innerHTML),
      streams: Array.from(o.querySelectorAll('pre.output.stream'), p => p.textContent ?? '').join(''),
      errors: Array.from(o.querySelectorAll('pre.output.error'), p => p.textContent ?? ''),
      progress: Array.from(o.querySelectorAll('.output.progress progress'), p => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]),
    })));
    let tables = 0, lossCount = 0, bars = 0;
    refCells.forEach((c, i) => {
      const outs: Output[] = c.outputs ?? [];
      const b = browserCells[i]!;
      expect(b.errors, `cell ${i + 1}`).toEqual([]);
      const want = softmaxTables(outs.map(o => text(o.data?.['text/html'])).filter(Boolean));
      const got = softmaxTables(b.html);
      expect(got.map(t => t.length), `softmax tables of cell ${i + 1}`).toEqual(want.map(t => t.length));
      want.forEach((t, k) => t.forEach((w, j) => expect(sameCell(got[k]![j]!, w), `cell ${i + 1}, table ${k + 1}, entry ${j + 1}: browser "${got[k]![j]}", Jupyter "${w}"`).toBe(true)));
      tables += want.length;
      const refLoss = losses(outs.filter(o => o.output_type === 'stream').map(o => text(o.text)).join(''));
      const gotLoss = losses(b.streams);
      expect(gotLoss.length, `losses printed by cell ${i + 1}`).toBe(refLoss.length);
      refLoss.forEach((r, k) => {
        const tol = 1e-4 * Math.abs(r.value) + 0.5 * 10 ** -r.decimals;
        expect(Math.abs(gotLoss[k]!.value - r.value), `cell ${i + 1}, loss ${k + 1}: browser ${gotLoss[k]!.value}, Jupyter ${r.value}`).toBeLessThanOrEqual(tol + 1e-12);
      });
      lossCount += refLoss.length;
      // a training loop's progress bar: one per bar of the Jupyter run, ending where it ended
      const refBars = outs.map(o => /\] (\d+)\/(\d+) /.exec(text(o.data?.['text/plain']))).filter(m => m).map(m => [Number(m![1]), Number(m![2])]);
      expect(b.progress, `progress bars of cell ${i + 1}`).toEqual(refBars);
      bars += refBars.length;
    });
    console.log(`${ch}: ${tables} softmax tables equal, ${lossCount} training losses within tolerance of the Jupyter run, ${bars} progress bars`);
    if (ch === '01-attention') expect(tables).toBeGreaterThanOrEqual(2);
    if (ch === '01-attention' || ch === '02-transformer') expect(lossCount).toBeGreaterThan(0);
    await page.screenshot({path: join(SHOTS, `run-mode-${ch}.png`)});
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 1_800_000);
});
