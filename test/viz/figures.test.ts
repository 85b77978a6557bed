import {describe, expect, it} from 'vitest';
import {FIGURES, Figure} from '../../lib/viz/figures';

/** A strict XML well-formedness check: balanced tags, quoted attributes, escaped text. Returns the element names. */
function parseXml(xml: string): string[] {
  const names: string[] = [], stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null, end = 0;
  while ((m = token.exec(xml))) {
    if (m.index !== end) throw new Error(`unparsed text at ${end}: ${xml.slice(end, end + 40)}`);
    end = token.lastIndex;
    if (m[6]) throw new Error(`malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 60)}`);
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[5])) throw new Error(`unescaped & in text: ${m[5]}`);
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) { if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`); continue; }
    names.push(name!);
    if (!selfClose) stack.push(name!);
  }
  if (end !== xml.length) throw new Error('trailing garbage');
  if (stack.length) throw new Error(`unclosed elements: ${stack.join(', ')}`);
  return names;
}

const textOf = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map(m => m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));

/** The labelled parts each figure must show. */
const PARTS: Record<string, string[]> = {
  seq2seq: ['s1', 's4', 'x1', 'decoder GRU', 'α_t = softmax(r_t)', 'Σ', 'context c_t = Σ_j α_tj s_j', 'h_t is the query', 'softmax → y_t'],
  transformer: ['encoder', 'masked self-attention', 'multi-head self-attention', 'cross-attention', 'feed-forward (FFN)', 'add & norm', 'embedding + positions', 'linear + softmax', 'N ×', '× N'],
  'norm-placement': ['post-norm (Vaswani et al. 2017)', 'pre-norm (GPT-2, ViT)', 'layer norm', 'multi-head attention', 'feed-forward', '+'],
  mha: ['Q = X W_Q', 'K = X W_K', 'V = X W_V', 'head 1', 'head H', 'concatenate', '× W_O', 'split D into H heads of d_k = D/H'],
  vit: ['image', 'patches', 'linear', 'projection', '[CLS]', 'positions', 'Transformer', 'layer norm', 'class'],
};

describe('architecture figures', () => {
  it('there is one per figure asked for in issue 15', () => {
    expect(Object.keys(FIGURES).sort()).toEqual(Object.keys(PARTS).sort());
  });
  for (const [id, make] of Object.entries(FIGURES)) {
    describe(id, () => {
      const fig: Figure = make();
      it('is well-formed SVG with a root <svg> in the SVG namespace', () => {
        const names = parseXml(fig.svg);
        expect(names[0]).toBe('svg');
        expect(fig.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        expect(names).toContain('rect');
      });
      it('has alt text: <title> and <desc> referenced by aria-labelledby, role img', () => {
        const title = /<title id="([^"]+)">([^<]+)<\/title>/.exec(fig.svg), desc = /<desc id="([^"]+)">([^<]+)<\/desc>/.exec(fig.svg);
        expect(title?.[2]).toBe(fig.title);
        expect(desc?.[2]!.length).toBeGreaterThan(150);
        expect(fig.svg).toContain(`role="img" aria-labelledby="${title![1]} ${desc![1]}"`);
        expect(fig.alt.length).toBeGreaterThan(150);
      });
      it('fits a page column (≤ 700 px wide) and keeps every text inside the picture', () => {
        expect(fig.width).toBeLessThanOrEqual(700);
        expect(fig.svg).toContain(`width="${fig.width}" height="${fig.height}" viewBox="0 0 ${fig.width} ${fig.height}"`);
        for (const m of fig.svg.matchAll(/<text x="([\d.-]+)" y="([\d.-]+)"/g)) {
          expect(Number(m[1])).toBeGreaterThanOrEqual(0); expect(Number(m[1])).toBeLessThanOrEqual(fig.width);
          expect(Number(m[2])).toBeGreaterThan(0); expect(Number(m[2])).toBeLessThanOrEqual(fig.height);
        }
      });
      it('shows its labelled parts', () => {
        const texts = textOf(fig.svg);
        for (const p of PARTS[id]!) expect(texts, `label "${p}"`).toContain(p);
      });
    });
  }
  it('the checker rejects broken SVG (so the tests above can fail)', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/wrong element/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/unescaped &/);
    expect(() => parseXml('<svg width=3></svg>')).toThrow(/malformed/);
  });
});
