/**
 * Static-site builder: executed chapters (build/chapters/*.ipynb, falling back to the unexecuted
 * chapters/*.ipynb) + lib/ sources → build/site/. A chapter with a committed full-mode run in
 * site/full-runs/ whose code cells equal the chapter's is shown with that run's outputs (trained
 * models instead of quick mode's few steps); a stale full run is ignored with a warning. Fully offline: vendor scripts, KaTeX fonts and
 * tfjs wasm files are copied from node_modules. Usage: `npm run build:site [-- --out DIR] [--teacher] [--no-run] [--base /path/]` (--teacher: solution regions replaced by
 * the student stub, see the README's teacher section, and no run mode; --no-run: no run mode (site/runner); --base: the URL path the site is served under, for the 404 page).
 */
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {basename, dirname, join, relative, resolve} from 'node:path';
import * as ts from 'typescript';
import {escapeHtml, findExports, findImports, highlight, linkImports, SourceModule} from './code';
import {attentionDemo, vitDemo} from './demos';
import {layout, NavItem, prefixFor} from './layout';
import {createMarkdown} from './markdown';
import {linkCrossRefs, papersIn, referencesSection} from './references';
import {findRegions} from '../grader/regions';
import {Demo, firstSentences, renderNotebook, RenderedNotebook, text as cellText} from './notebook';
import {findCifarFolder, firstTestImages} from '../lib/data/cifar';
import {encodePng} from '../lib/viz/vit';
import {buildRunner, RunnerBuild} from './runner/bundle';

export interface BuildOptions {
  root?: string;          // repository root
  outDir?: string;        // default <root>/build/site
  chaptersDir?: string;   // executed chapters, default <root>/build/chapters
  fullRunsDir?: string;   // full-mode executed chapters preferred when current, default <root>/site/full-runs
  extraNotebooks?: string[]; // more executed notebooks rendered as chapters (tests)
  modelsDir?: string;     // default <root>/models (expects cifar-vit/model.safetensors + config.json)
  quiet?: boolean;
  /** teacher-safe build: solution regions replaced by the student stub, search without them */
  teacher?: boolean;
  /**
   * run mode on the chapter pages (site/runner: editable cells run in the reader's browser); default
   * on, always off in a teacher build (its lib/ bundle would carry the solutions)
   */
  runMode?: boolean;
  /** URL path the site is served under, for the 404 page's absolute asset links (default '/') */
  basePath?: string;
  /** override package.json (tests) */
  pkg?: {version?: string; repository?: unknown};
}

export interface BuildResult { runner?: RunnerBuild; teacher: boolean; repository?: string; outDir: string; pages: string[]; chapters: string[]; libs: string[]; charts: number; seconds: number; model: boolean; phases: Record<string, number> }

const ROOT = resolve(__dirname, '..');

/** Chapter → demos shown in it (placed at a `<!-- demo: name -->` marker, else at the end). */
const DEMO_PLACES: Record<string, string[]> = {'01': ['attention'], '03': ['vit']};

function walk(dir: string, filter: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, filter));
    else if (filter(e.name)) out.push(p);
  }
  return out.sort();
}

function write(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), {recursive: true});
  writeFileSync(path, data);
}

function copy(from: string, to: string): void {
  mkdirSync(dirname(to), {recursive: true});
  copyFileSync(from, to);
}

/** Vendor files served by the site (no CDN). */
function copyVendor(root: string, out: string): void {
  const nm = (p: string) => join(root, 'node_modules', p);
  const files: [string, string][] = [
    ['vega/build/vega.min.js', 'vega.min.js'],
    ['vega-lite/build/vega-lite.min.js', 'vega-lite.min.js'],
    ['vega-embed/build/vega-embed.min.js', 'vega-embed.min.js'],
    ['@tensorflow/tfjs-core/dist/tf-core.min.js', 'tf-core.min.js'],
    ['@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js', 'tf-backend-cpu.min.js'],
    ['@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js', 'tf-backend-wasm.min.js'],
    ['@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm', 'tfjs-backend-wasm.wasm'],
    ['@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-simd.wasm'],
    ['@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
  ];
  for (const [from, to] of files) copy(nm(from), join(out, 'assets/vendor', to));
  copy(nm('katex/dist/katex.min.css'), join(out, 'assets/katex/katex.min.css'));
  for (const f of readdirSync(nm('katex/dist/fonts'))) copy(nm(`katex/dist/fonts/${f}`), join(out, 'assets/katex/fonts', f));
  for (const f of readdirSync(join(root, 'site/client'))) copy(join(root, 'site/client', f), join(out, 'assets', f));
  write(join(out, 'assets/chart-fit.js'), browserModule(join(ROOT, 'lib/viz/fit.ts'), 'courseChartFit'));
}

/** A dependency-free lib module as a browser script: its exports become window[global]. */
export function browserModule(file: string, global: string): string {
  const js = ts.transpileModule(readFileSync(file, 'utf8'), {compilerOptions: {target: ts.ScriptTarget.ES2019, module: ts.ModuleKind.CommonJS, removeComments: false}}).outputText;
  return `// ${relative(ROOT, file).split('\\').join('/')} for the browser (transpiled by site/build.ts)\n(function () {\nvar exports = {};\n${js}\nwindow.${global} = exports;\n})();\n`;
}

interface ChapterFile { slug: string; file: string; executed: boolean; nb?: any }

const codeCells = (nb: any): any[] => (nb.cells ?? []).filter((c: any) => c.cell_type === 'code');
const sourceOf = (c: any): string => (Array.isArray(c.source) ? c.source.join('') : String(c.source ?? ''));

/**
 * The chapter as of now (chapters/<f>) with the outputs of a full-mode run, when the run executed
 * exactly the chapter's current code; otherwise undefined and the reason.
 */
export function overlayFullRun(current: any, full: any): {nb?: any; reason?: string} {
  const a = codeCells(current), b = codeCells(full);
  if (a.length !== b.length) return {reason: `it has ${b.length} code cells, the chapter ${a.length}`};
  const i = a.findIndex((c, k) => sourceOf(c) !== sourceOf(b[k]));
  if (i >= 0) return {reason: `code cell ${i + 1} differs from the chapter's`};
  let k = 0;
  const cells = (current.cells as any[]).map(c => c.cell_type !== 'code' ? c : {...c, outputs: b[k]!.outputs ?? [], execution_count: b[k++]!.execution_count ?? null});
  return {nb: {...current, cells, metadata: {...current.metadata, course: {...(full.metadata?.course ?? {}), mode: 'full'}}}};
}

/** The chapter notebooks: every chapters/*.ipynb; a current full-mode run preferred, then the executed copy. */
function chapterFiles(root: string, executedDir: string, fullRunsDir: string, log: (s: string) => void): ChapterFile[] {
  const names = new Set<string>();
  for (const d of [join(root, 'chapters'), executedDir]) {
    if (existsSync(d)) for (const f of readdirSync(d)) if (/^\d\d-.*\.ipynb$/.test(f)) names.add(f);
  }
  return [...names].sort().map(f => {
    const slug = f.replace(/\.ipynb$/, '');
    const src = join(root, 'chapters', f), full = join(fullRunsDir, f);
    if (existsSync(full) && existsSync(src)) {
      const o = overlayFullRun(JSON.parse(readFileSync(src, 'utf8')), JSON.parse(readFileSync(full, 'utf8')));
      if (o.nb) return {slug, file: full, executed: true, nb: o.nb};   // its metadata says mode 'full'
      log(`warning: ${relative(root, full)} is stale (${o.reason}); showing the quick-mode run — re-run it with COURSE_MODE=full npm run execute -- --out site/full-runs chapters/${f}`);
    }
    const exe = join(executedDir, f);
    if (existsSync(exe)) return {slug, file: exe, executed: true};
    log(`warning: ${f} has not been executed (npm run execute); rendering it without outputs`);
    return {slug, file: src, executed: false};
  });
}

function sourceModules(root: string): Map<string, SourceModule> {
  const files = [...walk(join(root, 'lib'), f => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    ...walk(join(root, 'notebook'), f => f.endsWith('.ts') && !f.endsWith('.d.ts'))];
  const mods = new Map<string, SourceModule>();
  for (const f of files) {
    const path = relative(root, f).split('\\').join('/');
    mods.set(path, {path, url: `source/${path.replace(/\.ts$/, '.html')}`, exports: new Set(findExports(readFileSync(f, 'utf8')).keys())});
  }
  return mods;
}

/** Highlight a source file and split it into numbered lines, keeping spans balanced per line. */
function numberedSource(html: string, defs: Map<string, number>): string {
  const lines: string[] = [];
  let open: string[] = [];
  for (const rawLine of html.replace(/\n$/, '').split('\n')) {
    let line = open.join('') + rawLine;
    for (const tag of rawLine.match(/<\/?span[^>]*>/g) ?? []) {
      if (tag.startsWith('</')) open.pop(); else open.push(tag);
    }
    line += '</span>'.repeat(open.length);
    lines.push(line);
  }
  const byLine = new Map<number, string[]>();
  for (const [name, n] of defs) byLine.set(n, [...(byLine.get(n) ?? []), name]);
  return lines.map((l, i) => {
    const n = i + 1;
    const anchors = (byLine.get(n) ?? []).map(name => `<span class="def-anchor" id="${name}"></span>`).join('');
    return `<span class="line" id="L${n}">${anchors}<a class="ln" href="#L${n}" aria-hidden="true" tabindex="-1">${n}</a>${l || ' '}</span>`;
  }).join(''); // .line is display:block: no newline between lines
}

/** The first paragraph of a file's leading doc comment, whole sentences up to ~260 characters. */
export function docSummary(code: string): string {
  const m = /^\s*\/\*\*([\s\S]*?)\*\//.exec(code);
  if (!m) return '';
  const lines = m[1]!.split('\n').map(l => l.replace(/^\s*\*\s?/, '').trim());
  const start = lines.findIndex(Boolean);
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && !l);
  const para = lines.slice(start, end < 0 ? undefined : end).join(' ').replace(/\s+/g, ' ').trim();
  return firstSentences(para, 260).replace(/:$/, '.');
}

/** The repository URL from package.json's "repository" (string, "github:owner/name" or {url}), normalised to https. */
export function repositoryUrl(repo: unknown): string | undefined {
  let u = typeof repo === 'string' ? repo : typeof repo === 'object' && repo && typeof (repo as any).url === 'string' ? (repo as any).url : undefined;
  if (!u) return undefined;
  u = u.replace(/^git\+/, '').replace(/\.git$/, '').replace(/^git@github\.com:/, 'https://github.com/').replace(/^github:/, 'https://github.com/');
  if (/^[\w.-]+\/[\w.-]+$/.test(u)) u = `https://github.com/${u}`;
  return /^https?:\/\//.test(u) ? u.replace(/\/$/, '') : undefined;
}

/** Exercise name and hint per solution region, from assignments/<id>/assignment.json. */
function exercises(root: string): Map<string, {name: string; hint?: string; assignment: string}> {
  const out = new Map<string, {name: string; hint?: string; assignment: string}>();
  const dir = join(root, 'assignments');
  if (!existsSync(dir)) return out;
  for (const id of readdirSync(dir)) {
    const f = join(dir, id, 'assignment.json');
    if (!existsSync(f)) continue;
    try {
      for (const e of JSON.parse(readFileSync(f, 'utf8')).exercises ?? []) out.set(e.region ?? e.name, {name: e.name, hint: e.hint, assignment: id});
    } catch { /* a broken spec is the grader's error, not the site's */ }
  }
  return out;
}

/**
 * Solution regions (`// BEGIN SOLUTION id` … `// END SOLUTION`) as the site shows them: the default
 * build keeps the code and drops the markers (the library is public teaching code); a teacher build
 * replaces each region by the student stub and a note that the reference is withheld.
 */
export function solutionView(source: string, teacher: boolean, ex: Map<string, {name: string; hint?: string; assignment: string}>, where = 'source'): string {
  const regions = findRegions(source, where);
  if (!regions.length) return source;
  const lines = source.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const r of regions) {
    out.push(...lines.slice(at, r.begin));
    if (!teacher) out.push(...lines.slice(r.begin + 1, r.end));
    else {
      const e = ex.get(r.id) ?? {name: r.id, assignment: ''};
      out.push(`${r.indent}// Exercise "${e.name}"${e.assignment ? ` (assignment ${e.assignment})` : ''}: the reference implementation is withheld from this build of the site.`);
      if (e.hint) out.push(`${r.indent}// TODO(${e.name}): ${e.hint}`);
      out.push(`${r.indent}throw new Error('not implemented: ${e.name}');`);
    }
    at = r.end + 1;
  }
  out.push(...lines.slice(at));
  return out.join('\n');
}

/** The README's quick-start commands (its first sh block under "Quick start"), comments kept. */
function quickStart(root: string): string[] {
  try {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const sec = /^##\s+Quick start[^\n]*\n([\s\S]*?)(?=^##\s)/m.exec(readme)?.[1] ?? '';
    const block = /```(?:sh|bash|shell)?\n([\s\S]*?)```/.exec(sec)?.[1];
    if (block) return block.trim().split('\n');
  } catch { /* no README */ }
  return ['npm run course', 'npm test'];
}

/** What the README's quick start needs, from its heading "Quick start (Debian/Ubuntu with Node.js ≥ 20.19)". */
function platform(root: string): string {
  try { return /^##\s+Quick start\s*\(([^)]*)\)/m.exec(readFileSync(join(root, 'README.md'), 'utf8'))?.[1] ?? 'Debian/Ubuntu with Node.js ≥ 20'; } catch { return 'Debian/Ubuntu with Node.js ≥ 20'; }
}

/** The box that tells a reader how to run a chapter on their machine. */
function runLocally(repo: string | undefined, commands: string[], slug?: string, where = 'Debian/Ubuntu with Node.js ≥ 20'): string {
  const dir = repo ? repo.split('/').pop() : 'attention-course';
  const lines = [...(repo ? [`git clone ${repo}.git`, `cd ${dir}`] : []), ...commands,
    `npm run notebook   # Jupyter at the repository root${slug ? `: open chapters/${slug}.ipynb` : ''}`];
  return `<details class="run-local"><summary>Run it locally</summary><p>On ${escapeHtml(where)}${repo ? '' : ', in a copy of the course repository'}:</p>` +
    `<div class="code-wrap"><pre class="code"><code class="language-bash">${highlight(lines.join('\n'), 'bash')}</code></pre><button class="copy" type="button" aria-label="Copy the commands">Copy</button></div>` +
    `<p>The notebooks import <code>../lib</code> and run on the course's Jupyter kernel, “TypeScript (course)”, which <code>npm run course</code> registers.</p></details>`;
}

/** A downloaded notebook's first cell: how to run it (it imports ../lib and needs the course kernel). */
export function howToRunCell(repo: string | undefined, slug: string, commands: string[]): Record<string, unknown> {
  const dir = repo ? repo.split('/').pop() : 'attention-course';
  const src = `> **How to run this notebook.** It imports the course library by relative path (\`../lib/…\`) and runs on the course's Jupyter kernel “TypeScript (course)” (tslab with the repository as its root), so it runs inside a copy of the course repository, not on its own:\n>\n` +
    `> \`\`\`sh\n${[...(repo ? [`git clone ${repo}.git`, `cd ${dir}`] : []), ...commands, 'npm run notebook'].map(l => `> ${l}`).join('\n')}\n> \`\`\`\n>\n` +
    `> then open \`chapters/${slug}.ipynb\` and pick the kernel “TypeScript (course)”.${repo ? ` Source: ${repo}` : ''}`;
  return {cell_type: 'markdown', metadata: {course: {note: 'how-to-run'}}, source: src.split(/(?<=\n)/)};
}

function modelInfo(modelsDir: string, out: string): {url: string; pool?: string} | undefined {
  const dir = join(modelsDir, 'cifar-vit');
  const st = join(dir, 'model.safetensors');
  const cfg = join(dir, 'config.json');
  if (!existsSync(st) || !existsSync(cfg)) return undefined;
  const config = JSON.parse(readFileSync(cfg, 'utf8')); // fail the build on a broken config, not the reader's browser
  copy(st, join(out, 'models/cifar-vit/model.safetensors'));
  copy(cfg, join(out, 'models/cifar-vit/config.json'));
  const pool = config?.model?.pool ?? config?.pool;
  return {url: 'models/cifar-vit/', pool: typeof pool === 'string' ? pool : undefined};
}

function exportSamples(root: string, out: string): {url: string; label: string; index: number}[] {
  const dir = findCifarFolder();
  if (dir) {
    const samples = firstTestImages(dir, 1);
    return samples.map(s => {
      const name = `samples/cifar-${String(s.index).padStart(4, '0')}-${s.className}.png`;
      write(join(out, name), encodePng({width: 32, height: 32, data: s.rgb}));
      return {url: name, label: s.className, index: s.index};
    });
  }
  // no data set on this machine: the committed copies exported earlier from the same test set
  const committed = join(root, 'site/samples');
  if (!existsSync(committed)) return [];
  return readdirSync(committed).filter(f => f.endsWith('.png')).sort().map(f => {
    copy(join(committed, f), join(out, 'samples', f));
    const m = /^cifar-(\d+)-(.+)\.png$/.exec(f);
    return {url: `samples/${f}`, label: m?.[2] ?? f, index: Number(m?.[1] ?? 0)};
  });
}

/** The normalisation the trainer applies (lib/data/normalize.ts), so the demo feeds the model the same inputs. */
function cifarStats(root: string): {mean?: number[]; std?: number[]} {
  try {
    const src = readFileSync(join(root, 'lib/data/normalize.ts'), 'utf8');
    const arr = (name: string) => JSON.parse(new RegExp(`${name}[^=]*=\\s*(\\[[^\\]]*\\])`).exec(src)![1]!) as number[];
    return {mean: arr('CIFAR10_MEAN'), std: arr('CIFAR10_STD')};
  } catch { return {}; }
}

/** t: page title, s: section, u: URL, x: text, k: 'c' chapter prose or 'l' library source (ranked lower) */
interface SearchDoc { t: string; s: string; u: string; x: string; k: 'c' | 'l' }

export async function buildSite(opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  let tp = t0;
  const phase = (name: string) => { const now = performance.now(); phases[name] = (now - tp) / 1000; tp = now; };
  const root = resolve(opts.root ?? ROOT);
  const out = resolve(opts.outDir ?? join(root, 'build/site'));
  const log = (s: string) => { if (!opts.quiet) console.log(s); };
  const teacher = Boolean(opts.teacher);
  const pkg = opts.pkg ?? (existsSync(join(root, 'package.json')) ? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) : {});
  const repo = repositoryUrl(pkg.repository);
  if (!repo) console.warn('warning: package.json has no "repository" field: the site is built without "edit this page" / "report a problem" links');
  const build = {version: String(pkg.version ?? '0.0.0'), date: new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000 || Date.now()).toISOString().slice(0, 10), teacher};
  const ex = exercises(root);
  const commands = quickStart(root);
  const where = platform(root);
  if (existsSync(out)) rmSync(out, {recursive: true, force: true});
  mkdirSync(out, {recursive: true});
  copyVendor(root, out);
  phase('copy assets');
  const runMode = !teacher && opts.runMode !== false;
  const runner = runMode ? await buildRunner(root, out, log) : undefined;
  if (runner) phase('runner bundle');

  const modules = sourceModules(root);
  const chapters: ChapterFile[] = chapterFiles(root, opts.chaptersDir ?? join(root, 'build/chapters'), opts.fullRunsDir ?? join(root, 'site/full-runs'), log);
  for (const f of opts.extraNotebooks ?? []) chapters.push({slug: basename(f).replace(/\.ipynb$/, ''), file: f, executed: true});
  let times: Record<string, {seconds?: number}> = {};
  let timesMode = '';
  try {
    const t = JSON.parse(readFileSync(join(opts.chaptersDir ?? join(root, 'build/chapters'), 'times.json'), 'utf8'));
    times = t.notebooks ?? {};
    timesMode = typeof t.mode === 'string' ? t.mode : '';
  } catch { /* none yet */ }

  const model = modelInfo(opts.modelsDir ?? join(root, 'models'), out), modelUrl = model?.url;
  const samples = exportSamples(root, out);
  phase('model + samples');
  const search: SearchDoc[] = [];
  const pages: string[] = [];
  let charts = 0;
  const missing: {name: string; spec: unknown}[] = [];
  const transformCode = (src: string, where: string) => solutionView(src, teacher, ex, where);

  // render chapters first (titles feed the navigation)
  const rendered: {slug: string; url: string; nb: any; r: RenderedNotebook; seconds?: number; mode?: string}[] = [];
  for (const c of chapters) {
    const nb = c.nb ?? JSON.parse(readFileSync(c.file, 'utf8'));
    const url = `chapters/${c.slug}.html`;
    const demos: Record<string, Demo> = {};
    for (const d of DEMO_PLACES[c.slug.slice(0, 2)] ?? []) demos[d] = d === 'attention' ? attentionDemo() : vitDemo({...cifarStats(root), modelUrl: modelUrl && `../${modelUrl}`, pool: model?.pool, samples: samples.map(s => ({...s, url: `../${s.url}`}))});
    const r = renderNotebook(nb, {slug: c.slug, notebookPath: `chapters/${c.slug}.ipynb`, modules, hrefPrefix: prefixFor(url), demos, transformCode});
    for (const a of r.assets) write(join(out, 'media', a.name), a.data);
    missing.push(...r.missingSvgs);
    charts += r.charts;
    // the download: solution markers handled like the page, and a first cell that says how to run it
    const download = {...nb, cells: [howToRunCell(repo, c.slug, commands), ...nb.cells.map((cell: any) => cell.cell_type === 'code'
      ? {...cell, source: transformCode(cellText(cell.source), `chapters/${c.slug}.ipynb`).split(/(?<=\n)/)} : cell)]};
    write(join(out, 'notebooks', `${c.slug}.ipynb`), JSON.stringify(download, null, 1) + '\n');
    const seconds = nb.metadata?.course?.execution_seconds ?? times[`${c.slug}.ipynb`]?.seconds;
    const mode = nb.metadata?.course?.mode ?? (times[`${c.slug}.ipynb`] ? timesMode : '');
    rendered.push({slug: c.slug, url, nb, r, seconds: c.executed ? seconds : undefined, mode});
  }
  // cross-references between chapters and each chapter's references (papers its prose names)
  const refs = rendered.map(c => ({url: c.url, number: Number(c.slug.slice(0, 2)), headings: c.r.headings}));
  rendered.forEach((c, i) => {
    const prose = c.nb.cells.filter((x: any) => x.cell_type === 'markdown').map((x: any) => cellText(x.source)).join('\n');
    const papers = papersIn(prose);
    c.r.html = linkCrossRefs(c.r.html, refs[i]!, refs, papers, '') + referencesSection(papers);
    if (papers.length) {
      c.r.headings.push({level: 2, id: 'references', text: 'References'});
      c.r.sections.push({id: 'references', title: 'References', text: papers.map(p => `${p.authors} ${p.title} ${p.venue} ${p.year}`).join(' ')});
    }
  });
  phase('render chapters');
  if (missing.length) {
    const {vegaLiteToSvg} = await import('../lib/viz/render');
    for (const m of missing) write(join(out, 'media', m.name), await vegaLiteToSvg(m.spec as Record<string, unknown>));
    phase('chart SVGs');
  }

  const chapterNav: NavItem[] = rendered.map(c => ({url: c.url, title: c.r.title, short: c.r.title.replace(/^Chapter\s+\d+\s*[—–:-]\s*/, '')}));
  const libList = [...modules.values()];
  const libNav: NavItem[] = libList.map(m => ({url: m.url, title: m.path, short: m.path.replace(/^lib\//, '').replace(/\.ts$/, '')}));
  const base = {chapters: chapterNav, libs: libNav, build};

  rendered.forEach((c, i) => {
    const scripts: string[] = [];
    const hasAttention = c.r.html.includes('data-demo="attention"');
    const hasVit = c.r.html.includes('data-demo="vit"') && c.r.html.includes('data-model=');
    // tfjs itself loads only when a demo comes into view or is used (demo-common.js)
    if (hasAttention || hasVit) scripts.push('assets/demo-common.js');
    if (hasAttention) scripts.push('assets/demo-attention.js');
    if (hasVit) scripts.push('assets/demo-vit.js');
    const pre = prefixFor(c.url);
    const actions = `<p class="page-actions"><a class="button" href="${pre}notebooks/${c.slug}.ipynb" download="${c.slug}.ipynb">Download this notebook (.ipynb)</a>` +
      (c.seconds !== undefined ? ` <span class="runtime">executed in ${c.seconds.toFixed(1)} s${c.mode ? ` (${c.mode} mode)` : ''}</span>` : ' <span class="runtime">not executed yet</span>') +
      `<button class="button code-toggle" type="button" aria-pressed="false">Hide code cells</button>` +
      (runMode ? runButton(pre) : '') + `</p>` + runLocally(repo, commands, c.slug, where);
    write(join(out, c.url), layout({...base, url: c.url, title: c.r.title, description: c.r.summary, body: c.r.html, headings: c.r.headings,
      prev: chapterNav[i - 1] ?? {url: 'index.html', title: 'Overview', short: 'Overview'}, next: chapterNav[i + 1], extraScripts: scripts, actions, kind: 'chapter',
      repo: repo ? {url: repo, file: `chapters/${c.slug}.ipynb`} : undefined}));
    pages.push(c.url);
    for (const s of c.r.sections) search.push({t: c.r.title, s: s.title, u: s.id ? `${c.url}#${s.id}` : c.url, x: s.text.replace(/\s+/g, ' ').trim(), k: 'c'});
  });

  // lib source pages
  for (const m of libList) {
    const code = solutionView(readFileSync(join(root, m.path), 'utf8'), teacher, ex, m.path);
    const defs = findExports(code);
    const links = findImports(code, m.path, modules);
    const pre = prefixFor(m.url);
    const usedBy = rendered.filter(c => c.nb.cells.some((cell: any) => cell.cell_type === 'code' && findImports([].concat(cell.source).join(''), `chapters/${c.slug}.ipynb`, modules).some(l => l.moduleUrl === m.url)));
    const summary = docSummary(code);
    const html = `<h1 id="source-title">${escapeHtml(m.path)}</h1>` +
      (summary ? `<p class="lead">${escapeHtml(summary)}</p>` : '') +
      (defs.size ? `<p class="defs">Exports: ${[...defs.keys()].map(d => `<a href="#${d}"><code>${escapeHtml(d)}</code></a>`).join(', ')}</p>` : '') +
      (usedBy.length ? `<p class="used-by">Used in: ${usedBy.map(c => `<a href="${pre}${c.url}">${escapeHtml(c.r.title)}</a>`).join(', ')}</p>` : '') +
      `<div class="code-wrap source"><pre class="code"><code class="language-typescript">${numberedSource(linkImports(highlight(code), links, pre), defs)}</code></pre>` +
      `<button class="copy" type="button" aria-label="Copy the source of ${escapeHtml(m.path)}">Copy</button></div>`;
    write(join(out, m.url), layout({...base, url: m.url, title: m.path, description: summary || m.path, body: html, kind: 'lib', repo: repo ? {url: repo, file: m.path} : undefined}));
    pages.push(m.url);
    search.push({t: m.path, s: '', u: m.url, x: code.replace(/\s+/g, ' '), k: 'l'});
  }

  phase('source pages');
  // landing page
  write(join(out, 'index.html'), layout({...base, url: 'index.html', title: 'Overview', kind: 'home', next: chapterNav[0], repo: repo ? {url: repo} : undefined,
    description: 'An executable TypeScript course on attention, Transformers and Vision Transformers with TensorFlow.js.',
    body: landing(root, rendered.map(c => ({url: c.url, title: c.r.title, summary: c.r.summary, seconds: c.seconds, mode: c.mode})), libList.length, runLocally(repo, commands, undefined, where))}));
  pages.unshift('index.html');
  // served for a missing URL at any depth: absolute links from the site's base path
  const basePath = (opts.basePath ?? '/').replace(/\/?$/, '/');
  write(join(out, '404.html'), layout({...base, url: '404.html', title: 'Not found', description: 'Page not found', kind: 'other', absolute: true, basePath,
    body: `<h1>Page not found</h1><p>Try the <a href="${basePath}index.html">overview</a> or the search box.</p>`}));

  write(join(out, 'search-index.json'), JSON.stringify(search));
  write(join(out, 'assets/favicon.svg'), `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#3b5bdb"/><path d="M7 24 L16 7 L25 24 M11 17 H21" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>`);
  phase('landing + search index');
  const seconds = (performance.now() - t0) / 1000;
  if (process.env.SITE_PROFILE) log(Object.entries(phases).map(([k, v]) => `  ${k}: ${v.toFixed(2)} s`).join('\n'));
  log(`site: ${pages.length} pages (${rendered.length} chapters, ${libList.length} source files, ${charts} charts${modelUrl ? ', ViT model' : ', no ViT model yet'}${runner ? `, run mode (runner ${(runner.bytes / 1e6).toFixed(1)} MB, loaded on demand)` : ', no run mode'}${teacher ? ', teacher build: solution regions stubbed' : ''}) → ${relative(process.cwd(), out) || out} in ${seconds.toFixed(2)} s`);
  return {runner, outDir: out, pages, chapters: rendered.map(c => c.url), libs: libList.map(m => m.url), charts, seconds, model: Boolean(modelUrl), phases, teacher, repository: repo};
}

/** The chapter page's "Run in browser" button: everything else of run mode loads when it is pressed. */
export function runButton(pre: string): string {
  return `<button class="button run-toggle" type="button" data-runner="${pre}assets/runner/" title="Edit and run the code cells in this browser tab (TensorFlow.js on WebGL or wasm; nothing is sent to a server)">Run in browser</button>`;
}

function landing(root: string, chapters: {url: string; title: string; summary: string; seconds?: number; mode?: string}[], nLib: number, runBox: string): string {
  const md = createMarkdown();
  const cards = chapters.map((c, i) => `<li class="card"><a href="${c.url}"><span class="card-num">${i + 1}</span><span class="card-title">${escapeHtml(c.title.replace(/^Chapter\s+\d+\s*[—–:-]\s*/, ''))}</span></a>` +
    `<p>${escapeHtml(c.summary)}</p><p class="runtime">${c.seconds !== undefined ? `executed in ${c.seconds.toFixed(1)} s${c.mode ? ` (${c.mode} mode)` : ''}` : 'not executed yet'}</p></li>`).join('');
  void root;
  return `<h1 id="overview">Attention, Transformers and Vision Transformers — an executable TypeScript course</h1>
<p class="lead">Learn how attention works by running it: four Jupyter notebooks on the TypeScript kernel tslab, a
shared library on TensorFlow.js with tests that pin every formula, and live demos that run the course's models in your browser.</p>
<h2 id="what-you-learn">What you will learn</h2>
${md.render(`- **Attention** from scratch: scores between a query and keys, softmax weights $\\alpha_j$ that sum to 1, the context vector $c = \\sum_j \\alpha_j v_j$.
- **The Transformer**: scaled dot-product attention $\\mathrm{softmax}(QK^\\top/\\sqrt{d_k})\\,V$, multi-head attention, positions, masks, residuals and LayerNorm.
- **The Vision Transformer**: images as sequences of patches, the CLS token, attention maps.
- **Training a ViT on CIFAR-10** on a CPU with TensorFlow.js — and running it live on this site.`, [], new Set())}
<h2 id="chapters">Chapters</h2>
<ol class="cards">${cards}</ol>
<h2 id="run-it-locally">Run it locally</h2>
${runBox.replace('<details class="run-local">', '<details class="run-local" open>')}
<p><code>npm test</code> runs the type check, the unit tests and every chapter. The ${nLib} library files are readable here too: see “Library source” in the menu.</p>`;
}


if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  buildSite({outDir: arg('--out'), chaptersDir: arg('--chapters'), modelsDir: arg('--models'), teacher: args.includes('--teacher'), runMode: !args.includes('--no-run'), basePath: arg('--base')})
    .catch(e => { console.error(`site build failed: ${e instanceof Error ? e.stack : e}`); process.exit(1); });
}
void statSync;
