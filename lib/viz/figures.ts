/**
 * Architecture figures as SVG, generated from code: seq2seq with attention, the
 * Transformer encoder–decoder, post-norm vs pre-norm blocks, multi-head attention's
 * split → attend → concatenate, and the ViT pipeline. Each figure has a <title> and a <desc>
 * (its alt text, referenced by aria-labelledby) and is at most 700 px wide (a page column).
 * Show one in a notebook with showSvg(fig.svg) (display/show.ts); the site inlines the same SVG.
 * Pure string building: no DOM, browser-safe.
 */

export interface Figure {
  id: string;
  title: string;
  /** alt text: what the figure shows, for readers who cannot see it */
  alt: string;
  width: number;
  height: number;
  svg: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Palette: one colour per kind of part, the same in every figure. */
export const FIGURE_COLORS = {
  input: '#e8eef7', embed: '#dbeafe', attention: '#fde2c8', ffn: '#d9f2d9', norm: '#fff4b8', rnn: '#e6dcf5', head: '#f7d4dc', plain: '#ffffff',
};
type Kind = keyof typeof FIGURE_COLORS;

class Canvas {
  parts: string[] = [];
  /** A rounded box with one or more centred lines of text (first line bold when `bold`). */
  box(x: number, y: number, w: number, h: number, label: string | string[], kind: Kind = 'plain', o: {bold?: boolean; dashed?: boolean; size?: number} = {}): this {
    const lines = Array.isArray(label) ? label : [label], size = o.size ?? 12, lh = size + 2;
    this.parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="5" fill="${FIGURE_COLORS[kind]}" stroke="#555"${o.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    const y0 = y + h / 2 - ((lines.length - 1) * lh) / 2 + size * 0.35;
    lines.forEach((l, i) => this.parts.push(`<text x="${x + w / 2}" y="${y0 + i * lh}" font-size="${size}" text-anchor="middle"${o.bold && i === 0 ? ' font-weight="bold"' : ''}>${esc(l)}</text>`));
    return this;
  }
  text(x: number, y: number, s: string, o: {size?: number; anchor?: 'start' | 'middle' | 'end'; bold?: boolean; italic?: boolean; color?: string} = {}): this {
    this.parts.push(`<text x="${x}" y="${y}" font-size="${o.size ?? 12}" text-anchor="${o.anchor ?? 'middle'}"${o.bold ? ' font-weight="bold"' : ''}${o.italic ? ' font-style="italic"' : ''}${o.color ? ` fill="${o.color}"` : ''}>${esc(s)}</text>`);
    return this;
  }
  /** A polyline ending in an arrow head. */
  arrow(...pts: [number, number][]): this {
    this.parts.push(`<polyline points="${pts.map(p => p.join(',')).join(' ')}" fill="none" stroke="#333" stroke-width="1.4" marker-end="url(#arrow)"/>`);
    return this;
  }
  line(x1: number, y1: number, x2: number, y2: number, o: {dashed?: boolean; color?: string; width?: number} = {}): this {
    this.parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${o.color ?? '#333'}" stroke-width="${o.width ?? 1.4}"${o.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    return this;
  }
  circle(cx: number, cy: number, r: number, label: string, kind: Kind = 'plain'): this {
    this.parts.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="${FIGURE_COLORS[kind]}" stroke="#555"/>`);
    return this.text(cx, cy + 5, label, {size: 14, bold: true});
  }
  /** A frame around a group of boxes (e.g. a repeated block), with a label outside it. */
  frame(x: number, y: number, w: number, h: number, label: string, side: 'left' | 'right' = 'left'): this {
    this.parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="8" fill="none" stroke="#888" stroke-dasharray="6 4"/>`);
    return this.text(side === 'left' ? x - 6 : x + w + 6, y + h / 2 + 4, label, {anchor: side === 'left' ? 'end' : 'start', bold: true});
  }
  svg(id: string, title: string, alt: string, width: number, height: number): Figure {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`
      + `<title id="${id}-title">${esc(title)}</title><desc id="${id}-desc">${esc(alt)}</desc>`
      + '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>'
      + `<rect width="${width}" height="${height}" fill="white"/>`
      + this.parts.join('') + '</svg>';
    return {id, title, alt, width, height, svg};
  }
}

/**
 * Chapter 1 (§1.5's model, in its notation): a bidirectional GRU encoder gives states s_j; the
 * decoder GRU updates its state h_t from y_t−1, h_t queries every s_j (scores, softmax), the context
 * c_t = Σ_j α_tj s_j and h_t feed the output layer (Luong et al.'s global attention).
 */
export function seq2seqFigure(): Figure {
  const c = new Canvas(), W = 640, H = 360;
  c.text(W / 2, 22, 'Seq2seq with attention (one decoder step t)', {size: 15, bold: true});
  // encoder: states s_j over the source characters x_j
  const xs = [25, 115, 205, 295], ey = 236, bw = 60;
  xs.forEach((x, j) => {
    c.box(x, ey, bw, 36, `s${j + 1}`, 'rnn', {bold: true});
    c.text(x + bw / 2, 318, `x${j + 1}`, {size: 13, italic: true});
    c.arrow([x + bw / 2, 305], [x + bw / 2, ey + 38]);
    if (j > 0) c.arrow([x - 30, ey + 11], [x - 2, ey + 11]).arrow([x - 2, ey + 25], [x - 30, ey + 25]); // both directions
  });
  c.text(200, 348, 'bidirectional GRU encoder: one state s_j per source token x_j', {size: 11, color: '#444'});
  // (1) scores and (2) weights, from every s_j and the query h_t
  c.box(110, 130, 220, 44, ['scores r_tj = score(h_t, s_j)', 'α_t = softmax(r_t)'], 'attention');
  xs.forEach(x => c.line(x + bw / 2, ey, 220, 176, {color: '#b76e2b', width: 1}));
  // (3) the context: the weighted sum reads the s_j too (dashed)
  c.circle(390, 84, 24, 'Σ', 'attention');
  xs.forEach(x => c.line(x + bw / 2, ey, 382, 107, {color: '#777', width: 0.8, dashed: true}));
  c.arrow([300, 130], [368, 96]);
  c.text(338, 104, 'α_t', {size: 11, anchor: 'end', color: '#444'});
  c.text(372, 50, 'context c_t = Σ_j α_tj s_j', {size: 11});
  // decoder column: y_t−1 → GRU → h_t → output layer (with c_t) → softmax
  const dx = 460, dw = 170, mid = dx + dw / 2;
  c.box(dx, 300, dw, 28, 'y_t−1 (previous)', 'input');
  c.box(dx, 224, dw, 44, ['decoder GRU', 'h_t−1 → state h_t'], 'rnn', {bold: true});
  c.arrow([mid, 300], [mid, 270]);
  c.box(dx, 118, dw, 44, ['output layer', 'o_t = tanh(h_t W + c_t W′)'], 'head', {size: 11});
  c.arrow([mid, 224], [mid, 164]);
  c.box(dx, 40, dw, 34, 'softmax → y_t', 'head');
  c.arrow([mid, 118], [mid, 76]);
  c.arrow([414, 84], [440, 84], [440, 134], [dx - 2, 134]);        // c_t into the output layer
  c.arrow([dx, 246], [332, 160]);                                   // h_t is the query
  c.text(452, 264, 'h_t is the query', {size: 11, anchor: 'end', color: '#444'});
  return c.svg('fig-seq2seq', 'Seq2seq with attention',
    'A bidirectional GRU encoder reads the source tokens x1 to x4 into states s1 to s4, one per token. At decoder step t the decoder GRU reads the previous output y_t−1 and updates its state to h_t. The state h_t is the query: it scores every encoder state s_j, and a softmax turns the scores into attention weights α_t. The weighted sum of the encoder states is the context c_t. The output layer combines h_t and c_t, and a softmax predicts y_t.', W, H);
}

/** Chapter 2: the encoder–decoder Transformer (post-norm, as in Vaswani et al. 2017). */
export function transformerFigure(): Figure {
  const c = new Canvas(), W = 640, H = 470;
  c.text(W / 2, 22, 'The Transformer (encoder–decoder)', {size: 15, bold: true});
  const bw = 190, ex = 90, dx = 380;
  // encoder
  c.frame(ex - 10, 190, bw + 20, 170, 'N ×');
  c.box(ex, 320, bw, 32, 'multi-head self-attention', 'attention');
  c.box(ex, 280, bw, 26, 'add & norm', 'norm');
  c.box(ex, 236, bw, 32, 'feed-forward (FFN)', 'ffn');
  c.box(ex, 198, bw, 26, 'add & norm', 'norm');
  c.arrow([ex + bw / 2, 352 + 26], [ex + bw / 2, 353]);
  c.box(ex, 380, bw, 30, 'embedding + positions', 'embed');
  c.text(ex + bw / 2, 440, 'source tokens', {size: 12, italic: true});
  c.arrow([ex + bw / 2, 428], [ex + bw / 2, 411]);
  for (const [a, b] of [[320, 307], [280, 269], [236, 225]] as [number, number][]) c.arrow([ex + bw / 2, a], [ex + bw / 2, b]);
  c.text(ex + bw / 2, 180, 'encoder', {bold: true});
  // decoder
  c.frame(dx - 10, 100, bw + 20, 260, '× N', 'right');
  c.box(dx, 320, bw, 32, 'masked self-attention', 'attention');
  c.box(dx, 284, bw, 24, 'add & norm', 'norm');
  c.box(dx, 240, bw, 32, ['cross-attention', '(K, V from the encoder)'], 'attention', {size: 11});
  c.box(dx, 204, bw, 24, 'add & norm', 'norm');
  c.box(dx, 150, bw, 32, 'feed-forward (FFN)', 'ffn');
  c.box(dx, 112, bw, 24, 'add & norm', 'norm');
  for (const [a, b] of [[320, 309], [284, 273], [240, 229], [204, 183], [150, 137]] as [number, number][]) c.arrow([dx + bw / 2, a], [dx + bw / 2, b]);
  c.box(dx, 380, bw, 30, 'embedding + positions', 'embed');
  c.text(dx + bw / 2, 440, 'target tokens (shifted right)', {size: 12, italic: true});
  c.arrow([dx + bw / 2, 428], [dx + bw / 2, 411]);
  c.arrow([dx + bw / 2, 380], [dx + bw / 2, 353]);
  c.box(dx, 50, bw, 30, 'linear + softmax', 'head');
  c.arrow([dx + bw / 2, 112], [dx + bw / 2, 81]);
  c.text(dx + bw / 2, 40, 'next-token probabilities', {size: 11, color: '#444'});
  // encoder output → cross-attention
  c.arrow([ex + bw / 2, 198], [ex + bw / 2, 160], [330, 160], [330, 256], [dx - 2, 256]);
  c.text(290, 152, 'encoder output', {size: 11, color: '#444'});
  return c.svg('fig-transformer', 'The Transformer encoder–decoder',
    'Left, the encoder: source tokens are embedded, positions are added, and N identical blocks each apply multi-head self-attention and a feed-forward network, each followed by a residual add and layer norm. Right, the decoder: target tokens shifted right pass through N blocks of masked self-attention, cross-attention whose keys and values come from the encoder output, and a feed-forward network, each followed by add and norm; a final linear layer and softmax give next-token probabilities.', W, H);
}

/** Chapter 2: where the layer norm goes — post-norm (original) and pre-norm (GPT-2, ViT) side by side. */
export function normPlacementFigure(): Figure {
  const c = new Canvas(), W = 620, H = 420;
  c.text(W / 2, 22, 'Post-norm vs pre-norm Transformer block', {size: 15, bold: true});
  const block = (x: number, pre: boolean) => {
    const bw = 170, mid = x + bw / 2;
    c.text(mid, 52, pre ? 'pre-norm (GPT-2, ViT)' : 'post-norm (Vaswani et al. 2017)', {bold: true});
    c.text(mid, 400, 'x', {size: 13, italic: true});
    const rows = pre
      ? [['layer norm', 'norm'], ['multi-head attention', 'attention'], ['+', 'plus'], ['layer norm', 'norm'], ['feed-forward', 'ffn'], ['+', 'plus']]
      : [['multi-head attention', 'attention'], ['+', 'plus'], ['layer norm', 'norm'], ['feed-forward', 'ffn'], ['+', 'plus'], ['layer norm', 'norm']];
    let y = 360, prev = 388;
    const plusY: number[] = [];
    for (const [label, kind] of rows) {
      if (kind === 'plus') {
        y -= 40; c.arrow([mid, prev], [mid, y + 28]); c.circle(mid, y + 14, 13, '+'); plusY.push(y + 14); prev = y; continue;
      }
      y -= 44; c.arrow([mid, prev], [mid, y + 30 + 2]); c.box(x, y, bw, 30, label!, kind as Kind); prev = y;
    }
    c.arrow([mid, prev], [mid, 70]);
    c.text(mid + 8, 82, 'out', {size: 11, anchor: 'start', color: '#444'});
    // residual paths: from the block input (and from after the first sub-layer) around to each +
    const starts = pre ? [378, plusY[0]! - 20] : [378, plusY[0]! - 65];
    starts.forEach((s, i) => c.arrow([mid, s], [x + bw + 22, s], [x + bw + 22, plusY[i]!], [mid + 15, plusY[i]!]));
  };
  block(70, false);
  block(370, true);
  c.text(W / 2, 416, 'residual paths on the right; pre-norm keeps an un-normalised path from input to output', {size: 11, color: '#444'});
  return c.svg('fig-norm-placement', 'Post-norm vs pre-norm Transformer block',
    'Two Transformer blocks side by side. Post-norm, as in the original Transformer: the input goes through multi-head attention, is added to the input, then layer-normed; the same follows for the feed-forward network, so the layer norm sits on the residual path. Pre-norm, as in GPT-2 and the ViT: each sub-layer first layer-norms its input, and its output is added to the un-normalised residual stream, which runs unchanged from the block input to its output.', W, H);
}

/** Chapter 2: multi-head attention — project, split into heads, attend per head, concatenate, project. */
export function multiHeadFigure(): Figure {
  const c = new Canvas(), W = 680, H = 330;
  c.line(230, 87, 230, 246);
  c.text(W / 2, 22, 'Multi-head attention: split → attend → concatenate', {size: 15, bold: true});
  c.box(10, 140, 70, 50, ['X', '[T, D]'], 'input', {bold: true});
  const proj = [['Q = X W_Q', 70], ['K = X W_K', 145], ['V = X W_V', 220]] as [string, number][];
  for (const [l, y] of proj) { c.box(115, y, 95, 34, l, 'embed'); c.arrow([80, 165], [96, 165], [96, y + 17], [113, y + 17]); c.line(210, y + 17, 230, y + 17); }
  c.text(162, 272, 'linear maps D → D', {size: 11, color: '#444'});
  // heads
  const heads = ['head 1', 'head 2', '…', 'head H'];
  c.text(330, 58, 'split D into H heads of d_k = D/H', {size: 11, color: '#444'});
  heads.forEach((h, i) => {
    const y = 70 + i * 52;
    if (h === '…') { c.text(330, y + 24, '⋮', {size: 18}); return; }
    c.box(250, y, 160, 40, [h, 'softmax(Q_h K_hᵀ/√d_k) V_h'], 'attention', {bold: true, size: 11});
    c.arrow([230, y + 20], [248, y + 20]);
    c.arrow([410, y + 20], [440, y + 20], [440, 165], [458, 165]);
  });
  c.box(460, 135, 90, 60, ['concatenate', '[T, H·d_k]'], 'plain');
  c.box(575, 135, 95, 60, ['× W_O', '[T, D]'], 'embed', {bold: true});
  c.arrow([550, 165], [573, 165]);
  c.text(W / 2, 318, 'each head attends in its own subspace, all heads in one batched matMul', {size: 11, color: '#444'});
  return c.svg('fig-mha', 'Multi-head attention',
    'The input X of shape T by D is projected by three learned matrices into queries Q, keys K and values V. Each is split along the feature dimension into H heads of size d_k = D / H. Every head computes scaled dot-product attention, softmax of Q_h K_h transposed over the square root of d_k, times V_h, independently. The H head outputs are concatenated back to width D and multiplied by the output projection W_O.', W, H);
}

/** Chapter 3: the ViT pipeline. */
export function vitFigure(): Figure {
  const c = new Canvas(), W = 690, H = 330;
  c.text(W / 2, 22, 'The Vision Transformer pipeline', {size: 15, bold: true});
  // image as a 4×4 grid of patches
  const g = 22, ix = 15, iy = 110;
  const shades = ['#9cc3e6', '#c7dcef', '#f2c894', '#b9dfb0'];
  for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) {
    c.parts.push(`<rect x="${ix + q * g}" y="${iy + r * g}" width="${g}" height="${g}" fill="${shades[(r + q) % 4]}" stroke="white" stroke-width="1.5"/>`);
  }
  c.text(ix + 2 * g, iy + 4 * g + 18, 'image', {bold: true});
  c.text(ix + 2 * g, iy + 4 * g + 33, 'cut into P×P patches', {size: 10, color: '#444'});
  c.arrow([ix + 4 * g + 4, iy + 2 * g], [ix + 4 * g + 26, iy + 2 * g]);
  // flattened patches
  const px = 135;
  for (let i = 0; i < 6; i++) c.parts.push(`<rect x="${px}" y="${74 + i * 16}" width="34" height="12" fill="${shades[i % 4]}" stroke="#555" stroke-width="0.6"/>`);
  c.text(px + 17, 188, '⋮', {size: 14});
  c.text(px + 17, 212, 'patches', {bold: true, size: 11});
  c.text(px + 17, 226, 'N × (P²·3)', {size: 10, color: '#444'});
  c.arrow([px + 38, 130], [px + 58, 130]);
  c.box(px + 60, 105, 70, 50, ['linear', 'projection'], 'embed');
  c.arrow([px + 130, 130], [px + 150, 130]);
  // tokens: CLS + patch tokens, + positions
  const tx = 305;
  c.text(tx + 45, 58, 'tokens', {bold: true, size: 12});
  const tokens = ['[CLS]', 't1', 't2', '⋮', 'tN'];
  tokens.forEach((t, i) => {
    const y = 66 + i * 28;
    if (t === '⋮') { c.text(tx + 26, y + 16, '⋮', {size: 14}); return; }
    c.box(tx, y, 52, 22, t, t === '[CLS]' ? 'head' : 'embed', {size: 11});
    c.text(tx + 62, y + 16, '+', {size: 13, bold: true});
    c.box(tx + 72, y, 34, 22, `p${i === 0 ? 0 : t.slice(1)}`, 'norm', {size: 10});
  });
  c.text(tx + 89, 222, 'positions', {size: 10, color: '#444'});
  c.text(tx + 53, 240, '(N + 1) × D', {size: 10, color: '#444'});
  c.arrow([tx + 110, 130], [tx + 132, 130]);
  c.box(tx + 134, 80, 110, 100, ['Transformer', 'encoder', 'L × (pre-norm', 'MHA + MLP)'], 'attention', {bold: true, size: 11});
  c.arrow([tx + 244, 100], [tx + 270, 100]);
  c.text(tx + 257, 90, 'CLS', {size: 10, color: '#444'});
  c.box(tx + 272, 80, 80, 40, ['layer norm', '+ MLP head'], 'head', {size: 11});
  c.arrow([tx + 312, 120], [tx + 312, 150]);
  c.box(tx + 272, 152, 80, 30, 'class', 'plain', {bold: true});
  c.text(W / 2, 300, 'the CLS output summarises the image; attention maps show which patches it used', {size: 11, color: '#444'});
  return c.svg('fig-vit', 'The Vision Transformer pipeline',
    'An image is cut into a grid of P by P patches. Each patch is flattened into a vector of P squared times 3 numbers and mapped by one linear projection to a D-dimensional token. A learned [CLS] token is put in front, a learned position embedding is added to every token, and the N + 1 tokens pass through L pre-norm Transformer encoder blocks. The final [CLS] token goes through a layer norm and an MLP head that predicts the class.', W, H);
}

/** Every figure by id, for notebooks, the site and tests. */
export const FIGURES: Record<string, () => Figure> = {
  seq2seq: seq2seqFigure, transformer: transformerFigure, 'norm-placement': normPlacementFigure, mha: multiHeadFigure, vit: vitFigure,
};
