/**
 * AdamW — Chapter 2 §2.7 and Chapter 4 §4.3: Adam with decoupled weight decay (Loshchilov & Hutter), exactly the
 * update of `torch.optim.AdamW` (PyTorch 1.13, amsgrad=False) for every parameter p with grad g:
 *
 *   p ← p · (1 − lr·wd)                          decoupled decay (only if decay(name, shape))
 *   m ← β1·m + (1 − β1)·g                         first moment
 *   v ← β2·v + (1 − β2)·g²                        second moment
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)   bias-corrected Adam step, t = 1, 2, …
 *
 * tfjs has no AdamW (tf.train.adam applies no decay). Params are a plain object of named
 * tf.Variables; grads use the same names (e.g. from `tf.variableGrads` with variables created
 * under their param names, or re-keyed by the caller). Uses only elementwise kernels that wasm has.
 * Written by hand on purpose: tfjs has no AdamW, and its update rule is what Chapters 2 and 4 teach.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  lr: number;
  beta1?: number;   // default 0.9
  beta2?: number;   // default 0.999
  eps?: number;     // default 1e-8
  weightDecay: number;
  /** Which params get weight decay; default `defaultDecay` (name rules + rank ≥ 2). */
  decay?: (name: string, shape: number[]) => boolean;
}

export interface AdamWState<T> {
  step: number;
  m: Record<string, T>;
  v: Record<string, T>;
}

/**
 * Default decay rule: true only for matrix weights. False for biases (`*.bias`, `in_proj_bias`),
 * norms (`norm*`, `ln*`, `bn*`, `*layernorm*`), embeddings (any name containing `embed`, e.g.
 * `pos_embed`, `src_embed.weight`, `patch_embed.proj.weight`; also GPT's `wte`/`wpe`) and learned
 * tokens (`cls_token`, `dist_token`, `*_token`). When `shape` is given, tensors of rank < 2 never
 * decay either (timm's rule). Note: timm does decay the patch-embedding projection; this course
 * treats it as an embedding (no decay), like the token embeddings. Pass your own `decay` to change the rule.
 */
export function defaultDecay(name: string, shape?: number[]): boolean {
  if (shape !== undefined && shape.length < 2) return false;
  const n = name.toLowerCase();
  const parts = n.split('.');
  const last = parts[parts.length - 1]!;
  if (last === 'bias' || last.endsWith('_bias') || last === 'beta') return false;
  if (n.includes('embed') || parts.some((p) => p === 'wte' || p === 'wpe')) return false;
  if (last === 'token' || last.endsWith('_token') || parts.some((p) => p.endsWith('_token'))) return false;
  if (parts.some((p) => p.includes('norm') || /^(ln|bn)(\d|_|$)/.test(p))) return false;
  if (last === 'gamma' || last === 'scale') return false; // LayerNorm gains / layer scale
  return true;
}

function shapeStr(s: number[]): string {
  return `[${s.join(',')}]`;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class AdamW {
  readonly cfg: Required<AdamWConfig>;
  protected readonly params: Record<string, tf.Variable>;
  protected readonly names: string[];
  protected readonly decayed: Set<string>;
  protected m: Record<string, tf.Variable> = {};
  protected v: Record<string, tf.Variable> = {};
  protected t = 0;
  protected disposed = false;

  constructor(params: Record<string, tf.Variable>, cfg: AdamWConfig) {
    const c = {beta1: 0.9, beta2: 0.999, eps: 1e-8, decay: defaultDecay, ...cfg};
    const bad = (k: string, v: number, ok: boolean) => {
      if (!ok) throw new Error(`AdamW: invalid ${k} = ${v}`);
    };
    bad('lr', c.lr, Number.isFinite(c.lr) && c.lr >= 0);
    bad('beta1', c.beta1, c.beta1 >= 0 && c.beta1 < 1);
    bad('beta2', c.beta2, c.beta2 >= 0 && c.beta2 < 1);
    bad('eps', c.eps, c.eps >= 0);
    bad('weightDecay', c.weightDecay, Number.isFinite(c.weightDecay) && c.weightDecay >= 0);
    this.cfg = c;
    this.params = params;
    this.names = Object.keys(params);
    if (this.names.length === 0) throw new Error('AdamW: no parameters given');
    this.decayed = new Set(this.names.filter((n) => c.decay(n, params[n]!.shape)));
    for (const n of this.names) {
      const p = params[n]!;
      if (p.dtype !== 'float32') throw new Error(`AdamW: param '${n}' has dtype ${p.dtype}, expected float32`);
      // variables survive tidy; the zerosLike temporaries do not
      this.m[n] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      this.v[n] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Number of updates done so far (PyTorch's `state['step']`). */
  get stepCount(): number {
    return this.t;
  }

  /** True when `name` gets weight decay. */
  decays(name: string): boolean {
    return this.decayed.has(name);
  }

  /** Names of the params that get weight decay, in param order. */
  decayedNames(): string[] {
    return this.names.filter((n) => this.decayed.has(n));
  }

  /**
   * One update with `grads[name]` for every param. `lr` overrides cfg.lr (e.g. from a schedule).
   * All grads are checked before anything changes. The grads stay owned by the caller.
   */
  step(grads: Record<string, tf.Tensor>, lr?: number): void {
    const rate = this.checkStep(grads, lr);
    // BEGIN SOLUTION adamw-step
    const t = this.t + 1;
    const {beta1, beta2, eps, weightDecay} = this.cfg;
    const stepSize = rate / (1 - Math.pow(beta1, t));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    tf.tidy(() => {
      const b1 = tf.scalar(beta1), c1 = tf.scalar(1 - beta1);
      const b2 = tf.scalar(beta2), c2 = tf.scalar(1 - beta2);
      const keep = tf.scalar(1 - rate * weightDecay), sz = tf.scalar(stepSize);
      const bc = tf.scalar(bc2Sqrt), e = tf.scalar(eps);
      for (const n of this.names) {
        const p = this.params[n]!, g = grads[n]!;
        const m = tf.add(tf.mul(this.m[n]!, b1), tf.mul(g, c1));           // [...shape]
        const v = tf.add(tf.mul(this.v[n]!, b2), tf.mul(tf.square(g), c2)); // [...shape]
        const denom = tf.add(tf.div(tf.sqrt(v), bc), e);
        const decayed = this.decayed.has(n) && weightDecay !== 0 ? tf.mul(p, keep) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), sz)));
        this.m[n]!.assign(m);
        this.v[n]!.assign(v);
      }
    });
    this.t = t;
    // END SOLUTION
  }

  /**
   * The checks every step makes before anything changes (also FusedAdamW's): not disposed, a finite
   * non-negative learning rate, one gradient of the right shape per param. Returns the rate to use.
   */
  protected checkStep(grads: Record<string, tf.Tensor>, lr?: number): number {
    if (this.disposed) throw new Error('AdamW: step() after dispose()');
    const rate = lr ?? this.cfg.lr;
    if (!Number.isFinite(rate) || rate < 0) throw new Error(`AdamW: invalid lr = ${rate}`);
    this.checkGrads(grads);
    return rate;
  }

  protected checkGrads(grads: Record<string, tf.Tensor>): void {
    const missing = this.names.filter((n) => grads[n] === undefined || grads[n] === null);
    const unknown = Object.keys(grads).filter((n) => !(n in this.params));
    if (missing.length > 0 || unknown.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`no gradient for ${missing.length} param(s): ${list(missing)}`);
      if (unknown.length > 0) parts.push(`gradients for unknown name(s): ${list(unknown)}`);
      throw new Error(`AdamW.step: ${parts.join('; ')}`);
    }
    for (const n of this.names) {
      const g = grads[n]!, p = this.params[n]!;
      if (g.isDisposed) throw new Error(`AdamW.step: gradient for '${n}' is disposed`);
      if (!sameShape(g.shape, p.shape)) {
        throw new Error(`AdamW.step: gradient for '${n}' has shape ${shapeStr(g.shape)}, param has ${shapeStr(p.shape)}`);
      }
    }
  }

  /** References to the moment tensors (do not dispose them) and the step count, for checkpoints. */
  getState(): AdamWState<tf.Tensor> {
    return {step: this.t, m: {...this.m}, v: {...this.v}};
  }

  /** Restores step and moments (e.g. from `loadCheckpoint`). Checks names and shapes first. */
  setState(s: AdamWState<Float32Array | tf.Tensor>): void {
    if (!Number.isInteger(s.step) || s.step < 0) throw new Error(`AdamW.setState: invalid step ${s.step}`);
    const problems: string[] = [];
    for (const [which, src] of [['m', s.m], ['v', s.v]] as const) {
      const missing = this.names.filter((n) => src[n] === undefined);
      const unknown = Object.keys(src).filter((n) => !(n in this.params));
      if (missing.length > 0) problems.push(`${which} missing for ${list(missing)}`);
      if (unknown.length > 0) problems.push(`${which} has unknown name(s) ${list(unknown)}`);
      for (const n of this.names) {
        const x = src[n];
        if (x === undefined) continue;
        const shape = this.params[n]!.shape, size = this.params[n]!.size;
        if (x instanceof tf.Tensor) {
          if (!sameShape(x.shape, shape)) problems.push(`${which}['${n}'] has shape ${shapeStr(x.shape)}, param has ${shapeStr(shape)}`);
        } else if (x.length !== size) {
          problems.push(`${which}['${n}'] has ${x.length} values, param ${shapeStr(shape)} has ${size}`);
        }
      }
    }
    if (problems.length > 0) throw new Error(`AdamW.setState: ${problems.join('; ')}`);
    for (const n of this.names) {
      const shape = this.params[n]!.shape;
      tf.tidy(() => {
        const m = s.m[n]!, v = s.v[n]!;
        this.m[n]!.assign(m instanceof tf.Tensor ? m.clone().cast('float32') : tf.tensor(m, shape, 'float32'));
        this.v[n]!.assign(v instanceof tf.Tensor ? v.clone().cast('float32') : tf.tensor(v, shape, 'float32'));
      });
    }
    this.t = s.step;
  }

  dispose(): void {
    if (this.disposed) return;
    tf.dispose(Object.values(this.m));
    tf.dispose(Object.values(this.v));
    this.m = {};
    this.v = {};
    this.disposed = true;
  }
}

function list(names: string[], max = 8): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}
