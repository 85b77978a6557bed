/**
 * Parameters ↔ PyTorch state_dict names — Chapter 2 §2.A, to compare with PyTorch number for number.
 *   attention module P (P.qkv.* fused, or P.q/k/v.* separate; P.proj.*):
 *     P.qkv.weight [D, 3D]  ↔ T.in_proj_weight [3D, D]  (transposed; separate q/k/v are its row blocks)
 *     P.qkv.bias   [3D]     ↔ T.in_proj_bias
 *     P.proj.weight [D, D]  ↔ T.out_proj.weight (transposed), P.proj.bias ↔ T.out_proj.bias
 *   where T renames the last segment: attn → self_attn, cross_attn → multihead_attn
 *   (nn.TransformerEncoderLayer / DecoderLayer), anything else unchanged ('' for a bare nn.MultiheadAttention).
 *   mlp.fc1 / mlp.fc2 ↔ linear1 / linear2 (kernels transposed); norms keep their names.
 *   Other rank-2 `*.weight`s are dense kernels [in, out] ↔ nn.Linear [out, in], except embedding
 *   tables (names containing "embed"), which are [V, D] in both.
 * Arrays are nested number arrays (JSON-friendly, like `{k: v.tolist()}` in Python).
 */
import * as tf from '@tensorflow/tfjs';
import {Params} from '../core/params';

export type NestedArray = number | NestedArray[];
export type TorchStateDict = Record<string, NestedArray>;

const join = (a: string, b: string) => (a === '' ? b : `${a}.${b}`);

/** Prefixes of the attention modules in params ('' for a bare module named qkv.*, proj.*). */
export function attentionModules(params: Params): string[] {
  const mods: string[] = [];
  for (const n of Object.keys(params)) {
    const m = /^(?:(.*)\.)?(?:qkv|q)\.weight$/.exec(n);
    if (m && params[join(m[1] ?? '', 'proj.weight')]) mods.push(m[1] ?? '');
  }
  return mods;
}

function renameModule(prefix: string): string {
  const parts = prefix === '' ? [] : prefix.split('.');
  const last = parts.pop();
  if (last === undefined) return '';
  const renamed = last === 'attn' ? 'self_attn' : last === 'cross_attn' ? 'multihead_attn' : last;
  return [...parts, renamed].join('.');
}

/** PyTorch name of a non-attention parameter and whether its array is transposed. */
function plainName(name: string, rank: number): {torch: string; transpose: boolean} {
  const torch = name.replace(/(^|\.)mlp\.fc1\./, '$1linear1.').replace(/(^|\.)mlp\.fc2\./, '$1linear2.');
  return {torch, transpose: rank === 2 && name.endsWith('.weight') && !name.includes('embed')};
}

/** Our params → PyTorch state_dict (name → nested array). */
export function toTorchStateDict(params: Params): TorchStateDict {
  const out: TorchStateDict = {};
  const done = new Set<string>();
  for (const m of attentionModules(params)) {
    const t = renameModule(m);
    const fused = params[join(m, 'qkv.weight')] !== undefined;
    const get = (n: string) => { done.add(join(m, n)); const p = params[join(m, n)]; if (!p) throw new Error(`toTorchStateDict: missing ${join(m, n)}`); return p; };
    tf.tidy(() => {
      out[join(t, 'in_proj_weight')] = (fused ? tf.transpose(get('qkv.weight')) : tf.concat(['q', 'k', 'v'].map(n => tf.transpose(get(`${n}.weight`))), 0)).arraySync();
      out[join(t, 'in_proj_bias')] = (fused ? get('qkv.bias') : tf.concat(['q', 'k', 'v'].map(n => get(`${n}.bias`)), 0)).arraySync();
      out[join(t, 'out_proj.weight')] = tf.transpose(get('proj.weight')).arraySync();
      out[join(t, 'out_proj.bias')] = get('proj.bias').arraySync();
    });
  }
  for (const [n, v] of Object.entries(params)) {
    if (done.has(n)) continue;
    const {torch, transpose} = plainName(n, v.rank);
    out[torch] = tf.tidy(() => (transpose ? tf.transpose(v) : v).arraySync());
  }
  return out;
}

function shapeOf(a: NestedArray): number[] {
  const s: number[] = [];
  let x: NestedArray = a;
  while (Array.isArray(x)) { s.push(x.length); x = x[0]!; }
  return s;
}

/**
 * Loads a PyTorch state_dict (name → nested array) into our params, in place. Every param must be
 * found with the right shape; torch entries that map to nothing are reported too (pass
 * `ignore` for names you expect, e.g. nn.Transformer's encoder.norm in a post-norm model).
 */
export function loadTorchStateDict(params: Params, sd: TorchStateDict, opts: {ignore?: (name: string) => boolean} = {}): void {
  const used = new Set<string>();
  const problems: string[] = [];
  const take = (name: string, want: number[]): tf.Tensor | undefined => {
    const a = sd[name];
    if (a === undefined) { problems.push(`missing "${name}"`); return undefined; }
    used.add(name);
    const s = shapeOf(a);
    if (s.length !== want.length || s.some((d, i) => d !== want[i])) { problems.push(`"${name}" has shape [${s}], expected [${want}]`); return undefined; }
    return tf.tensor(a as number[], s, 'float32');
  };
  const assign = (n: string, t: tf.Tensor | undefined, f: (t: tf.Tensor) => tf.Tensor) => {
    if (!t) return;
    tf.tidy(() => params[n]!.assign(f(t)));
    t.dispose();
  };
  const done = new Set<string>();
  for (const m of attentionModules(params)) {
    const t = renameModule(m);
    const fused = params[join(m, 'qkv.weight')] !== undefined;
    const D = params[join(m, 'proj.weight')]!.shape[0]!;
    const w = take(join(t, 'in_proj_weight'), [3 * D, D]), b = take(join(t, 'in_proj_bias'), [3 * D]);
    if (fused) {
      assign(join(m, 'qkv.weight'), w, x => tf.transpose(x));
      assign(join(m, 'qkv.bias'), b, x => x);
    } else {
      ['q', 'k', 'v'].forEach((n, i) => {
        if (w) tf.tidy(() => params[join(m, `${n}.weight`)]!.assign(tf.transpose(tf.slice(w, [i * D, 0], [D, D]))));
        if (b) tf.tidy(() => params[join(m, `${n}.bias`)]!.assign(tf.slice(b, [i * D], [D])));
      });
      tf.dispose([w!, b!].filter(Boolean));
    }
    assign(join(m, 'proj.weight'), take(join(t, 'out_proj.weight'), [D, D]), x => tf.transpose(x));
    assign(join(m, 'proj.bias'), take(join(t, 'out_proj.bias'), [D]), x => x);
    for (const n of fused ? ['qkv.weight', 'qkv.bias'] : ['q', 'k', 'v'].flatMap(n => [`${n}.weight`, `${n}.bias`])) done.add(join(m, n));
    done.add(join(m, 'proj.weight')); done.add(join(m, 'proj.bias'));
  }
  for (const [n, v] of Object.entries(params)) {
    if (done.has(n)) continue;
    const {torch, transpose} = plainName(n, v.rank);
    const want = transpose ? [v.shape[1]!, v.shape[0]!] : v.shape;
    assign(n, take(torch, want), x => (transpose ? tf.transpose(x) : x));
  }
  const unused = Object.keys(sd).filter(n => !used.has(n) && !(opts.ignore?.(n)));
  if (unused.length > 0) problems.push(`unused PyTorch entries: ${unused.join(', ')}`);
  if (problems.length > 0) throw new Error(`loadTorchStateDict: ${problems.join('; ')}`);
}
