import {describe, expect, it} from 'vitest';
import {BOS, CharVocab, encodeBatch, EOS, PAD, UNK} from '../../lib/seq2seq/vocab';

describe('CharVocab and encodeBatch', () => {
  const v = CharVocab.fromTexts(['ab', 'ba c']);
  it('reserves ids 0-3 and sorts the characters', () => {
    expect([PAD, BOS, EOS, UNK]).toEqual([0, 1, 2, 3]);
    expect(v.itos.slice(4)).toEqual([' ', 'a', 'b', 'c']);
    expect(v.encode('cab?')).toEqual([7, 5, 6, UNK]);
  });
  it('decode stops at EOS and skips PAD/BOS', () => {
    expect(v.decode([BOS, 5, 6, EOS, 7])).toBe('ab');
  });
  it('pads sources with PAD and appends EOS to targets', () => {
    const b = encodeBatch([{input: 'ab', target: 'c'}, {input: 'a', target: 'cc'}], v, v);
    expect(b.srcLen).toBe(2);
    expect(b.tgtLen).toBe(3);
    expect(Array.from(b.src)).toEqual([5, 6, 5, PAD]);
    expect(Array.from(b.srcLengths)).toEqual([2, 1]);
    expect(Array.from(b.tgt)).toEqual([7, EOS, PAD, 7, 7, EOS]);
  });
});
