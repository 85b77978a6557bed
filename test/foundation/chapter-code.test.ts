/**
 * Chapter code a learner reads: lines of at most 100 characters, in every chapter.
 */
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {cells, ROOT} from './chapter-text';

const CHECKED = ['01-attention', '02-transformer', '03-vit', '04-cifar-training'];
const MAX = 100;

describe('chapter code', () => {
  it.each(CHECKED)(`%s: every code line is at most ${MAX} characters`, chapter => {
    const long = cells(join(ROOT, 'chapters', `${chapter}.ipynb`)).flatMap((c, i) => c.cell_type !== 'code' ? [] :
      (Array.isArray(c.source) ? c.source.join('') : c.source).split('\n')
        .map((line, j) => ({line, at: `cell ${i + 1} line ${j + 1}`}))
        .filter(l => [...l.line].length > MAX).map(l => `${l.at} (${[...l.line].length}): ${l.line}`));
    expect(long, long.join('\n')).toEqual([]);
  });
});
