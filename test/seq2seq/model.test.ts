import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {makeDateDataset} from '../../lib/data/dates';
import {batchTensors, disposeBatchTensors, disposeSeq2Seq, greedyDecode, initSeq2Seq, seq2seqConfig, seq2seqLoss} from '../../lib/seq2seq/model';
import {alignments, fitSeq2Seq, predict, seq2seqOptimizer, sourceGradientNorms, trainStep} from '../../lib/seq2seq/train';
import {CharVocab, encodeBatch} from '../../lib/seq2seq/vocab';
import {expectNoLeak, setupBackend} from '../helpers';

beforeAll(setupBackend);

const ds = makeDateDataset({seed: 1, numTrain: 2000, numTest: 64});
const src = CharVocab.fromTexts(ds.train.map(e => e.input));
const tgt = CharVocab.fromTexts(['0123456789-']);
const tiny = (attention: 'none' | 'dot' | 'scaledDot' | 'general' | 'additive', bidirectional = true) =>
  seq2seqConfig({srcVocab: src.size, tgtVocab: tgt.size, dEmb: 8, dModel: 16, dAttn: 8, maxLen: 11, attention, bidirectional});
const batchOf = (n: number, from = 0) => encodeBatch(ds.train.slice(from, from + n), src, tgt);

describe('seq2seq config and inputs', () => {
  it('rejects bad configs with a clear message', () => {
    expect(() => seq2seqConfig({srcVocab: 5, tgtVocab: 5, dModel: 15, bidirectional: true})).toThrow(/dModel \(15\) must be even/);
    expect(() => seq2seqConfig({srcVocab: 5, tgtVocab: 5, attention: 'cosine' as never})).toThrow(/attention must be 'none' or one of/);
    expect(() => seq2seqConfig({srcVocab: 0, tgtVocab: 5})).toThrow(/srcVocab must be a positive integer/);
  });
  it('rejects ids outside the vocabulary and inconsistent batches', () => {
    const cfg = tiny('additive');
    const b = batchOf(2);
    expect(() => batchTensors({...cfg, srcVocab: 5}, b)).toThrow(/source: id \d+ is outside the vocabulary \[0, 5\)/);
    expect(() => batchTensors(cfg, {...b, srcLen: b.srcLen + 1})).toThrow(/src has \d+ ids, expected B·srcLen/);
  });
});

describe('seq2seq forward and decoding', () => {
  for (const att of ['none', 'dot', 'scaledDot', 'general', 'additive'] as const) {
    it(`${att}: loss starts near log(V) and greedy decoding returns [B, steps] ids${att === 'none' ? '' : ' and [B, steps, Tk] weights summing to 1'}`, () => {
      const m = initSeq2Seq(tiny(att), {seed: 0});
      const bt = batchTensors(m.cfg, batchOf(4));
      const loss = tf.tidy(() => seq2seqLoss(m, bt).dataSync()[0]!);
      expect(Math.abs(loss - Math.log(tgt.size))).toBeLessThan(0.5);
      const d = greedyDecode(m, bt, 5);
      expect(d.ids.length).toBe(4 * 5);
      if (att === 'none') expect(d.weights).toBeUndefined();
      else {
        expect(d.weights!.length).toBe(4 * 5 * bt.Tk);
        for (let r = 0; r < 20; r++) {
          const row = d.weights!.subarray(r * bt.Tk, (r + 1) * bt.Tk);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        }
      }
      disposeBatchTensors(bt); disposeSeq2Seq(m);
    });
  }
  it('padding does not change the result of a sequence (masks in encoder and attention)', async () => {
    const m = initSeq2Seq(tiny('additive'), {seed: 0});
    const short = ds.train.find(e => e.input.length < 12)!, long = ds.train.find(e => e.input.length > 20)!;
    const alone = batchTensors(m.cfg, encodeBatch([short], src, tgt));
    const padded = batchTensors(m.cfg, encodeBatch([short, long], src, tgt));
    const a = greedyDecode(m, alone, 4), b = greedyDecode(m, padded, 4);
    expect(Array.from(b.ids.subarray(0, 4))).toEqual(Array.from(a.ids));
    // weights of the real characters agree, padded positions get 0
    for (let t = 0; t < 4; t++) {
      const wa = Array.from(a.weights!.subarray(t * a.Tk, (t + 1) * a.Tk));
      const wb = Array.from(b.weights!.subarray(t * b.Tk, (t + 1) * b.Tk));
      wa.forEach((w, j) => expect(wb[j]).toBeCloseTo(w, 5));
      expect(wb.slice(short.input.length).every(w => w === 0)).toBe(true);
    }
    disposeBatchTensors(alone); disposeBatchTensors(padded); disposeSeq2Seq(m);
  });
});

describe('gradients', () => {
  for (const att of ['additive', 'general', 'dot', 'none'] as const) {
    it(`${att}: every trainable variable gets a non-zero gradient`, () => {
      const m = initSeq2Seq(tiny(att), {seed: 1});
      const bt = batchTensors(m.cfg, batchOf(8));
      const {value, grads} = tf.variableGrads(() => seq2seqLoss(m, bt), Object.values(m.params));
      const byName = Object.entries(m.params).map(([name, v]) => [name, grads[v.name]!.abs().sum().dataSync()[0]!] as const);
      expect(Object.keys(grads).length).toBe(Object.keys(m.params).length);
      for (const [name, g] of byName) expect(g, `|grad| of ${name}`).toBeGreaterThan(0);
      if (att === 'additive') expect(byName.map(b => b[0])).toEqual(expect.arrayContaining(['W1', 'W2', 'va', 'encB.Whn', 'dec.bhn']));
      tf.dispose([value, ...Object.values(grads)]);
      disposeBatchTensors(bt); disposeSeq2Seq(m);
    });
  }
});

describe('gradient paths', () => {
  it('sourceGradientNorms gives one positive norm per input position and leaks nothing', () => {
    const m = initSeq2Seq(tiny('additive'), {seed: 0});
    const bt = batchTensors(m.cfg, batchOf(4));
    const before = tf.memory().numTensors;
    const g = sourceGradientNorms(m, bt);
    expect(tf.memory().numTensors).toBe(before);
    expect(g).toHaveLength(bt.Tk);
    expect(g.every(x => x > 0 && Number.isFinite(x))).toBe(true);
    disposeBatchTensors(bt); disposeSeq2Seq(m);
  });
});

describe('no tensor leaks', () => {
  it('forward pass (loss) and greedy decoding leave nothing behind', () => {
    const m = initSeq2Seq(tiny('additive'), {seed: 0});
    const bt = batchTensors(m.cfg, batchOf(4));
    expectNoLeak(() => tf.tidy(() => seq2seqLoss(m, bt)));
    const before = tf.memory().numTensors;
    greedyDecode(m, bt);
    predict(m, ds.test.slice(0, 5), src, tgt);
    alignments(m, ['23 Nov 2026'], src, tgt);
    expect(tf.memory().numTensors).toBe(before);
    disposeBatchTensors(bt); disposeSeq2Seq(m);
  });
  it('a training step leaves nothing behind (after the optimizer created its slots)', () => {
    const m = initSeq2Seq(tiny('additive'), {seed: 0});
    const opt = seq2seqOptimizer(m, {learningRate: 1e-3});
    const bt = batchTensors(m.cfg, batchOf(4));
    trainStep(m, opt, bt);
    const before = tf.memory().numTensors;
    trainStep(m, opt, bt);
    trainStep(m, opt, bt, 1e-3); // with clipping active
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose(); disposeBatchTensors(bt); disposeSeq2Seq(m);
  });
  it('fitSeq2Seq frees its optimizer and batches', () => {
    const before = tf.memory().numTensors;
    const m = initSeq2Seq(tiny('none'), {seed: 0});
    const nParams = Object.keys(m.params).length;
    fitSeq2Seq(m, ds.train.slice(0, 40), src, tgt, {steps: 3, batchSize: 8, logEvery: 1});
    expect(tf.memory().numTensors).toBe(before + nParams);
    disposeSeq2Seq(m);
    expect(tf.memory().numTensors).toBe(before);
  });
});
