/**
 * Vega-Lite → SVG, rendered headlessly (no browser, no canvas) with vega's "none" renderer.
 * vega and vega-lite 6 are ESM with top-level await, so they are loaded through importESM.
 */
import {importESM} from '../esm.cjs';
import {fitSpec, JUPYTER_MAX_WIDTH, readableTitles, tuneAxes} from './fit';

export type VegaLiteSpec = Record<string, unknown>;

let mods: Promise<[any, any]> | undefined;
function loadVega(): Promise<[any, any]> {
  mods ??= Promise.all([importESM('vega'), importESM('vega-lite')]);
  return mods;
}

/** Compile a vega-lite spec and render it to an SVG string. */
export async function vegaLiteToSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await loadVega();
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), {renderer: 'none'});
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The vega-lite MIME type the notebook front-ends know (JupyterLab, VS Code, the site). */
export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

/** Width of a rendered SVG from its root element. */
export function svgWidth(svg: string): number {
  return Number(/<svg[^>]*?\swidth="([\d.]+)"/.exec(svg)?.[1] ?? 0);
}

/**
 * Render a spec no wider than `maxWidth` px (default: a classic Jupyter output area): while the
 * SVG is too wide, side-by-side charts wrap to fewer columns and panels shrink (lib/viz/fit.ts).
 * Returns the spec that was drawn and its SVG.
 */
export async function fitToWidth(spec: VegaLiteSpec, maxWidth = JUPYTER_MAX_WIDTH): Promise<{spec: VegaLiteSpec; svg: string}> {
  let s = tuneAxes(readableTitles(spec));
  let svg = await vegaLiteToSvg(s);
  for (let i = 0; i < 6; i++) {
    const next = fitSpec(s, svgWidth(svg), maxWidth, {titlePx: 10.6}); // vega's headless text estimate: 0.8 em per character
    if (!next) break;
    s = next;
    svg = await vegaLiteToSvg(s);
  }
  return {spec: s, svg};
}
