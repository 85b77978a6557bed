/**
 * Notebook-only display helpers (they need a running tslab kernel, so they live outside lib/).
 * showChart sends one display_data message with the vega-lite spec AND an SVG rendered in the
 * kernel: JupyterLab, VS Code and the site draw the interactive chart, classic Jupyter the SVG.
 * The browser runner uses this module as it is, with its own display/bundle.ts.
 */
import {titleText} from '../lib/viz/fit';
import {fitToWidth, VEGALITE_MIME, VegaLiteSpec} from '../lib/viz/render';
import {displayBundle} from './bundle';

export {displayBundle};

/**
 * Display a vega-lite chart (spec + kernel-rendered SVG fallback), no wider than a notebook cell:
 * side-by-side charts wrap and panels shrink until the SVG fits (lib/viz/fit.ts).
 */
export async function showChart(chart: VegaLiteSpec): Promise<void> {
  const {spec, svg} = await fitToWidth(chart);
  const title = titleText(spec) ?? 'chart';
  displayBundle({[VEGALITE_MIME]: spec, 'image/svg+xml': svg, 'text/plain': `<vega-lite chart: ${title}>`});
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: unknown, digits: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return String(v);
}

/** Display rows of objects as an HTML table (with a plain-text version for consoles). */
export function showTable(rows: Record<string, unknown>[], opts: {digits?: number; caption?: string} = {}): void {
  const digits = opts.digits ?? 4;
  if (rows.length === 0) { displayBundle({'text/plain': '(empty table)'}); return; }
  const cols = Object.keys(rows[0]!);
  const cells = rows.map(r => cols.map(c => fmt(r[c], digits)));
  const widths = cols.map((c, j) => Math.max(c.length, ...cells.map(r => r[j]!.length)));
  const line = (vals: string[]) => vals.map((v, j) => v.padStart(widths[j]!)).join('  ');
  const text = [line(cols), line(widths.map(w => '-'.repeat(w))), ...cells.map(line)].join('\n');
  const html = `<table>${opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : ''}<thead><tr>${cols.map(c => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${cells.map(r => `<tr>${r.map(v => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  displayBundle({'text/html': html, 'text/plain': (opts.caption ? opts.caption + '\n' : '') + text});
}

/** Display a PNG (bytes) with an alt text. */
export function showPng(png: Uint8Array, alt = 'image'): void {
  let bin = '';
  for (let i = 0; i < png.length; i += 0x8000) bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  displayBundle({'image/png': btoa(bin), 'text/plain': `<${alt}>`});
}

/** Display an SVG string. */
export function showSvg(svg: string, alt = 'figure'): void {
  displayBundle({'image/svg+xml': svg, 'text/plain': `<${alt}>`});
}
