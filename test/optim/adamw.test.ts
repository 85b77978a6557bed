import {readFileSync} from 'fs';
import * as tf from '@tensorflow/tfjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {AdamW, defaultDecay} from '../../lib/optim/adamw';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);

const golden = JSON.parse(readFileSync('test/golden/optim.json', 'utf8'));
let live: Array<{dispose(): void}> = [];
afterEach(() => {
  live.forEach((x) => x.dispose());
  live = [];
});
function vars(o: Record<string, {shape: number[]; values: number | number[] | number[][]}>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [n, {shape, values}] of Object.entries(o)) live.push((out[n] = tf.tidy(() => tf.variable(tf.tensor(values as number[], shape), true))));
  return out;
}
function grads(o: Record<string, number[] | number>, shapes: Record<string, number[]>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [n, v] of Object.entries(o)) out[n] = typeof v === 'number' ? tf.fill(shapes[n]!, v) : tf.tensor(v as number[], shapes[n]);
  return out;
}

describe('defaultDecay', () => {
  it('decays matrix weights only', () => {
    for (const n of ['blocks.0.attn.qkv.weight', 'blocks.3.mlp.fc1.weight', 'head.weight', 'layers.0.self_attn.in_proj_weight',
      'layers.1.self_attn.out_proj.weight', 'layers.0.linear1.weight', 'decoder.layers.0.multihead_attn.in_proj_weight']) {
      expect(defaultDecay(n), n).toBe(true);
    }
  });
  it('excludes biases, norms, embeddings and learned tokens', () => {
    for (const n of ['blocks.0.attn.qkv.bias', 'head.bias', 'layers.0.self_attn.in_proj_bias', 'blocks.0.norm1.weight',
      'blocks.0.norm1.bias', 'norm.weight', 'layers.0.norm3.weight', 'encoder.norm.weight', 'ln_f.weight', 'ln1.weight',
      'cls_token', 'dist_token', 'pos_embed', 'patch_embed.proj.weight', 'src_embed.weight', 'tgt_embed.weight', 'wte', 'ls1.gamma']) {
      expect(defaultDecay(n), n).toBe(false);
    }
  });
  it('never decays tensors of rank < 2 when the shape is known', () => {
    expect(defaultDecay('blocks.0.attn.proj.weight', [8])).toBe(false);
    expect(defaultDecay('blocks.0.attn.proj.weight', [8, 8])).toBe(true);
  });
});

describe('AdamW', () => {
  it('first step: decoupled decay then a step of lr·sign(g) (hand-computed)', async () => {
    const p = vars({'w.weight': {shape: [2], values: [1, -2]}, 'w.bias': {shape: [2], values: [1, -2]}});
    // rank-1 'w.weight' is not decayed by default: pass the decay rule explicitly
    const opt = new AdamW(p, {lr: 0.1, weightDecay: 0.1, decay: (n) => n === 'w.weight'});
    live.push(opt);
    const g = grads({'w.weight': [0.5, 0.5], 'w.bias': [0.5, -3]}, {'w.weight': [2], 'w.bias': [2]});
    opt.step(g);
    tf.dispose(g);
    // decay: 1·(1 − 0.1·0.1) = 0.99, −2·0.99 = −1.98; Adam step 1: m̂ = g, v̂ = g², update = lr·g/|g| = ±0.1
    await expectAllClose(p['w.weight']!, [0.89, -2.08], 1e-6);
    await expectAllClose(p['w.bias']!, [0.9, -1.9], 1e-6);
    expect(opt.stepCount).toBe(1);
  });

  it('second step matches the scalar formula with bias correction', async () => {
    const p = vars({x: {shape: [1], values: [1]}});
    const opt = new AdamW(p, {lr: 0.1, weightDecay: 0});
    live.push(opt);
    for (const [gv, lr] of [[0.5, 0.1], [-1, 0.05]] as const) {
      const g = {x: tf.tensor1d([gv])};
      opt.step(g, lr);
      tf.dispose(g);
    }
    // m = 0.9·0.05 − 0.1 = −0.055, v = 0.999·0.00025 + 0.001 = 0.00124975
    // m̂ = −0.055 / 0.19 = −0.2894737, v̂ = 0.00124975 / 0.001999 = 0.6251876, √v̂ = 0.7906881
    // x = 0.9 − 0.05 · (−0.2894737 / 0.7906881) = 0.9 + 0.0183052 = 0.9183052
    await expectAllClose(p.x!, [0.9183052], 1e-6);
    const s = opt.getState();
    await expectAllClose(s.m.x!, [-0.055], 1e-7);
    await expectAllClose(s.v.x!, [0.00124975], 1e-9);
  });

  for (const c of golden.adamw) {
    it(`matches torch.optim.AdamW step by step (${c.name})`, async () => {
      const spec: Record<string, {shape: number[]; values: number[]}> = {};
      for (const n of Object.keys(c.shapes)) spec[n] = {shape: c.shapes[n], values: c.init[n]};
      const p = vars(spec);
      const opt = new AdamW(p, {lr: 1, weightDecay: c.weightDecay, beta1: c.beta1, beta2: c.beta2, eps: c.eps});
      live.push(opt);
      expect(opt.decayedNames().sort()).toEqual(c.decay); // the default rule picks torch's two groups
      for (const s of c.steps) {
        const g = grads(s.grads, c.shapes);
        opt.step(g, s.lr);
        tf.dispose(g);
        for (const n of Object.keys(c.shapes)) await expectAllClose(p[n]!, s.params[n], 2e-6);
      }
      const st = opt.getState();
      expect(st.step).toBe(c.final.step);
      for (const n of Object.keys(c.shapes)) {
        await expectAllClose(st.m[n]!, c.final.m[n], 1e-6);
        await expectAllClose(st.v[n]!, c.final.v[n], 1e-6);
      }
    });
  }

  it('lr = 0 leaves params unchanged even with weight decay', async () => {
    const p = vars({'a.weight': {shape: [2, 2], values: [1, 2, 3, 4]}});
    const opt = new AdamW(p, {lr: 0.1, weightDecay: 0.5});
    live.push(opt);
    const g = {'a.weight': tf.ones([2, 2])};
    opt.step(g, 0);
    tf.dispose(g);
    await expectAllClose(p['a.weight']!, [1, 2, 3, 4], 0);
  });

  it('a missing or unknown gradient is a clear error and changes nothing', async () => {
    const p = vars({'a.weight': {shape: [2, 2], values: [1, 2, 3, 4]}, 'a.bias': {shape: [2], values: [0, 0]}});
    const opt = new AdamW(p, {lr: 0.1, weightDecay: 0.1});
    live.push(opt);
    const g = {'a.weight': tf.ones([2, 2]), 'b.weight': tf.ones([2])};
    expect(() => opt.step(g)).toThrow(/no gradient for 1 param\(s\): a\.bias; gradients for unknown name\(s\): b\.weight/);
    const g2 = {'a.weight': tf.ones([2, 2]), 'a.bias': tf.ones([3])};
    expect(() => opt.step(g2)).toThrow(/gradient for 'a\.bias' has shape \[3\], param has \[2\]/);
    tf.dispose([g, g2]);
    expect(opt.stepCount).toBe(0);
    await expectAllClose(p['a.weight']!, [1, 2, 3, 4], 0);
  });

  it('setState restores an identical continuation (from Float32Arrays)', async () => {
    const init = {'a.weight': {shape: [2, 3], values: [1, -2, 3, 0.5, 0, -1]}, 'a.bias': {shape: [3], values: [0.1, 0.2, 0.3]}};
    const shapes = {'a.weight': [2, 3], 'a.bias': [3]};
    const gs = [[0.3, -1], [2, 0.1], [-0.5, 0.7], [1, 1]].map(([a, b]) => ({'a.weight': [a!, b!, a!, b!, a!, b!], 'a.bias': [b!, a!, b!]}));
    const pa = vars(init), pb = vars(init);
    const a = new AdamW(pa, {lr: 0.01, weightDecay: 0.1}), b = new AdamW(pb, {lr: 0.01, weightDecay: 0.1});
    live.push(a, b);
    const run = (o: AdamW, g: Record<string, number[]>) => { const t = grads(g, shapes); o.step(t); tf.dispose(t); };
    gs.slice(0, 2).forEach((g) => run(a, g));
    const s = a.getState();
    const toArr = async (r: Record<string, tf.Tensor>) => Object.fromEntries(await Promise.all(Object.entries(r).map(async ([n, t]) => [n, (await t.data()) as Float32Array] as const)));
    b.setState({step: s.step, m: await toArr(s.m), v: await toArr(s.v)});
    for (const n of Object.keys(pa)) pb[n]!.assign(pa[n]!);
    gs.slice(2).forEach((g) => { run(a, g); run(b, g); });
    expect(b.stepCount).toBe(4);
    for (const n of Object.keys(pa)) await expectAllClose(pb[n]!, pa[n]!, 0);
  });

  it('setState rejects mis-shaped or missing moments', () => {
    const p = vars({'a.weight': {shape: [2, 2], values: [1, 2, 3, 4]}});
    const opt = new AdamW(p, {lr: 0.1, weightDecay: 0.1});
    live.push(opt);
    expect(() => opt.setState({step: 1, m: {'a.weight': new Float32Array(3)}, v: {}}))
      .toThrow(/m\['a\.weight'\] has 3 values, param \[2,2\] has 4; v missing for a\.weight/);
    const t = tf.zeros([4]);
    expect(() => opt.setState({step: 1, m: {'a.weight': t}, v: {'a.weight': t}})).toThrow(/has shape \[4\], param has \[2,2\]/);
    t.dispose();
    expect(opt.stepCount).toBe(0);
  });

  it('does not leak tensors: step keeps the count, dispose frees the moments', () => {
    const before = tf.memory().numTensors;
    const p = vars({'a.weight': {shape: [2, 2], values: [1, 2, 3, 4]}, 'a.bias': {shape: [2], values: [0, 0]}});
    const opt = new AdamW(p, {lr: 0.1, weightDecay: 0.1});
    const afterInit = tf.memory().numTensors;
    expect(afterInit - before).toBe(2 + 4); // 2 params + 2 moments each
    const g = {'a.weight': tf.ones([2, 2]), 'a.bias': tf.ones([2])};
    for (let i = 0; i < 3; i++) opt.step(g, 0.01 * (i + 1));
    tf.dispose(g);
    expect(tf.memory().numTensors).toBe(afterInit);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(() => opt.step({})).toThrow(/after dispose/);
  });

  it('rejects a bad config', () => {
    const p = vars({x: {shape: [1], values: [1]}});
    expect(() => new AdamW(p, {lr: -1, weightDecay: 0})).toThrow(/invalid lr = -1/);
    expect(() => new AdamW(p, {lr: 1, weightDecay: 0, beta2: 1})).toThrow(/invalid beta2 = 1/);
    expect(() => new AdamW({}, {lr: 1, weightDecay: 0})).toThrow(/no parameters/);
  });
});

describe('AdamW with crossEntropy, clipping and warm-up + cosine (integration)', () => {
  it('fits a tiny MLP: the loss falls and every param moves', async () => {
    const {crossEntropy} = await import('../../lib/optim/losses');
    const {clipByGlobalNorm} = await import('../../lib/optim/clip');
    const {warmupCosine} = await import('../../lib/optim/schedule');
    const p: Record<string, tf.Variable> = {
      'fc1.weight': tf.tidy(() => tf.variable(tf.randomNormal([2, 8], 0, 0.5, 'float32', 1))),
      'fc1.bias': tf.tidy(() => tf.variable(tf.zeros([8]))),
      'head.weight': tf.tidy(() => tf.variable(tf.randomNormal([8, 2], 0, 0.5, 'float32', 2))),
      'head.bias': tf.tidy(() => tf.variable(tf.zeros([2]))),
    };
    live.push(...Object.values(p));
    const init = Object.fromEntries(Object.entries(p).map(([n, v]) => [n, v.dataSync().slice()]));
    const opt = new AdamW(p, {lr: 0.05, weightDecay: 0.01});
    live.push(opt);
    // XOR-like labels: not linearly separable, so the hidden layer has to learn
    const x = tf.tensor2d([[1, 1], [-1, -1], [1, -1], [-1, 1], [0.9, 1.1], [-1.1, -0.8], [1.2, -0.9], [-0.8, 1.1]]);
    const y = tf.tensor1d([0, 0, 1, 1, 0, 0, 1, 1], 'int32');
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    for (let s = 0; s < 150; s++) {
      const {value, grads} = tf.variableGrads(() => {
        const h = tf.relu(tf.add(tf.matMul(x, p['fc1.weight']!), p['fc1.bias']!));               // [8, 8]
        return crossEntropy(tf.add(tf.matMul(h, p['head.weight']!), p['head.bias']!) as tf.Tensor2D, y, 0.05);
      }, Object.values(p));
      // variableGrads keys by variable name: re-key by param name
      const byName: Record<string, tf.Tensor> = {};
      for (const [n, v] of Object.entries(p)) byName[n] = grads[v.name]!;
      const c = clipByGlobalNorm(byName, 5);
      opt.step(c.grads, warmupCosine(s, {baseLr: 0.05, warmupSteps: 10, totalSteps: 150}));
      losses.push(value.dataSync()[0]!);
      tf.dispose([value, grads, c.grads]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(losses[0]!).toBeGreaterThan(0.6);
    expect(losses[losses.length - 1]!).toBeLessThan(0.15); // the smoothing floor is ≈ 0.1 for ε = 0.05
    for (const [n, v] of Object.entries(p)) {
      const d = Math.max(...Array.from(v.dataSync()).map((a, i) => Math.abs(a - init[n]![i]!)));
      expect(d, `${n} moved`).toBeGreaterThan(1e-3);
    }
    tf.dispose([x, y]);
  });
});
