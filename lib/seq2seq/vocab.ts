/**
 * Character vocabularies for seq2seq — Chapter 1 §1.4. Ids 0..3 are special:
 * PAD (padding, masked out), BOS (decoder start), EOS (end of output), UNK (unknown character).
 */
export const PAD = 0, BOS = 1, EOS = 2, UNK = 3;
const SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'];

export class CharVocab {
  readonly itos: string[];
  private readonly stoi = new Map<string, number>();
  constructor(chars: Iterable<string>) {
    const uniq = [...new Set(chars)].sort();
    for (const c of uniq) if (c.length !== 1) throw new Error(`CharVocab: "${c}" is not a single character`);
    this.itos = [...SPECIALS, ...uniq];
    this.itos.forEach((c, i) => { if (i >= SPECIALS.length) this.stoi.set(c, i); });
  }
  /** Vocabulary of every character in the given strings. */
  static fromTexts(texts: Iterable<string>): CharVocab {
    const chars = new Set<string>();
    for (const t of texts) for (const c of t) chars.add(c);
    return new CharVocab(chars);
  }
  get size(): number { return this.itos.length; }
  encode(s: string): number[] { return Array.from(s, c => this.stoi.get(c) ?? UNK); }
  /** Decodes ids up to the first EOS, skipping PAD/BOS. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === EOS) break;
      if (id === PAD || id === BOS) continue;
      s += this.itos[id] ?? '?';
    }
    return s;
  }
}

/** A batch of encoded sequences as plain arrays (row-major [B, T]); tensors are built by the model. */
export interface EncodedBatch {
  B: number;
  srcLen: number;          // padded source length Tk
  tgtLen: number;          // target length incl. EOS
  src: Int32Array;         // [B, srcLen] ids, PAD after the end
  srcLengths: Int32Array;  // [B]
  tgt: Int32Array;         // [B, tgtLen] ids, EOS at the end, PAD after
}

/** Pads sources to the longest in the batch (at least 1) and targets (plus EOS) likewise. */
export function encodeBatch(pairs: {input: string; target: string}[], src: CharVocab, tgt: CharVocab): EncodedBatch {
  const B = pairs.length;
  if (B === 0) throw new Error('encodeBatch: empty batch');
  const srcIds = pairs.map(p => src.encode(p.input));
  const tgtIds = pairs.map(p => [...tgt.encode(p.target), EOS]);
  const srcLen = Math.max(1, ...srcIds.map(s => s.length));
  const tgtLen = Math.max(...tgtIds.map(s => s.length));
  const out: EncodedBatch = {B, srcLen, tgtLen, src: new Int32Array(B * srcLen), srcLengths: new Int32Array(B), tgt: new Int32Array(B * tgtLen)};
  srcIds.forEach((s, b) => { out.src.set(s, b * srcLen); out.srcLengths[b] = s.length; });
  tgtIds.forEach((s, b) => out.tgt.set(s, b * tgtLen));
  return out;
}
