/**
 * Charts that fit their column. Pure functions over vega-lite specs, used in two places:
 *   - the notebook's showChart (lib/viz/render.ts fitToWidth): the kernel-rendered SVG that classic
 *     Jupyter shows stays inside a notebook cell (JUPYTER_MAX_WIDTH);
 *   - the site, in the browser, against the width of the page's column (site/build.ts ships this
 *     file to the browser as assets/chart-fit.js, so it has no imports and uses plain objects).
 *
 * fitSpec never guesses text widths: it is given the width the chart measured when drawn and the
 * width available, and returns a narrower spec (fewer columns for side-by-side charts, then smaller
 * panels); the caller draws again and repeats while the chart is too wide.
 */
type Spec = Record<string, any>;

/** Widest kernel-rendered chart: a classic Jupyter output area at a ~1400 px screen is ~950 px. */
export const JUPYTER_MAX_WIDTH = 900;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const DISCRETE = new Set(['ordinal', 'nominal']);
const NAMES: Record<string, string> = {lr: 'learning rate', acc: 'accuracy', fpr: 'false-positive rate', tpr: 'true-positive rate'};

/** A field name as an axis title: 'tokenAccuracy' → 'token accuracy', 'test_loss' → 'test loss', 'lr' → 'learning rate'. */
export function readableTitle(field: string): string {
  if (NAMES[field]) return NAMES[field]!;
  if (!/[a-z][A-Z]|_/.test(field)) return field;
  return field.replace(/_+/g, ' ').replace(/([a-z0-9])([A-Z])(?=[a-z])/g, (_m, a: string, b: string) => `${a} ${b.toLowerCase()}`).trim();
}

/** Every view of a spec (top level, layers, concatenated and faceted children). */
function views(spec: Spec, out: Spec[] = []): Spec[] {
  if (!spec || typeof spec !== 'object') return out;
  out.push(spec);
  for (const k of ['layer', 'concat', 'hconcat', 'vconcat']) if (Array.isArray(spec[k])) for (const c of spec[k]) views(c, out);
  if (spec.spec) views(spec.spec, out);
  return out;
}

/** Field channels without a title get a readable one (vega-lite would print the raw field name). */
export function readableTitles(spec: Spec): Spec {
  const s = clone(spec);
  const fix = (ch: any) => {
    if (!ch || typeof ch !== 'object' || Array.isArray(ch) || typeof ch.field !== 'string') return;
    if (ch.title === undefined || ch.title === ch.field) {
      const t = readableTitle(ch.field);
      if (t !== ch.field) ch.title = t;
    }
  };
  for (const v of views(s)) {
    for (const ch of Object.values(v.encoding ?? {})) fix(ch);
    if (v.facet && typeof v.facet === 'object') { fix(v.facet); fix(v.facet.row); fix(v.facet.column); }
  }
  return s;
}

/** The labels of a discrete axis: from a heatmap's `[...][datum.value]` label expression, else the field's distinct values. */
function axisLabels(view: Spec, data: any[] | undefined, ch: any): string[] | undefined {
  const m = typeof ch.axis?.labelExpr === 'string' ? /^(\[.*\])\[datum\.value\]$/s.exec(ch.axis.labelExpr) : null;
  if (m) { try { return JSON.parse(m[1]!).map(String); } catch { /* fall through */ } }
  const rows = view.data?.values ?? data;
  if (!Array.isArray(rows) || typeof ch.field !== 'string') return undefined;
  return [...new Set(rows.map(r => String(r?.[ch.field])))];
}

/**
 * Discrete axes that cannot show every label: labels that do not fit their band are turned
 * vertical (x) and overlapping ones are thinned (vega's greedy overlap removal), so axis labels
 * never overlap. Call again after changing a view's size.
 */
export function tuneAxes(spec: Spec, charPx = 6.2): Spec {
  const s = clone(spec);
  const walk = (v: Spec, data: any[] | undefined, size: {width?: number; height?: number}) => {
    const own = {width: typeof v.width === 'number' ? v.width : size.width, height: typeof v.height === 'number' ? v.height : size.height};
    const rows = Array.isArray(v.data?.values) ? v.data.values : data;
    for (const [name, ch] of Object.entries<any>(v.encoding ?? {})) {
      if ((name !== 'x' && name !== 'y') || !ch || !DISCRETE.has(ch.type) || ch.axis === null) continue;
      const labels = axisLabels(v, rows, ch);
      const length = name === 'x' ? own.width : own.height;
      ch.axis = {...(ch.axis ?? {}), labelOverlap: 'greedy'};
      if (!labels || !length || name !== 'x') continue;
      const step = length / labels.length;
      const widest = Math.max(...labels.map(l => l.length)) * charPx;
      if (widest > step - 2 && ch.axis.labelAngle !== -90 && ch.axis.labelAngle !== 270) {
        ch.axis.labelAngle = -90;
        delete ch.axis.labelAlign;
        delete ch.axis.labelBaseline;
      }
    }
    // a gradient legend below a narrow plot is no longer than the plot
    for (const [name, ch] of Object.entries<any>(v.encoding ?? {})) {
      if (name === 'color' && ch?.type === 'quantitative' && ch.legend?.orient === 'bottom' && own.width) {
        ch.legend = {...ch.legend, gradientLength: Math.max(80, Math.min(200, own.width - 10)), labelOverlap: 'greedy'};
      }
    }
    for (const l of v.layer ?? []) walk(l, rows, own);
    for (const k of ['concat', 'hconcat', 'vconcat']) for (const c of v[k] ?? []) walk(c, rows, {});
    if (v.spec) walk(v.spec, rows, {});
  };
  walk(s, undefined, {});
  return s;
}

/** Words of `text` in lines of at most `chars` characters, greedily (each line as full as it goes). */
function wrapGreedy(words: string[], chars: number): string[] {
  const lines: string[] = [];
  for (const w of words) {
    const last = lines[lines.length - 1];
    if (last !== undefined && (last + ' ' + w).length <= chars) lines[lines.length - 1] = last + ' ' + w;
    else lines.push(w);
  }
  return lines;
}

/**
 * Words of `text` in lines of at most `chars` characters, balanced: as few lines as the greedy
 * fill needs, each as short as that number of lines allows — so a title never ends on one orphaned
 * word ("… seeds per" / "point)").
 */
export function wrapText(text: string, chars: number): string[] {
  const words = text.split(/\s+/).filter(w => w.length > 0);
  const greedy = wrapGreedy(words, chars);
  const longest = Math.max(0, ...words.map(w => w.length));
  for (let width = Math.max(longest, Math.ceil(text.length / greedy.length)); width < chars; width++) {
    const lines = wrapGreedy(words, width);
    if (lines.length <= greedy.length) return lines;
  }
  return greedy;
}

/** A spec's title as one line of text (a wrapped title's lines joined by spaces); undefined without one. */
export function titleText(v: Spec | undefined): string | undefined {
  const t = v?.title;
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object') return typeof t.text === 'string' ? t.text : Array.isArray(t.text) ? t.text.join(' ') : undefined;
  return undefined;
}

/**
 * Titles wider than their chart break into lines (vega does not wrap them, and a long title
 * would set the chart's width): the top title within `available` px, panel titles within their panel.
 */
export function wrapTitles(spec: Spec, available: number, titlePx = 8.2): Spec {
  if (!(titlePx > 0)) titlePx = 8.2;
  const s = clone(spec);
  const wrap = (v: Spec, px: number) => {
    const t = v.title;
    const textOf = titleText(v);
    if (textOf === undefined) return;
    const chars = Math.max(12, Math.floor((px - 16) / titlePx));
    if (textOf.length <= chars) return;
    const lines = wrapText(textOf, chars);
    v.title = typeof t === 'string' ? {text: lines} : {...t, text: lines};
  };
  wrap(s, available);
  for (const k of ['concat', 'hconcat', 'vconcat']) for (const c of s[k] ?? []) {
    wrap(c, typeof c.width === 'number' ? c.width + 40 : available);
    for (const l of c.layer ?? []) wrap(l, typeof c.width === 'number' ? c.width + 40 : available);
  }
  return s;
}

const encodingOf = (v: Spec): Spec => v.encoding ?? v.layer?.find((l: Spec) => l.encoding)?.encoding ?? {};
const isDiscrete = (ch: any) => ch && DISCRETE.has(ch.type);
const composite = (v: Spec) => Boolean(v.concat || v.hconcat || v.vconcat || v.facet || v.repeat);

/** A unit or layered view `overflow` px narrower (a heat map keeps square cells). */
function shrinkView(v: Spec, overflow: number, minWidth = 40): Spec | undefined {
  if (typeof v.width !== 'number') return undefined;
  const width = Math.max(minWidth, Math.floor(v.width - overflow - 2));
  if (width >= v.width) return undefined;
  const out: Spec = {...v, width};
  const enc = encodingOf(v);
  if (isDiscrete(enc.x) && isDiscrete(enc.y) && typeof v.height === 'number') out.height = Math.max(minWidth, Math.round(v.height * width / v.width));
  return out;
}

/** Distinct values of a facet field in the spec's inline data (for the number of facet columns). */
function distinct(spec: Spec, field: unknown): number {
  const rows = spec.data?.values;
  if (!Array.isArray(rows) || typeof field !== 'string') return 1;
  return new Set(rows.map(r => r?.[field])).size || 1;
}

export interface FitOptions {
  /** width of a title character in px: ~8.2 in a browser, 10.4 for vega's headless estimate (0.8 × 13 px) */
  titlePx?: number;
}

/**
 * A narrower version of `spec`, which drew `measured` px wide where `available` px fit, or
 * undefined when it cannot be made narrower. Side-by-side charts wrap to fewer columns first, then
 * panels shrink; single charts shrink their plot area by the overflow.
 */
export function fitSpec(spec: Spec, measured: number, available: number, opts: FitOptions = {}): Spec | undefined {
  if (measured <= available) return undefined;
  // a title wider than the room is often what makes a chart too wide: break it into lines first
  const wrapped = wrapTitles(spec, available, opts.titlePx);
  if (JSON.stringify(wrapped) !== JSON.stringify(spec)) return wrapped;
  const s = clone(spec);
  const kids: Spec[] | undefined = s.hconcat ?? s.concat;
  let out: Spec | undefined;
  if (Array.isArray(kids) && kids.length > 0) {
    const cols = s.hconcat ? kids.length : Math.min(kids.length, typeof s.columns === 'number' ? s.columns : kids.length);
    const per = measured / cols;
    const fit = Math.floor(available / per);
    delete s.hconcat;
    // panels up to 30 % narrower keep more of them side by side: `n` columns, each losing its share
    const shrinkTo = (n: number) => kids.map(k => composite(k) ? fitSpec(k, per, per - (per * n - available) / n, opts) : shrinkView(k, (per * n - available) / n));
    const most = Math.min(cols, Math.floor((available * 1.3) / per));
    const squeezed = most > fit && most >= 2 ? shrinkTo(most) : [];
    if (squeezed.length && squeezed.every(k => k !== undefined)) {
      out = {...s, concat: squeezed, columns: most};
    } else if (fit >= 1 && fit < cols) {
      out = {...s, concat: kids, columns: fit};
    } else {
      // one panel per row: only panels wider than the room left shrink, each to that room
      const widths = kids.map(k => (typeof k.width === 'number' && !composite(k) ? k.width : 0));
      const room = Math.max(...widths) - (per - available);
      const shrunk = kids.map((k, i) => composite(k) ? fitSpec(k, per, available, opts) : widths[i]! > room ? shrinkView(k, widths[i]! - room) : undefined);
      if (shrunk.every(k => k === undefined)) return undefined;
      out = {...s, concat: kids.map((k, i) => shrunk[i] ?? k), columns: 1};
    }
  } else if (Array.isArray(s.vconcat)) {
    const shrunk = s.vconcat.map((k: Spec) => composite(k) ? fitSpec(k, measured, available, opts) : shrinkView(k, measured - available));
    if (shrunk.every((k: Spec | undefined) => k === undefined)) return undefined;
    out = {...s, vconcat: s.vconcat.map((k: Spec, i: number) => shrunk[i] ?? k)};
  } else if (s.facet && s.spec) {
    const wrap = !s.facet.row && !s.facet.column;
    const cols = wrap ? Math.min(typeof s.columns === 'number' ? s.columns : Infinity, distinct(s, s.facet.field)) : distinct(s, s.facet.column?.field);
    if (wrap && Number.isFinite(cols) && cols > 1 && Math.floor(available / (measured / cols)) >= 1) {
      out = {...s, columns: Math.floor(available / (measured / cols))};
    } else {
      const inner = shrinkView(s.spec, (measured - available) / (Number.isFinite(cols) ? cols : 1), 8);
      if (!inner) return undefined;
      out = {...s, spec: inner};
    }
  } else {
    out = shrinkView(s, measured - available);
  }
  return out && wrapTitles(tuneAxes(out), available, opts.titlePx);
}

/**
 * The spec as the site draws it in a column `available` px wide: readable titles, labels that
 * fit, line and bar charts as wide as the column (vega-lite's fit-x autosize), and on a phone
 * legends below the plot instead of beside it.
 */
export function prepareForWidth(spec: Spec, available: number): Spec {
  let s = wrapTitles(tuneAxes(readableTitles(spec)), available);
  const narrow = available < 560;
  for (const v of views(s)) {
    for (const [name, ch] of Object.entries<any>(v.encoding ?? {})) {
      if (!ch || typeof ch !== 'object' || !['color', 'fill', 'stroke', 'shape', 'size', 'opacity'].includes(name) || ch.legend === null) continue;
      const nominal = DISCRETE.has(ch.type);
      ch.legend = {...(ch.legend ?? {}), labelLimit: Math.max(80, Math.min(360, available - 60))};
      if (narrow) Object.assign(ch.legend, nominal ? {orient: 'bottom', direction: 'vertical'} : {orient: 'bottom', direction: 'horizontal'});
    }
  }
  s = tuneAxes(s);
  const enc = encodingOf(s);
  if (!composite(s) && typeof s.width === 'number' && enc.x && !isDiscrete(enc.x)) {
    s = {...s, width: Math.max(200, Math.min(available, 820)), autosize: {type: 'fit-x', contains: 'padding'}};
  }
  return s;
}
