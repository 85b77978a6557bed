/** Site builder pieces without a browser: markdown + math, outputs, import links, PNG, server. */
import {mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync} from 'node:fs';
import {request} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {buildSite, overlayFullRun} from '../../site/build';
import {findExports, findImports, highlight, linkImports, SourceModule} from '../../site/code';
import {createMarkdown, Heading} from '../../site/markdown';
import {ansiToHtml, camelBreaks, cardSummary, chartAlt, firstSentences, markdownText, markNumericCells, mergeStreams, pngSize} from '../../site/notebook';
import {encodePng} from '../../lib/viz/vit';
import {dataFractionSpec} from '../../lib/viz/scaling';
import {serve} from '../../site/serve';
import {decodeRgbPng, safetensorsBytes} from './fixtures';

describe('markdown', () => {
  const render = (src: string) => { const h: Heading[] = []; return {html: createMarkdown().render(src, h, new Set()), h}; };

  it('renders $…$ inline and $$…$$ display math with KaTeX, and leaves prices alone', () => {
    const {html} = render('Weights $\\alpha_j$ sum to 1; it costs $5 and $6.\n\n$$\n\\sum_j \\alpha_j = 1\n$$');
    expect(html.match(/class="katex"/g)).toHaveLength(2);
    // not a tab stop by itself: the site's script makes only a formula that scrolls focusable
    expect(html).toContain('<div class="math-display"><span class="katex-display">');
    expect(html).toContain('it costs $5 and $6.');
    expect(html).toContain('<annotation encoding="application/x-tex">\\alpha_j</annotation>');
  });

  it('does not treat underscores inside math as emphasis', () => {
    const {html} = render('$a_i b_j$ and $c_k$');
    expect(html).not.toContain('<em>');
  });

  it('gives headings unique anchors and collects them for the TOC', () => {
    const {html, h} = render('# Title\n\n## Soft max\n\n## Soft max\n\n### Café `x`');
    expect(h.map(x => x.id)).toEqual(['title', 'soft-max', 'soft-max-2', 'cafe-x']);
    expect(html).toContain('<h2 id="soft-max-2">Soft max <a class="anchor" href="#soft-max-2"');
  });

  it('markdownText keeps words and TeX, drops markup', () => {
    expect(markdownText('## The **softmax** $\\mathrm{softmax}(x)_i$ [link](x.html)')).toBe('The softmax softmax(x)i link');
  });
});

describe('notebook text', () => {
  it('summaries keep whole sentences within the limit', () => {
    expect(firstSentences('One two. Three four five six. Seven.', 30)).toBe('One two. Three four five six.');
    expect(firstSentences('No sentence end here at all', 12)).toBe('No sentence …');
  });

  it('card summaries: emphasis is prose, a list-introducing sentence is dropped, names keep underscores', () => {
    expect(cardSummary('# Title\n\n*"An image"* (2020): cut an image into patches.\n\nMore.')).toBe('"An image" (2020): cut an image into patches.');
    expect(cardSummary('Chapter 3 built it; this one trains it. We go through the pipeline:\n\n1. data'))
      .toBe('Chapter 3 built it; this one trains it.');
    expect(cardSummary('- a list\n\nRun with `COURSE_MODE=quick` and _emphasis_.')).toBe('Run with COURSE_MODE=quick and emphasis.');
    expect(markdownText('snake_case and __bold__')).toBe('snake_case and bold');
  });

  it('merges consecutive stream outputs of the same name only', () => {
    const o = (name: string, text: string | string[]) => ({output_type: 'stream', name, text});
    expect(mergeStreams([o('stdout', 'a\n'), o('stdout', ['b\n']), o('stderr', 'c\n'), o('stdout', 'd\n')]))
      .toEqual([o('stdout', 'a\nb\n'), o('stderr', 'c\n'), o('stdout', 'd\n')]);
  });
});

describe('code', () => {
  const modules = new Map<string, SourceModule>([['lib/attention/softmax.ts', {path: 'lib/attention/softmax.ts', url: 'source/lib/attention/softmax.html', exports: new Set(['maskedSoftmax', 'MASK_FILL'])}]]);

  it('links course imports to the module page and imported names to their definition', () => {
    const code = "import {maskedSoftmax as ms, MASK_FILL} from '../lib/attention/softmax';\nconst w = ms(x); // ms here is a comment\nconst s = 'ms';";
    const links = findImports(code, 'chapters/01-attention.ipynb', modules);
    expect(links).toEqual([{spec: '../lib/attention/softmax', moduleUrl: 'source/lib/attention/softmax.html',
      names: new Map([['ms', 'source/lib/attention/softmax.html#maskedSoftmax'], ['MASK_FILL', 'source/lib/attention/softmax.html#MASK_FILL']])}]);
    const html = linkImports(highlight(code), links, '../');
    expect(html).toContain('<a class="code-link" href="../source/lib/attention/softmax.html"><span class="hljs-string">');
    expect(html.match(/href="..\/source\/lib\/attention\/softmax.html#maskedSoftmax"/g)).toHaveLength(2); // import + call, not comment/string
  });

  it('ignores package imports and unknown files', () => {
    expect(findImports("import * as tf from '@tensorflow/tfjs';\nimport {x} from './nope';", 'lib/a.ts', modules)).toEqual([]);
  });

  it('finds exported declarations with their line numbers', () => {
    expect([...findExports('/** doc */\nexport function f() {}\nexport const A = 1;\nexport interface I {}\nconst z = 1;\nexport {z as Z};').entries()])
      .toEqual([['f', 2], ['A', 3], ['I', 4], ['Z', 6]]);
  });

  it('turns ANSI colours into spans and escapes HTML', () => {
    expect(ansiToHtml('\u001b[31m<b>\u001b[0m ok')).toBe('<span class="ansi-red">&lt;b&gt;</span> ok');
  });
});

describe('tables', () => {
  it('number cells get class num; a header gets it when every cell of its column has it, prose columns stay unmarked', () => {
    const html = '<table><thead><tr><th>lever</th><th>what</th><th>seeds</th><th>mean %</th><th>vs baseline</th></tr></thead>'
      + '<tbody><tr><td>ema</td><td>the EMA</td><td>3</td><td>59.04</td><td>-0.29 (within 2 SE)</td></tr>'
      + '<tr><td>baseline</td><td>as it is</td><td>3</td><td>59.33 %</td><td></td></tr></tbody></table>';
    const out = markNumericCells(html);
    expect([...out.matchAll(/<th( class="num")?>([^<]*)</g)].map((m) => `${m[2]}${m[1] ? ':num' : ''}`))
      .toEqual(['lever', 'what', 'seeds:num', 'mean %:num', 'vs baseline']);
    expect([...out.matchAll(/<td class="num">([^<]*)</g)].map((m) => m[1])).toEqual(['3', '59.04', '3', '59.33 %']);
    // a table with merged cells keeps its headers as they are
    const merged = html.replace('<th>lever</th>', '<th colspan="1">lever</th>');
    expect(markNumericCells(merged)).not.toMatch(/<th class="num">/);
    // a mean ± sd with its number of seeds is a number; a comment in parentheses is not
    const cells = ['68.97 ± 0.26 (3 seeds)', '26.2 (1 seed)', '-0.29 (within 2 SE)', '78.57 ± 0.01 (2 seeds) best']
      .map((c) => markNumericCells(`<td>${c}</td>`).startsWith('<td class="num">'));
    expect(cells).toEqual([true, true, false, false]);
    // its value and its count each stay on one line; the count may wrap below the value
    expect(markNumericCells('<td>68.97 ± 0.26 (3 seeds)</td>'))
      .toBe('<td class="num"><span class="nw">68.97 ± 0.26</span> <span class="nw">(3 seeds)</span></td>');
    expect(markNumericCells('<td>+9.65 (&gt; 2 SE)</td>')).toBe('<td><span class="nw">+9.65</span> <span class="nw">(&gt; 2 SE)</span></td>');
  });

  it('lets a header wrap at its camelCase joins, never inside a word', () => {
    expect(camelBreaks('scaledDot: r')).toBe('scaled<wbr>Dot: r');
    expect(camelBreaks('params (countViTParams)')).toBe('params (count<wbr>ViT<wbr>Params)');
    expect(camelBreaks('dModel')).toBe('dModel');
    expect(camelBreaks('seeds &nbsp;GMACs / image')).toBe('seeds &nbsp;GMACs / image');
    const out = markNumericCells('<table><thead><tr><th>key</th><th>scaledDot: r</th></tr></thead>'
      + '<tbody><tr><td>s_1</td><td>0.707</td></tr></tbody></table>');
    expect(out).toContain('<th class="num">scaled<wbr>Dot: r</th>');
    expect(out).toContain('<td>s_1</td>');
    expect(markNumericCells('<table><tbody><tr><td><code>vit/tokenizers.ts</code></td></tr></tbody></table>'
      + '<p><code>a/b</code></p>')).toBe('<table><tbody><tr><td><code>vit/<wbr>tokenizers.ts</code></td></tr></tbody>'
      + '</table><p><code>a/b</code></p>');
  });
});

describe('png', () => {
  it('the site reads the size of a PNG from lib/viz/vit.ts\'s encoder, and its pixels decode back exactly', () => {
    const px = Uint8Array.from({length: 5 * 3 * 3}, (_, i) => (i * 53) % 256);
    const png = Buffer.from(encodePng({width: 5, height: 3, data: px}));
    expect(pngSize(png)).toEqual({width: 5, height: 3});
    expect(Array.from(decodeRgbPng(png))).toEqual(Array.from(px));
  });
});

describe('build and serve', () => {
  it('without a trained model the ViT demo shows a clear note and loads no model code', async () => {
    const out = mkdtempSync(join(tmpdir(), 'course-site-nomodel-'));
    try {
      const r = await buildSite({outDir: out, modelsDir: join(out, 'no-models'), quiet: true});
      expect(r.model).toBe(false);
      const ch3 = readFileSync(join(out, 'chapters/03-vit.html'), 'utf8');
      expect(ch3).toContain('Model not trained yet.');
      expect(ch3).not.toContain('demo-vit.js');
      expect(readFileSync(join(out, 'chapters/01-attention.html'), 'utf8')).toContain('demo-attention.js');
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  });

  it('serves with the right MIME types, 404s missing files and refuses paths outside the site', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'course-serve-'));
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'index.html'), '<p>hi</p>');
    writeFileSync(join(dir, 'a/x.wasm'), Buffer.from([0, 97, 115, 109]));
    writeFileSync(join(dir, 'n.ipynb'), '{}');
    writeFileSync(join(dir, 'm.safetensors'), safetensorsBytes({}));
    const {server, url} = await serve(dir, 0);
    const get = (path: string) => new Promise<{status: number; type?: string}>((ok, fail) => {
      request(new URL(url), {path, method: 'GET'}, res => { res.resume(); ok({status: res.statusCode!, type: res.headers['content-type']}); }).on('error', fail).end();
    });
    try {
      expect(url).toMatch(/^http:\/\/localhost:\d+\/$/);
      expect(await get('/')).toEqual({status: 200, type: 'text/html; charset=utf-8'});
      expect(await get('/a/x.wasm')).toEqual({status: 200, type: 'application/wasm'});
      expect(await get('/n.ipynb')).toEqual({status: 200, type: 'application/x-ipynb+json'});
      expect((await get('/nope.html')).status).toBe(404);
      for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/a/..%2f..%2f..%2fetc%2fpasswd']) {
        expect([403, 404], p).toContain((await get(p)).status);
      }
    } finally {
      server.close();
      rmSync(dir, {recursive: true, force: true});
    }
  });
});

describe('full-mode runs (site/full-runs)', () => {
  const md = (s: string) => ({cell_type: 'markdown', metadata: {}, source: [s]});
  const code = (s: string, out?: string) => ({cell_type: 'code', metadata: {}, execution_count: out ? 1 : null, source: [s],
    outputs: out ? [{output_type: 'stream', name: 'stdout', text: [out]}] : []});
  const chapter = {nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [md('# T\n\nnew prose'), code('const a = 1;'), md('more'), code('console.log(a)')]};

  it('a run of the current code lends its outputs to the current chapter (prose from the chapter)', () => {
    const run = {nbformat: 4, nbformat_minor: 5, metadata: {course: {execution_seconds: 12.5}},
      cells: [md('# T\n\nold prose'), code('const a = 1;', ''), code('console.log(a)', 'exact match 99.8 %\n')]};
    const o = overlayFullRun(chapter, run);
    expect(o.reason).toBeUndefined();
    expect(o.nb.cells.map((c: any) => c.source.join(''))).toEqual(['# T\n\nnew prose', 'const a = 1;', 'more', 'console.log(a)']);
    expect(o.nb.cells[3].outputs[0].text).toEqual(['exact match 99.8 %\n']);
    expect(o.nb.metadata.course).toEqual({execution_seconds: 12.5, mode: 'full'});
  });

  it('a run of older code is refused, naming the cell', () => {
    const stale = {nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [code('const a = 2;', ''), code('console.log(a)', '2\n')]};
    expect(overlayFullRun(chapter, stale)).toEqual({reason: 'code cell 1 differs from the chapter\'s'});
    expect(overlayFullRun(chapter, {cells: [code('const a = 1;')]}).reason).toBe('it has 1 code cells, the chapter 2');
  });

  it('the builder shows a current full run and ignores a stale one with a warning', async () => {
    const root = mkdtempSync(join(tmpdir(), 'site-full-'));
    try {
      for (const d of ['chapters', 'full', 'quick', 'lib', 'site/client']) mkdirSync(join(root, d), {recursive: true});
      for (const f of readdirSync(join(__dirname, '../../site/client'))) writeFileSync(join(root, 'site/client', f), readFileSync(join(__dirname, '../../site/client', f)));
      symlinkSync(join(__dirname, '../../node_modules'), join(root, 'node_modules'));
      writeFileSync(join(root, 'chapters/01-a.ipynb'), JSON.stringify(chapter));
      writeFileSync(join(root, 'chapters/02-b.ipynb'), JSON.stringify(chapter));
      const run = (out: string) => ({...chapter, metadata: {course: {execution_seconds: 3}}, cells: chapter.cells.map(c => c.cell_type === 'code' ? {...c, outputs: [{output_type: 'stream', name: 'stdout', text: [out]}]} : c)});
      writeFileSync(join(root, 'full/01-a.ipynb'), JSON.stringify(run('FULL-RUN-OUTPUT\n')));
      writeFileSync(join(root, 'full/02-b.ipynb'), JSON.stringify({...run('STALE\n'), cells: [code('old()', 'STALE\n')]}));
      writeFileSync(join(root, 'quick/01-a.ipynb'), JSON.stringify(run('QUICK-OUTPUT\n')));
      writeFileSync(join(root, 'quick/02-b.ipynb'), JSON.stringify(run('QUICK-OUTPUT\n')));
      const logs: string[] = [];
      const orig = console.log;
      console.log = (...a: unknown[]) => { logs.push(a.join(' ')); };
      try {
        await buildSite({root, outDir: join(root, 'out'), chaptersDir: join(root, 'quick'), fullRunsDir: join(root, 'full'), modelsDir: join(root, 'none')});
      } finally { console.log = orig; }
      const a = readFileSync(join(root, 'out/chapters/01-a.html'), 'utf8'), b = readFileSync(join(root, 'out/chapters/02-b.html'), 'utf8');
      expect(a).toContain('FULL-RUN-OUTPUT');
      expect(a).toContain('(full mode)');
      expect(b).toContain('QUICK-OUTPUT');
      expect(b).not.toContain('STALE');
      expect(logs.join('\n')).toMatch(/full\/02-b\.ipynb is stale \(it has 1 code cells, the chapter 2\)/);
    } finally {
      rmSync(root, {recursive: true, force: true});
    }
  });
});

describe('chart alt text', () => {
  it('describes the main layer of a layered chart, not the ± sd band drawn under it', () => {
    const spec = dataFractionSpec([{model: 'ViT', fraction: 0.1, seeds: 2, mean: 0.5, sd: 0.01},
      {model: 'ViT', fraction: 1, seeds: 2, mean: 0.7, sd: 0.01}], 'CNN vs ViT');
    expect((spec.layer as {mark: {type: string}}[])[0]!.mark.type).toBe('area');   // the band comes first
    expect(chartAlt(spec)).toBe('CNN vs ViT — line chart of test accuracy (%), mean ± sd over seeds against ' +
      'share of the CIFAR-10 training set (%, log scale), one colour per model');
  });

  it('falls back to the first encoded layer, and to the title alone', () => {
    const spec = {title: 'bands', layer: [{mark: {type: 'area'}, encoding: {x: {field: 'a'}, y: {field: 'lo'}}}]};
    expect(chartAlt(spec)).toBe('bands — chart of lo against a');
    expect(chartAlt({title: 'no axes'})).toBe('no axes');
  });
});
