/**
 * Seq2seq with and without attention — Chapter 1 §1.5.
 *
 * Encoder: character embedding → (bi-directional) GRU → states s_1..s_N: [B, Tk, dModel]
 *          (each direction has dModel/2 units when bidirectional) and a summary = last states.
 * Decoder: GRU with state h_t (initial state tanh(summary Wb + bb)); at every step
 *          attention   c_t = Σ_j α_tj s_j, α_t = softmax(score(h_t, s_j))  (queries = h_t)
 *          no attention c_t = summary (the fixed "bottleneck" vector, Cho et al. 2014)
 *          output      o_t = tanh(h_t Wc1 + c_t Wc2 + bc),  logits = o_t Wout + bout
 * This is Luong-style global attention (query = the current decoder state). Both variants share
 * all code and every parameter except the attention weights.
 *
 * Inputs are one-hot rows built from plain id arrays, and embeddings are folded into the first
 * weight (E Wx, one [V, H] matMul per forward): tf.gather has no gradient kernel on wasm, and
 * per-step one-hot inputs avoid slicing a [B, T, …] tensor at every step (a full copy on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import {Rng} from '../core/rng';
import {attendWithScores} from '../attention/attention';
import {additiveScoresProjected, dotScores, project3d, ScoreName, SCORE_NAMES} from '../attention/scores';
import {GateInputs, GruParams, gruStep, initGru} from './gru';
import {Params} from '../core/params';
import {glorot, normalTable, zerosVar} from './params';
import {BOS, EncodedBatch, PAD} from './vocab';

export interface Seq2SeqConfig {
  srcVocab: number;
  tgtVocab: number;
  dEmb: number;
  dModel: number;
  bidirectional: boolean;
  /** score function of the decoder's attention, or 'none' for the plain encoder-decoder */
  attention: ScoreName | 'none';
  /** hidden width of the additive score */
  dAttn: number;
  /** decoding steps at inference (incl. EOS) */
  maxLen: number;
}

export const SEQ2SEQ_TINY: Seq2SeqConfig = {srcVocab: 10, tgtVocab: 10, dEmb: 16, dModel: 32, bidirectional: true, attention: 'additive', dAttn: 32, maxLen: 12};

export function seq2seqConfig(o: Partial<Seq2SeqConfig> & {srcVocab: number; tgtVocab: number}): Seq2SeqConfig {
  const c = {...SEQ2SEQ_TINY, ...o};
  for (const k of ['srcVocab', 'tgtVocab', 'dEmb', 'dModel', 'dAttn', 'maxLen'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`seq2seqConfig: ${k} must be a positive integer (got ${c[k]})`);
  }
  if (c.bidirectional && c.dModel % 2 !== 0) throw new Error(`seq2seqConfig: dModel (${c.dModel}) must be even for a bidirectional encoder`);
  if (c.attention !== 'none' && !SCORE_NAMES.includes(c.attention)) throw new Error(`seq2seqConfig: attention must be 'none' or one of ${SCORE_NAMES.join(', ')} (got "${c.attention}")`);
  return c;
}

export interface Seq2SeqModel {
  cfg: Seq2SeqConfig;
  params: Params; // flat: 'encF.Wxr', 'dec.Whn', 'Wout', …
}

function prefixed(prefix: string, p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [`${prefix}.${k}`, v]));
}
function sub(p: Params, prefix: string): GruParams {
  const out: Params = {};
  for (const [k, v] of Object.entries(p)) if (k.startsWith(prefix + '.')) out[k.slice(prefix.length + 1)] = v;
  return out as GruParams;
}

/** Creates the parameters (seeded; identical on every backend). Dispose with disposeSeq2Seq. */
export function initSeq2Seq(cfg: Seq2SeqConfig, opts: {seed?: number} = {}): Seq2SeqModel {
  const rng = new Rng(opts.seed ?? 0);
  const H = cfg.dModel, He = cfg.bidirectional ? H / 2 : H;
  const p: Params = {
    srcEmb: normalTable(rng, cfg.srcVocab, cfg.dEmb, 0.3),
    tgtEmb: normalTable(rng, cfg.tgtVocab, cfg.dEmb, 0.3),
    ...prefixed('encF', initGru(rng, cfg.dEmb, He)),
    ...(cfg.bidirectional ? prefixed('encB', initGru(rng, cfg.dEmb, He)) : {}),
    Wb: glorot(rng, H, H), bb: zerosVar(H),
    ...prefixed('dec', initGru(rng, cfg.dEmb, H)),
    Wc1: glorot(rng, H, H), Wc2: glorot(rng, H, H), bc: zerosVar(H),
    Wout: glorot(rng, H, cfg.tgtVocab), bout: zerosVar(cfg.tgtVocab),
  };
  if (cfg.attention === 'general') p.Wa = glorot(rng, H, H);
  if (cfg.attention === 'additive') { p.W1 = glorot(rng, H, cfg.dAttn); p.W2 = glorot(rng, H, cfg.dAttn); p.va = glorot(rng, cfg.dAttn, 1); }
  return {cfg, params: p};
}

export function disposeSeq2Seq(m: Seq2SeqModel): void {
  for (const v of Object.values(m.params)) v.dispose();
}

// ---------------------------------------------------------------- batch tensors

/** Per-step tensors of a batch (built once, disposed with disposeBatchTensors). */
export interface BatchTensors {
  B: number; Tk: number; Tout: number;
  srcOneHot: tf.Tensor2D[];   // Tk × [B, Vs]
  srcStepMask: tf.Tensor2D[]; // Tk × [B, 1], 1 = real character
  srcMask: tf.Tensor2D;       // [B, Tk] keep-mask for the attention
  decInOneHot: tf.Tensor2D[]; // Tout × [B, Vt]: BOS, y_1, …, y_{T-1} (teacher forcing)
  tgtOneHot: tf.Tensor2D[];   // Tout × [B, Vt]: y_1, …, y_T (EOS last)
  tgtWeight: tf.Tensor1D[];   // Tout × [B]: 1 where the target is not PAD
  numTargets: number;
}

function oneHotRows(ids: ArrayLike<number>, V: number, what: string): tf.Tensor2D {
  const buf = new Float32Array(ids.length * V);
  for (let b = 0; b < ids.length; b++) {
    const id = ids[b]!;
    if (!(id >= 0 && id < V)) throw new Error(`${what}: id ${id} is outside the vocabulary [0, ${V})`);
    buf[b * V + id] = 1;
  }
  return tf.tensor2d(buf, [ids.length, V]);
}

function column(a: Int32Array, B: number, T: number, t: number): Int32Array {
  const c = new Int32Array(B);
  for (let b = 0; b < B; b++) c[b] = a[b * T + t]!;
  return c;
}

export function batchTensors(cfg: Seq2SeqConfig, batch: EncodedBatch): BatchTensors {
  const {B, srcLen: Tk, tgtLen: Tout} = batch;
  if (batch.src.length !== B * Tk) throw new Error(`batchTensors: src has ${batch.src.length} ids, expected B·srcLen = ${B}·${Tk}`);
  if (batch.tgt.length !== B * Tout) throw new Error(`batchTensors: tgt has ${batch.tgt.length} ids, expected B·tgtLen = ${B}·${Tout}`);
  const srcOneHot: tf.Tensor2D[] = [], srcStepMask: tf.Tensor2D[] = [];
  const maskBuf = new Float32Array(B * Tk);
  for (let t = 0; t < Tk; t++) {
    const ids = column(batch.src, B, Tk, t);
    srcOneHot.push(oneHotRows(ids, cfg.srcVocab, 'source'));
    const m = Float32Array.from(ids, id => (id === PAD ? 0 : 1));
    m.forEach((v, b) => { maskBuf[b * Tk + t] = v; });
    srcStepMask.push(tf.tensor2d(m, [B, 1]));
  }
  const decInOneHot: tf.Tensor2D[] = [], tgtOneHot: tf.Tensor2D[] = [], tgtWeight: tf.Tensor1D[] = [];
  let numTargets = 0;
  for (let t = 0; t < Tout; t++) {
    const prev = t === 0 ? new Int32Array(B).fill(BOS) : column(batch.tgt, B, Tout, t - 1);
    const cur = column(batch.tgt, B, Tout, t);
    decInOneHot.push(oneHotRows(Int32Array.from(prev, id => (id === PAD ? BOS : id)), cfg.tgtVocab, 'target'));
    tgtOneHot.push(oneHotRows(cur, cfg.tgtVocab, 'target'));
    const w = Float32Array.from(cur, id => (id === PAD ? 0 : 1));
    numTargets += w.reduce((a, b) => a + b, 0);
    tgtWeight.push(tf.tensor1d(w));
  }
  return {B, Tk, Tout, srcOneHot, srcStepMask, srcMask: tf.tensor2d(maskBuf, [B, Tk]), decInOneHot, tgtOneHot, tgtWeight, numTargets};
}

export function disposeBatchTensors(b: BatchTensors): void {
  tf.dispose([...b.srcOneHot, ...b.srcStepMask, b.srcMask, ...b.decInOneHot, ...b.tgtOneHot, ...b.tgtWeight]);
}

// ---------------------------------------------------------------- encoder

/** Gate inputs of every vocabulary entry: E Wx* ([V, H] each), so a step is one-hot · table. */
function foldedInputs(emb: tf.Tensor, p: GruParams): GateInputs {
  return {xr: tf.matMul(emb, p.Wxr), xz: tf.matMul(emb, p.Wxz), xn: tf.matMul(emb, p.Wxn)}; // [V, H]
}
function stepInputs(table: GateInputs, oneHot: tf.Tensor): GateInputs {
  return {xr: tf.matMul(oneHot, table.xr), xz: tf.matMul(oneHot, table.xz), xn: tf.matMul(oneHot, table.xn)}; // [B, H]
}

function runDirection(p: GruParams, emb: tf.Tensor, bt: BatchTensors, reverse: boolean): {states: tf.Tensor2D[]; last: tf.Tensor2D} {
  const table = foldedInputs(emb, p);
  let h = tf.zeros([bt.B, p.Whr.shape[0]!]) as tf.Tensor2D;         // [B, He]
  const states: tf.Tensor2D[] = new Array(bt.Tk);
  for (let i = 0; i < bt.Tk; i++) {
    const t = reverse ? bt.Tk - 1 - i : i;
    const hNew = gruStep(p, stepInputs(table, bt.srcOneHot[t]!), h); // [B, He]
    h = h.add(bt.srcStepMask[t]!.mul(hNew.sub(h))) as tf.Tensor2D;   // padding keeps the old state
    states[t] = h;
  }
  return {states, last: h};
}

export interface EncoderOutput {
  states: tf.Tensor3D;  // [B, Tk, dModel]  s_1..s_N
  summary: tf.Tensor2D; // [B, dModel]      last forward state ⊕ last backward state
}

/** Encoder forward pass (not tidied: call inside tf.tidy or a gradient function). */
export function encode(m: Seq2SeqModel, bt: BatchTensors): EncoderOutput {
  const P = m.params;
  const f = runDirection(sub(P, 'encF'), P.srcEmb!, bt, false);
  if (!m.cfg.bidirectional) return {states: tf.stack(f.states, 1) as tf.Tensor3D, summary: f.last};
  const b = runDirection(sub(P, 'encB'), P.srcEmb!, bt, true);
  const states = tf.concat([tf.stack(f.states, 1), tf.stack(b.states, 1)], 2) as tf.Tensor3D; // [B, Tk, dModel]
  return {states, summary: tf.concat([f.last, b.last], 1) as tf.Tensor2D};
}

// ---------------------------------------------------------------- decoder

/** What the decoder precomputes once per sequence. */
interface DecoderMemory {
  enc: EncoderOutput;
  keys?: tf.Tensor3D; // projected keys: s W_aᵀ (general) or s W2 (additive)
  mask: tf.Tensor2D;  // [B, Tk]
  table: GateInputs;  // folded target embedding
}

function memory(m: Seq2SeqModel, enc: EncoderOutput, mask: tf.Tensor2D): DecoderMemory {
  const P = m.params;
  let keys: tf.Tensor3D | undefined;
  if (m.cfg.attention === 'general') keys = project3d(enc.states, P.Wa!.transpose());   // q W kᵀ = q (k Wᵀ)ᵀ
  if (m.cfg.attention === 'additive') keys = project3d(enc.states, P.W2!);               // [B, Tk, A]
  return {enc, keys, mask, table: foldedInputs(P.tgtEmb!, sub(P, 'dec'))};
}

/** One decoder step: new state, logits [B, Vt] and attention weights [B, Tk] (undefined without attention). */
function decoderStep(m: Seq2SeqModel, mem: DecoderMemory, h: tf.Tensor2D, inOneHot: tf.Tensor): {h: tf.Tensor2D; logits: tf.Tensor2D; weights?: tf.Tensor2D} {
  const P = m.params, cfg = m.cfg, B = h.shape[0], H = cfg.dModel;
  const hNew = gruStep(sub(P, 'dec'), stepInputs(mem.table, inOneHot), h);       // [B, H]
  let context: tf.Tensor2D, weights: tf.Tensor2D | undefined;
  if (cfg.attention === 'none') {
    context = mem.enc.summary;                                                    // [B, H] fixed
  } else {
    const q = hNew.reshape([B, 1, H]);                                            // [B, 1, H]
    let r: tf.Tensor3D;                                                           // [B, 1, Tk]
    if (cfg.attention === 'additive') r = additiveScoresProjected(tf.matMul(hNew, P.W1!).reshape([B, 1, cfg.dAttn]), mem.keys!, P.va!.reshape([cfg.dAttn]));
    else if (cfg.attention === 'general') r = dotScores(q, mem.keys!);
    else r = dotScores(q, mem.enc.states).mul(cfg.attention === 'scaledDot' ? 1 / Math.sqrt(H) : 1) as tf.Tensor3D;
    const a = attendWithScores(r, mem.enc.states, mem.mask);
    context = a.context.reshape([B, H]);                                          // [B, H]
    weights = a.weights.reshape([B, a.weights.shape[2]]) as tf.Tensor2D;                       // [B, Tk]
  }
  const o = tf.tanh(tf.matMul(hNew, P.Wc1!).add(tf.matMul(context, P.Wc2!)).add(P.bc!)); // [B, H]
  const logits = tf.matMul(o, P.Wout!).add(P.bout!) as tf.Tensor2D;                   // [B, Vt]
  return {h: hNew, logits, weights};
}

function initialState(m: Seq2SeqModel, enc: EncoderOutput): tf.Tensor2D {
  return tf.tanh(tf.matMul(enc.summary, m.params.Wb!).add(m.params.bb!)) as tf.Tensor2D; // [B, H]
}

/**
 * Mean cross-entropy per target character with teacher forcing (the decoder reads the true
 * previous character). Returns a scalar; not tidied, so it can run inside tf.variableGrads.
 */
export function seq2seqLoss(m: Seq2SeqModel, bt: BatchTensors): tf.Scalar {
  const enc = encode(m, bt);
  const mem = memory(m, enc, bt.srcMask);
  let h = initialState(m, enc);
  const terms: tf.Tensor[] = [];
  for (let t = 0; t < bt.Tout; t++) {
    const step = decoderStep(m, mem, h, bt.decInOneHot[t]!);
    h = step.h;
    const ce = tf.losses.softmaxCrossEntropy(bt.tgtOneHot[t]!, step.logits, undefined, undefined, tf.Reduction.NONE); // [B]
    terms.push(ce.mul(bt.tgtWeight[t]!).sum());
  }
  return tf.addN(terms).div(Math.max(1, bt.numTargets)) as tf.Scalar;
}

export interface Decoded {
  ids: Int32Array;      // [B, steps] greedy predictions (EOS included; positions after EOS are junk)
  steps: number;
  weights?: Float32Array; // [B, steps, Tk] attention weights of every step (attention models only)
  Tk: number;
}

/** Greedy decoding: at each step feed back the arg-max character. No tensors are left behind. */
export function greedyDecode(m: Seq2SeqModel, bt: BatchTensors, steps = m.cfg.maxLen): Decoded {
  const out = tf.tidy(() => {
    const enc = encode(m, bt);
    const mem = memory(m, enc, bt.srcMask);
    let h = initialState(m, enc);
    let x: tf.Tensor = tf.oneHot(tf.fill([bt.B], BOS, 'int32') as tf.Tensor1D, m.cfg.tgtVocab).cast('float32'); // [B, Vt]
    const preds: tf.Tensor[] = [], ws: tf.Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const step = decoderStep(m, mem, h, x);
      h = step.h;
      const id = step.logits.argMax(1) as tf.Tensor1D;                           // [B]
      preds.push(id);
      if (step.weights) ws.push(step.weights);
      x = tf.oneHot(id, m.cfg.tgtVocab).cast('float32');
    }
    return {ids: tf.stack(preds, 1), weights: ws.length ? tf.stack(ws, 1) : undefined}; // [B, steps], [B, steps, Tk]
  });
  const res: Decoded = {ids: Int32Array.from(out.ids.dataSync()), steps, Tk: bt.Tk, weights: out.weights ? Float32Array.from(out.weights.dataSync()) : undefined};
  tf.dispose([out.ids, out.weights ?? []]);
  return res;
}
