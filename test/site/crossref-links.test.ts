/** linkCrossRefs: the course's own section numbers become links, a source's section numbers do not. */
import {describe, expect, it} from 'vitest';
import {ChapterRefs, linkCrossRefs} from '../../site/references';

const ch = (n: number, heads: string[]): ChapterRefs => ({url: `chapters/0${n}.html`, number: n,
  headings: heads.map((text, i) => ({text, id: `h${n}-${i}`, level: 2})) as ChapterRefs['headings']});
const ch2 = ch(2, ['2.1 Scaled dot-product attention', '3.4 Not ours', '5.1 Also a heading']);
const ch3 = ch(3, ['3.4 Patches']);
const link = (html: string) => linkCrossRefs(html, ch2, [ch2, ch3], []);

describe('linkCrossRefs and sections of the sources', () => {
  it('links the course\'s own sections, in this chapter first', () => {
    expect(link('<p>as in §2.1 and section 3.4.</p>')).toBe(
      '<p>as in <a class="xref" href="#h2-0">§2.1</a> and <a class="xref" href="#h2-1">section 3.4</a>.</p>');
    expect(link('<p>see Chapter 3 §3.4</p>')).toContain('<a class="xref" href="03.html#h3-0">Chapter 3 §3.4</a>');
  });
  it('leaves a paper\'s, a blog\'s or a file\'s section numbers alone', () => {
    for (const text of [
      'tokens" (section 5.1 of the paper), and',
      '(section 3.4 of the Transformer paper)',
      'the paper\'s section 3.4 says',
      'as section 5.1 of Vaswani et al. puts it',
      '(vit-blog-cifar10.md, §5.1)',
    ]) expect(link(`<p>${text}</p>`), text).toBe(`<p>${text}</p>`);
  });
});
