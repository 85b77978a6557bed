/**
 * Pictures for Chapter 3 (the Vision Transformer): small RGB images built pixel by pixel and
 * encoded as PNG (fast-png), SVG montages with labels, and vega-lite specs
 * (position-embedding similarity grid, mean attention distance, Swin masks). Pure functions: the
 * notebook displays what they return (showPng / showSvg / showChart).
 */
/// <reference path="../types/fast-png.d.ts" />
import {encode} from 'fast-png';
import type {VegaLiteSpec} from './render';

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage { width: number; height: number; data: Uint8Array }

// ---------- PNG ----------
/** Encodes an RGB image as a PNG file (8-bit truecolour) with fast-png, in Node and in the browser. */
export function encodePng(img: RgbImage): Uint8Array {
  const {width: w, height: h, data} = img;
  if (data.length !== w * h * 3) throw new Error(`encodePng: ${w}x${h} RGB needs ${w * h * 3} bytes, got ${data.length}`);
  return encode({width: w, height: h, data, channels: 3, depth: 8});
}

/** A PNG as a data: URL (btoa is global in Node and browsers). */
function pngDataUrl(png: Uint8Array): string {
  let s = '';
  for (let i = 0; i < png.length; i++) s += String.fromCharCode(png[i]!);
  return `data:image/png;base64,${btoa(s)}`;
}

// ---------- images ----------
export function blank(width: number, height: number, grey = 255): RgbImage {
  return {width, height, data: new Uint8Array(width * height * 3).fill(grey)};
}

/** Image `index` of an NHWC uint8 batch of size×size RGB images. */
export function imageFromBatch(images: Uint8Array, index: number, size = 32): RgbImage {
  const n = size * size * 3;
  if ((index + 1) * n > images.length) throw new Error(`imageFromBatch: image ${index} is past the end of a batch of ${images.length / n} images`);
  return {width: size, height: size, data: images.slice(index * n, (index + 1) * n)};
}

/** Nearest-neighbour upscaling by an integer factor. */
export function upscale(img: RgbImage, factor: number): RgbImage {
  const out = blank(img.width * factor, img.height * factor);
  for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) {
    const s = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 3, d = (y * out.width + x) * 3;
    out.data[d] = img.data[s]!; out.data[d + 1] = img.data[s + 1]!; out.data[d + 2] = img.data[s + 2]!;
  }
  return out;
}

/** Copies `src` into `dst` at (x0, y0). */
export function blit(dst: RgbImage, src: RgbImage, x0: number, y0: number): void {
  for (let y = 0; y < src.height; y++) {
    const dy = y0 + y;
    if (dy < 0 || dy >= dst.height) continue;
    for (let x = 0; x < src.width; x++) {
      const dx = x0 + x;
      if (dx < 0 || dx >= dst.width) continue;
      const s = (y * src.width + x) * 3, d = (dy * dst.width + dx) * 3;
      dst.data[d] = src.data[s]!; dst.data[d + 1] = src.data[s + 1]!; dst.data[d + 2] = src.data[s + 2]!;
    }
  }
}

/** The sub-image [y0, y0+h) × [x0, x0+w). */
export function crop(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const out = blank(w, h);
  blit(out, {width: img.width, height: img.height, data: img.data}, -x0, -y0);
  return out;
}

/** The image cut into its P×P patches, drawn apart with `gap` white pixels (scaled by `scale`). */
export function patchGridImage(img: RgbImage, patchSize: number, scale = 8, gap = 4): RgbImage {
  const gh = img.height / patchSize, gw = img.width / patchSize;
  if (!Number.isInteger(gh) || !Number.isInteger(gw)) throw new Error(`patchGridImage: ${img.width}x${img.height} is not divisible by the patch size ${patchSize}`);
  const ps = patchSize * scale;
  const out = blank(gw * ps + (gw + 1) * gap, gh * ps + (gh + 1) * gap);
  for (let i = 0; i < gh; i++) for (let j = 0; j < gw; j++) {
    blit(out, upscale(crop(img, j * patchSize, i * patchSize, patchSize, patchSize), scale), gap + j * (ps + gap), gap + i * (ps + gap));
  }
  return out;
}

/** The patches as the Transformer sees them: a sequence, `perRow` patches per line, in row-major order. */
export function patchSequenceImage(img: RgbImage, patchSize: number, perRow: number, scale = 4, gap = 2): RgbImage {
  const gw = img.width / patchSize, n = (img.height / patchSize) * gw;
  const rows = Math.ceil(n / perRow), ps = patchSize * scale;
  const out = blank(perRow * (ps + gap) + gap, rows * (ps + gap) + gap);
  for (let k = 0; k < n; k++) {
    const p = upscale(crop(img, (k % gw) * patchSize, Math.floor(k / gw) * patchSize, patchSize, patchSize), scale);
    blit(out, p, gap + (k % perRow) * (ps + gap), gap + Math.floor(k / perRow) * (ps + gap));
  }
  return out;
}

/** Patches whose mask value is 1 are greyed out (MAE's removed patches). */
export function maskedImage(img: RgbImage, patchSize: number, mask: ArrayLike<number>, grey = 128): RgbImage {
  const out: RgbImage = {width: img.width, height: img.height, data: img.data.slice()};
  const gw = img.width / patchSize;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const k = Math.floor(y / patchSize) * gw + Math.floor(x / patchSize);
    if (mask[k]) out.data.fill(grey, (y * img.width + x) * 3, (y * img.width + x) * 3 + 3);
  }
  return out;
}

// viridis at 5 stops, linearly interpolated
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function viridis(t: number): [number, number, number] {
  const u = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(u), VIRIDIS.length - 2), f = u - i;
  const a = VIRIDIS[i]!, b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map(c => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/**
 * A gh×gw heat map (e.g. CLS attention) over an image: the heat is min-max scaled (or scaled to
 * `range`, the same for every map of a montage, so maps can be compared), coloured with viridis, upsampled to the image (nearest, one cell per patch) and blended: alpha·heat + (1−alpha)·image.
 * `scale` upsamples the result. alpha = 1 shows the heat map alone.
 */
export function heatOverlay(img: RgbImage, heat: ArrayLike<number>, grid: [number, number],
  opts: {alpha?: number; scale?: number; range?: [number, number]} = {}): RgbImage {
  const [gh, gw] = grid, alpha = opts.alpha ?? 0.6;
  if (heat.length !== gh * gw) throw new Error(`heatOverlay: heat has ${heat.length} values, expected ${gh}x${gw} = ${gh * gw}`);
  // colour scale: the given [lo, hi] (one scale for a whole montage; values outside are clipped), else this map's own range
  let lo = Infinity, hi = -Infinity;
  if (opts.range) {
    [lo, hi] = opts.range;
    if (!(hi > lo)) throw new Error(`heatOverlay: range must be [lo, hi] with hi > lo (got [${opts.range}])`);
  } else for (let k = 0; k < heat.length; k++) { lo = Math.min(lo, heat[k]!); hi = Math.max(hi, heat[k]!); }
  const out: RgbImage = {width: img.width, height: img.height, data: new Uint8Array(img.data.length)};
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const k = Math.floor((y * gh) / img.height) * gw + Math.floor((x * gw) / img.width);
    const col = viridis(hi > lo ? Math.min(1, Math.max(0, (heat[k]! - lo) / (hi - lo))) : 0);
    const d = (y * img.width + x) * 3;
    for (let c = 0; c < 3; c++) out.data[d + c] = Math.round(alpha * col[c]! + (1 - alpha) * img.data[d + c]!);
  }
  return opts.scale && opts.scale > 1 ? upscale(out, opts.scale) : out;
}

// ---------- SVG montage ----------
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A labelled grid of PNGs as one SVG: `cells[r][c] = {img, label?}`, optional row and column
 * titles. Each image is drawn at `size` px (pixelated, so small images stay crisp).
 */
export function montageSvg(cells: Array<Array<{img: RgbImage; label?: string} | null>>, opts: {size?: number; rowTitles?: string[]; colTitles?: string[]; title?: string} = {}): string {
  const size = opts.size ?? 96, pad = 6, lab = 14;
  // text is measured generously (≈ 7 px per character at 11 px, 8.4 at 13 px bold: DejaVu Sans, the widest
  // common default) so no label is cut at the edge or overlaps its neighbour
  const textW = (t: string | undefined, px = 7) => (t ? t.length * px : 0);
  const labels = cells.flatMap(r => r.map(c => c?.label));
  const colW = Math.ceil(Math.max(size, ...labels.map(l => textW(l) + 4), ...(opts.colTitles ?? []).map(t => textW(t) + 4)));
  const left = opts.rowTitles ? Math.ceil(Math.max(40, ...opts.rowTitles.map(t => textW(t))) + 14) : 0;
  const top = (opts.title ? 20 : 0) + (opts.colTitles ? lab + 4 : 0);
  const cols = Math.max(...cells.map(r => r.length));
  const W = Math.ceil(Math.max(left + cols * (colW + pad) + pad, textW(opts.title, 8.4) + 2 * pad)), H = top + cells.length * (size + lab + pad) + pad;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  if (opts.title) parts.push(`<text x="${W / 2}" y="14" text-anchor="middle" font-size="13" font-weight="bold">${esc(opts.title)}</text>`);
  opts.colTitles?.forEach((t, c) => parts.push(`<text x="${left + pad + c * (colW + pad) + colW / 2}" y="${top - 6}" text-anchor="middle">${esc(t)}</text>`));
  cells.forEach((row, r) => {
    const y = top + pad + r * (size + lab + pad);
    if (opts.rowTitles?.[r]) parts.push(`<text x="${left - 6}" y="${y + size / 2}" text-anchor="end">${esc(opts.rowTitles[r]!)}</text>`);
    row.forEach((cell, c) => {
      if (!cell) return;
      const x = left + pad + c * (colW + pad) + (colW - size) / 2;
      const href = pngDataUrl(encodePng(cell.img));
      parts.push(`<image x="${x}" y="${y}" width="${size}" height="${size}" href="${href}" style="image-rendering:pixelated" preserveAspectRatio="none"/>`);
      if (cell.label) parts.push(`<text x="${x + size / 2}" y="${y + size + 11}" text-anchor="middle">${esc(cell.label)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

// ---------- vega-lite specs ----------
/**
 * The ViT paper's Figure 7 (centre): for every patch (row, col) a small gh×gw map of the cosine
 * similarity between its position embedding and all others. sims: [N, N], N = gh·gw.
 */
export function posEmbedSimilaritySpec(sims: number[][], grid: [number, number], title = 'Position-embedding similarity', domain?: [number, number]): VegaLiteSpec {
  const [gh, gw] = grid, N = gh * gw;
  const values: Array<Record<string, number>> = [];
  for (let q = 0; q < N; q++) for (let k = 0; k < N; k++) {
    values.push({qRow: Math.floor(q / gw) + 1, qCol: (q % gw) + 1, row: Math.floor(k / gw), col: k % gw, sim: sims[q]![k]!});
  }
  const cell = Math.max(4, Math.floor(48 / Math.max(gh, gw)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title, data: {values},
    facet: {row: {field: 'qRow', type: 'ordinal', title: 'input patch row'}, column: {field: 'qCol', type: 'ordinal', title: 'input patch column'}},
    spacing: 2,
    spec: {
      width: cell * gw, height: cell * gh,
      mark: {type: 'rect'},
      encoding: {
        x: {field: 'col', type: 'ordinal', axis: null},
        y: {field: 'row', type: 'ordinal', axis: null},
        color: {field: 'sim', type: 'quantitative', scale: domain ? {scheme: 'viridis', domain} : {scheme: 'viridis'}, title: 'cosine similarity'},
      },
    },
    config: {header: {labelFontSize: 8, titleFontSize: 10}, view: {stroke: null}},
  };
}

/**
 * Mean attention distance (pixels) per head against layer depth — the ViT paper's Figure 7 (right).
 * `reference` draws a dashed horizontal line (e.g. the distance of uniform attention).
 */
export function attentionDistanceSpec(rows: Array<{layer: number; head: number; distance: number}>, opts: {imageSize?: number; title?: string; reference?: number} = {}): VegaLiteSpec {
  const points = {
    data: {values: rows},
    mark: {type: 'point', filled: true, size: 60},
    encoding: {
      x: {field: 'layer', type: 'ordinal', title: 'network depth (layer)', axis: {labelAngle: 0}},
      y: {field: 'distance', type: 'quantitative', title: 'mean attention distance (pixels)', scale: opts.imageSize ? {domain: [0, opts.imageSize]} : {}},
      color: {field: 'head', type: 'nominal', title: 'head'},
      tooltip: [{field: 'layer'}, {field: 'head'}, {field: 'distance', format: '.2f'}],
    },
  };
  const layers: unknown[] = [points];
  if (opts.reference !== undefined) {
    layers.push({data: {values: [{ref: opts.reference}]}, mark: {type: 'rule', strokeDash: [4, 4], color: 'grey'}, encoding: {y: {field: 'ref', type: 'quantitative'}}});
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? 'Mean attention distance by depth', width: 360, height: 240,
    layer: layers,
  };
}

/** A matrix as a heat map (e.g. a Swin keep-mask window, or a region-label map). values[r][c]. */
export function matrixSpec(values: number[][], opts: {title?: string; colorTitle?: string; cell?: number; scheme?: string; nominal?: boolean; xTitle?: string; yTitle?: string} = {}): VegaLiteSpec {
  const data: Array<Record<string, number>> = [];
  values.forEach((row, r) => row.forEach((v, c) => data.push({r, c, v})));
  const cell = opts.cell ?? 14;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? '', width: cell * (values[0]?.length ?? 0), height: cell * values.length,
    data: {values: data},
    mark: {type: 'rect', stroke: 'white', strokeWidth: 0.5},
    encoding: {
      x: {field: 'c', type: 'ordinal', title: opts.xTitle ?? null, axis: {labelFontSize: 8}},
      y: {field: 'r', type: 'ordinal', title: opts.yTitle ?? null, axis: {labelFontSize: 8}},
      color: opts.nominal
        ? {field: 'v', type: 'nominal', title: opts.colorTitle ?? 'value', scale: {scheme: opts.scheme ?? 'tableau10'}}
        : {field: 'v', type: 'quantitative', title: opts.colorTitle ?? 'value', scale: {scheme: opts.scheme ?? 'greys'}},
    },
  };
}

/** Several matrixSpec panels side by side with their own titles. */
export function matrixPanelsSpec(panels: Array<{title: string; values: number[][]}>, opts: {colorTitle?: string; cell?: number; scheme?: string; nominal?: boolean; title?: string} = {}): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? '',
    hconcat: panels.map(p => {
      const s = matrixSpec(p.values, {...opts, title: p.title});
      delete (s as Record<string, unknown>).$schema;
      return s;
    }),
    resolve: {scale: {color: 'shared'}},
  };
}
