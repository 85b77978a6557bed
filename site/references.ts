/**
 * The papers the chapters name, for each chapter's "References" section, and the cross-reference
 * pass that turns "§5", "section 3.4", "Chapter 2" and "Vaswani et al., 2017" into links.
 */
import {escapeHtml} from './code';
import type {Heading} from './markdown';

export interface Paper { key: string; cite: string; authors: string; title: string; venue: string; year: number; url: string; mentions: RegExp }

export const PAPERS: Paper[] = [
  {key: 'bahdanau2015', cite: 'Bahdanau et al., 2015', authors: 'Dzmitry Bahdanau, Kyunghyun Cho, Yoshua Bengio', title: 'Neural Machine Translation by Jointly Learning to Align and Translate', venue: 'ICLR', year: 2015, url: 'https://arxiv.org/abs/1409.0473', mentions: /\bBahdanau\b/},
  {key: 'luong2015', cite: 'Luong et al., 2015', authors: 'Minh-Thang Luong, Hieu Pham, Christopher D. Manning', title: 'Effective Approaches to Attention-based Neural Machine Translation', venue: 'EMNLP', year: 2015, url: 'https://arxiv.org/abs/1508.04025', mentions: /\bLuong\b/},
  {key: 'vaswani2017', cite: 'Vaswani et al., 2017', authors: 'Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, Aidan N. Gomez, Łukasz Kaiser, Illia Polosukhin', title: 'Attention Is All You Need', venue: 'NeurIPS', year: 2017, url: 'https://arxiv.org/abs/1706.03762', mentions: /\bVaswani\b|Attention Is All You Need/i},
  {key: 'ba2016', cite: 'Ba et al., 2016', authors: 'Jimmy Lei Ba, Jamie Ryan Kiros, Geoffrey E. Hinton', title: 'Layer Normalization', venue: 'arXiv', year: 2016, url: 'https://arxiv.org/abs/1607.06450', mentions: /\bLayerNorm\b|layer normali[sz]ation/i},
  {key: 'xiong2020', cite: 'Xiong et al., 2020', authors: 'Ruibin Xiong, Yunchang Yang, Di He, Kai Zheng, Shuxin Zheng, Chen Xing, Huishuai Zhang, Yanyan Lan, Liwei Wang, Tie-Yan Liu', title: 'On Layer Normalization in the Transformer Architecture', venue: 'ICML', year: 2020, url: 'https://arxiv.org/abs/2002.04745', mentions: /\bXiong\b/},
  {key: 'kingma2015', cite: 'Kingma and Ba, 2015', authors: 'Diederik P. Kingma, Jimmy Ba', title: 'Adam: A Method for Stochastic Optimization', venue: 'ICLR', year: 2015, url: 'https://arxiv.org/abs/1412.6980', mentions: /\bAdam\b(?!W)/},
  {key: 'loshchilov2019', cite: 'Loshchilov and Hutter, 2019', authors: 'Ilya Loshchilov, Frank Hutter', title: 'Decoupled Weight Decay Regularization (AdamW)', venue: 'ICLR', year: 2019, url: 'https://arxiv.org/abs/1711.05101', mentions: /\bAdamW\b/},
  {key: 'loshchilov2017', cite: 'Loshchilov and Hutter, 2017', authors: 'Ilya Loshchilov, Frank Hutter', title: 'SGDR: Stochastic Gradient Descent with Warm Restarts (cosine schedule)', venue: 'ICLR', year: 2017, url: 'https://arxiv.org/abs/1608.03983', mentions: /\bcosine (decay|schedule|annealing)|\bSGDR\b/i},
  {key: 'hendrycks2016', cite: 'Hendrycks and Gimpel, 2016', authors: 'Dan Hendrycks, Kevin Gimpel', title: 'Gaussian Error Linear Units (GELUs)', venue: 'arXiv', year: 2016, url: 'https://arxiv.org/abs/1606.08415', mentions: /\bGELU/},
  {key: 'devlin2019', cite: 'Devlin et al., 2019', authors: 'Jacob Devlin, Ming-Wei Chang, Kenton Lee, Kristina Toutanova', title: 'BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding', venue: 'NAACL', year: 2019, url: 'https://arxiv.org/abs/1810.04805', mentions: /\bBERT\b/},
  {key: 'radford2018', cite: 'Radford et al., 2018', authors: 'Alec Radford, Karthik Narasimhan, Tim Salimans, Ilya Sutskever', title: 'Improving Language Understanding by Generative Pre-Training (GPT)', venue: 'OpenAI', year: 2018, url: 'https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf', mentions: /\bGPT\b/},
  {key: 'dosovitskiy2021', cite: 'Dosovitskiy et al., 2021', authors: 'Alexey Dosovitskiy, Lucas Beyer, Alexander Kolesnikov, Dirk Weissenborn, Xiaohua Zhai, Thomas Unterthiner, Mostafa Dehghani, Matthias Minderer, Georg Heigold, Sylvain Gelly, Jakob Uszkoreit, Neil Houlsby', title: 'An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale', venue: 'ICLR', year: 2021, url: 'https://arxiv.org/abs/2010.11929', mentions: /\bDosovitskiy\b|\bViT paper\b/},
  {key: 'touvron2021', cite: 'Touvron et al., 2021', authors: 'Hugo Touvron, Matthieu Cord, Matthijs Douze, Francisco Massa, Alexandre Sablayrolles, Hervé Jégou', title: 'Training data-efficient image transformers & distillation through attention (DeiT)', venue: 'ICML', year: 2021, url: 'https://arxiv.org/abs/2012.12877', mentions: /\bDeiT\b|\bTouvron\b/},
  {key: 'liu2021', cite: 'Liu et al., 2021', authors: 'Ze Liu, Yutong Lin, Yue Cao, Han Hu, Yixuan Wei, Zheng Zhang, Stephen Lin, Baining Guo', title: 'Swin Transformer: Hierarchical Vision Transformer using Shifted Windows', venue: 'ICCV', year: 2021, url: 'https://arxiv.org/abs/2103.14030', mentions: /\bSwin\b/},
  {key: 'he2022', cite: 'He et al., 2022', authors: 'Kaiming He, Xinlei Chen, Saining Xie, Yanghao Li, Piotr Dollár, Ross Girshick', title: 'Masked Autoencoders Are Scalable Vision Learners (MAE)', venue: 'CVPR', year: 2022, url: 'https://arxiv.org/abs/2111.06377', mentions: /\bMAE\b/},
  {key: 'abnar2020', cite: 'Abnar and Zuidema, 2020', authors: 'Samira Abnar, Willem Zuidema', title: 'Quantifying Attention Flow in Transformers (attention rollout)', venue: 'ACL', year: 2020, url: 'https://arxiv.org/abs/2005.00928', mentions: /\bAbnar\b|attention rollout/i},
  {key: 'cubuk2020', cite: 'Cubuk et al., 2020', authors: 'Ekin D. Cubuk, Barret Zoph, Jonathon Shlens, Quoc V. Le', title: 'RandAugment: Practical Automated Data Augmentation with a Reduced Search Space', venue: 'CVPR Workshops', year: 2020, url: 'https://arxiv.org/abs/1909.13719', mentions: /\bRandAugment\b/},
  {key: 'yun2019', cite: 'Yun et al., 2019', authors: 'Sangdoo Yun, Dongyoon Han, Seong Joon Oh, Sanghyuk Chun, Junsuk Choe, Youngjoon Yoo', title: 'CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features', venue: 'ICCV', year: 2019, url: 'https://arxiv.org/abs/1905.04899', mentions: /\bCutMix\b/},
  {key: 'zhang2018', cite: 'Zhang et al., 2018', authors: 'Hongyi Zhang, Moustapha Cisse, Yann N. Dauphin, David Lopez-Paz', title: 'mixup: Beyond Empirical Risk Minimization', venue: 'ICLR', year: 2018, url: 'https://arxiv.org/abs/1710.09412', mentions: /\bmixup\b/i},
  {key: 'szegedy2016', cite: 'Szegedy et al., 2016', authors: 'Christian Szegedy, Vincent Vanhoucke, Sergey Ioffe, Jonathon Shlens, Zbigniew Wojna', title: 'Rethinking the Inception Architecture for Computer Vision (label smoothing)', venue: 'CVPR', year: 2016, url: 'https://arxiv.org/abs/1512.00567', mentions: /label smoothing/i},
  {key: 'krizhevsky2009', cite: 'Krizhevsky, 2009', authors: 'Alex Krizhevsky', title: 'Learning Multiple Layers of Features from Tiny Images (CIFAR-10)', venue: 'technical report, University of Toronto', year: 2009, url: 'https://www.cs.toronto.edu/~kriz/learning-features-2009-TR.pdf', mentions: /\bCIFAR-10\b/},
];

/** Papers named in a chapter's prose, in the order of PAPERS. */
export function papersIn(prose: string): Paper[] {
  return PAPERS.filter(p => p.mentions.test(prose));
}

export function referencesSection(papers: Paper[]): string {
  if (!papers.length) return '';
  return `<section class="references" aria-labelledby="references"><h2 id="references">References <a class="anchor" href="#references" aria-label="Link to this section">#</a></h2><ol>` +
    papers.map(p => `<li id="ref-${p.key}">${escapeHtml(p.authors)} (${p.year}). <a href="${p.url}">${escapeHtml(p.title)}</a>. <em>${escapeHtml(p.venue)}</em>.</li>`).join('') + `</ol></section>`;
}

export interface ChapterRefs { url: string; number: number; headings: Heading[] }

/** "5", "3.4" → heading id, from headings that start with their number ("5. Masks", "3.4 How big…"). */
export function numberedHeadings(headings: Heading[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of headings) {
    const m = /^(\d+(?:\.\d+)*)\.?\s/.exec(h.text);
    if (m && !out.has(m[1]!)) out.set(m[1]!, h.id);
  }
  return out;
}

/** Text right after / before a section number that makes it a section of a source, not of the course. */
const SOURCE_AFTER = /^\s+(?:of|in)\s+(?:the\s+|their\s+|its\s+)?(?:[\w-]+\s+){0,2}?(?:paper|blog|notes|article|source|post|book)s?\b|^\s+(?:of|in)\s+[A-Z][a-z]+ (?:et al|and)\b/;
const SOURCE_BEFORE = /(?:paper|blog|notes|article|book|post)(?:'s|s')\s+$|\.(?:md|pdf),\s*$/;

const VOID = new Set(['br', 'img', 'input', 'meta', 'link', 'hr', 'source', 'col', 'area', 'wbr', 'path', 'line', 'rect', 'use']);

/**
 * Links in the prose of chapter `self`: "§5" / "section 3.4" / "Section 10" → that section (this
 * chapter first, then the chapter whose numbering it is, e.g. 3.4 in chapter 3), "Chapter 2" (and
 * "Chapter 2 §3") → that chapter, "Vaswani et al., 2017" → the reference. Text inside links, code,
 * math, headings and scripts is left alone.
 */
export function linkCrossRefs(html: string, self: ChapterRefs, all: ChapterRefs[], papers: Paper[], prefix = ''): string {
  const local = numberedHeadings(self.headings);
  const byChapter = new Map(all.map(c => [c.number, {c, nums: numberedHeadings(c.headings)}]));
  const href = (c: ChapterRefs, id?: string) => (c === self ? '' : prefix + c.url.split('/').pop()) + (id ? `#${id}` : '');
  const section = (num: string): string | undefined => {
    if (local.has(num)) return href(self, local.get(num));
    const ch = byChapter.get(Number(num.split('.')[0]));
    if (num.includes('.') && ch?.nums.has(num)) return href(ch.c, ch.nums.get(num));
    return undefined;
  };
  // "Vaswani et al., 2017", "Kingma and Ba (2015)", "Dosovitskiy et al. 2020": the first author's name and a year
  const cites = papers.map(p => ({p, re: `${p.cite.split(/[ ,]/)[0]}(?: et al\\.?| (?:and|&amp;) [A-Z][\\wé-]+)?,? \\(?(?:19|20)\\d\\d\\)?`}));
  const citeRe = cites.length ? new RegExp(`(${cites.map(c => c.re).join('|')})`, 'g') : undefined;
  const RE = /\b([Cc]hapter)\s+(\d+)(?:,?\s*(§\s?)(\d+(?:\.\d+)*))?|(§\s?)(\d+(?:\.\d+)*)|\b([Ss]ections?)\s+(\d+(?:\.\d+)*)/g;
  const parts = html.split(/(<[^>]+>)/);
  const stack: boolean[] = [];
  let out = '';
  for (const p of parts) {
    if (p.startsWith('<')) {
      const m = /^<\/?([a-zA-Z0-9]+)/.exec(p);
      const tag = m?.[1]?.toLowerCase() ?? '';
      if (p.startsWith('</')) stack.pop();
      else if (!p.endsWith('/>') && !VOID.has(tag) && !p.startsWith('<!')) {
        stack.push(/^(a|code|pre|script|style|h1|h2|h3|h4|button|summary|svg|math|textarea)$/.test(tag) || /class="[^"]*\b(katex|output)\b/.test(p));
      }
      out += p;
      continue;
    }
    if (stack.some(Boolean) || !p.trim()) { out += p; continue; }
    let t = p.replace(RE, (all, chWord, chNum, chSec, chSecNum, sec, secNum, secWord, secWordNum, offset: number, whole: string) => {
      // a section of a source ("section 3.4 of the paper", "the paper's §5.1", "blog.md, §4") is not ours
      const before = whole.slice(Math.max(0, offset - 24), offset), after = whole.slice(offset + all.length, offset + all.length + 40);
      if (!chWord && (SOURCE_AFTER.test(after) || SOURCE_BEFORE.test(before))) return all;
      if (chWord) {
        const ch = byChapter.get(Number(chNum));
        if (!ch || (ch.c === self && !chSecNum)) return all;
        const id = chSecNum ? ch.nums.get(chSecNum) : undefined;
        return `<a class="xref" href="${href(ch.c, id)}">${all}</a>`;
      }
      const num = secNum ?? secWordNum;
      const target = section(num);
      return target !== undefined ? `<a class="xref" href="${target}">${all}</a>` : all;
    });
    if (citeRe) t = t.replace(citeRe, (c) => {
      const hit = cites.find(x => new RegExp(`^${x.re}$`).test(c));
      return hit ? `<a class="cite" href="#ref-${hit.p.key}">${c}</a>` : c;
    });
    out += t;
  }
  return out;
}
