/**
 * Vega-Lite → SVG, rendered headlessly (no browser, no canvas) with vega's "none" renderer.
 * vega and vega-lite 6 are ESM with top-level await, so they are loaded through importESM.
 */
import {importESM} from '../esm.cjs';

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
