/**
 * Loading timm / Hugging Face ViT weights — Chapter 3 §3.A (appendix).
 * timm (`vit_*_patch*_224`) stores a ViT under the same names as our model, in PyTorch layouts:
 *
 *   timm name                      timm shape        ours            conversion
 *   patch_embed.proj.weight        [D, C, P, P]      [P·P·C, D]      conv → (row, col, channel) × D
 *   patch_embed.proj.bias          [D]               [D]
 *   cls_token / pos_embed          [1, 1, D] / [1, T, D]   same
 *   blocks.N.norm1/norm2.*, norm.* [D]               [D]
 *   blocks.N.attn.qkv.weight       [3D, D]           [D, 3D]         transpose (q | k | v columns)
 *   blocks.N.attn.proj.weight      [D, D]            [D, D]          transpose
 *   blocks.N.mlp.fc1.weight        [F, D]            [D, F]          transpose
 *   blocks.N.mlp.fc2.weight        [D, F]            [F, D]          transpose
 *   head.weight                    [K, D]            [D, K]          transpose
 *
 * (nn.Linear keeps [out, in]; our dense kernels are [in, out].) Any name or shape mismatch gives one
 * error listing the missing, unexpected and mis-shaped names. Pure: bytes in, Float32Arrays out.
 */
import * as tf from '@tensorflow/tfjs';
import {parseSafetensors, SafetensorsTensor} from '../io/safetensors';
import {countViTParams} from './configs';
import {numTokens, ViTConfig, vitConfig} from './model';

export type RawTensor = {shape: number[]; data: Float32Array};

/** The timm names and shapes a ViT with this config has (our parameter names are the same). */
export function timmShapes(cfg: ViTConfig): Record<string, number[]> {
  const {patchSize: P, channels: C, dModel: D, dFF: F, numClasses: K} = cfg;
  const s: Record<string, number[]> = {'patch_embed.proj.weight': [D, C, P, P], 'patch_embed.proj.bias': [D]};
  if (cfg.pool === 'cls') s['cls_token'] = [1, 1, D];
  s['pos_embed'] = [1, numTokens(cfg), D];
  for (let i = 0; i < cfg.numLayers; i++) {
    const b = `blocks.${i}`;
    Object.assign(s, {
      [`${b}.norm1.weight`]: [D], [`${b}.norm1.bias`]: [D],
      [`${b}.attn.qkv.weight`]: [3 * D, D], [`${b}.attn.qkv.bias`]: [3 * D],
      [`${b}.attn.proj.weight`]: [D, D], [`${b}.attn.proj.bias`]: [D],
      [`${b}.norm2.weight`]: [D], [`${b}.norm2.bias`]: [D],
      [`${b}.mlp.fc1.weight`]: [F, D], [`${b}.mlp.fc1.bias`]: [F],
      [`${b}.mlp.fc2.weight`]: [D, F], [`${b}.mlp.fc2.bias`]: [D],
    });
  }
  s['norm.weight'] = [D]; s['norm.bias'] = [D];
  s['head.weight'] = [K, cfg.pool === 'flatten' ? numTokens(cfg) * D : D]; s['head.bias'] = [K];
  return s;
}

/** Row-major transpose of a [rows, cols] matrix. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/** Conv weight [D, C, P, P] (PyTorch OIHW) → dense kernel [P·P·C, D] in our patch order (row, col, channel). */
export function convToDense(w: Float32Array, D: number, C: number, P: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) for (let r = 0; r < P; r++) for (let q = 0; q < P; q++) {
    out[((r * P + q) * C + c) * D + d] = w[((d * C + c) * P + r) * P + q]!;
  }
  return out;
}

/** Dense kernel [P·P·C, D] → conv weight [D, C, P, P] (inverse of convToDense). */
export function denseToConv(w: Float32Array, D: number, C: number, P: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) for (let r = 0; r < P; r++) for (let q = 0; q < P; q++) {
    out[((d * C + c) * P + r) * P + q] = w[((r * P + q) * C + c) * D + d]!;
  }
  return out;
}

const isLinearWeight = (n: string) => /^(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.fc[12])|head)\.weight$/.test(n);

function fmt(s: number[]): string {
  return `[${s.join(', ')}]`;
}

function listNames(names: string[], max = 12): string {
  return names.length > max ? `${names.slice(0, max).join(', ')}, … (${names.length - max} more)` : names.join(', ');
}

/** Checks names and shapes against the config; throws one error listing every problem. */
export function checkTimmTensors(tensors: Record<string, {shape: number[]}>, cfg: ViTConfig): void {
  const want = timmShapes(cfg);
  const missing = Object.keys(want).filter(n => !(n in tensors));
  const unexpected = Object.keys(tensors).filter(n => !(n in want));
  const misShaped = Object.keys(want).filter(n => n in tensors && fmt(tensors[n]!.shape) !== fmt(want[n]!))
    .map(n => `${n} (file ${fmt(tensors[n]!.shape)}, expected ${fmt(want[n]!)})`);
  if (missing.length + unexpected.length + misShaped.length === 0) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.length}: ${listNames(missing)}`);
  if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${listNames(unexpected)}`);
  if (misShaped.length) parts.push(`mis-shaped ${misShaped.length}: ${listNames(misShaped)}`);
  throw new Error(`timm ViT weights do not match the config (dModel ${cfg.dModel}, ${cfg.numLayers} layers, patch ${cfg.patchSize}, image ${cfg.imageSize}, ${cfg.numClasses} classes, pool ${cfg.pool}) — ${parts.join('; ')}`);
}

/** timm tensors → our parameter arrays (same names, our layouts). Checks everything first. */
export function timmToOurs(tensors: Record<string, RawTensor>, cfg: ViTConfig): Record<string, RawTensor> {
  checkTimmTensors(tensors, cfg);
  const {patchSize: P, channels: C, dModel: D} = cfg;
  const out: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name === 'patch_embed.proj.weight') out[name] = {shape: [P * P * C, D], data: convToDense(t.data, D, C, P)};
    else if (isLinearWeight(name)) out[name] = {shape: [t.shape[1]!, t.shape[0]!], data: transpose2d(t.data, t.shape[0]!, t.shape[1]!)};
    else out[name] = {shape: t.shape.slice(), data: t.data};
  }
  return out;
}

/** Our parameters → timm tensors (for writing a .safetensors file timm can load). */
export async function oursToTimm(params: Record<string, tf.Tensor>, cfg: ViTConfig): Promise<Record<string, RawTensor>> {
  const {patchSize: P, channels: C, dModel: D} = cfg;
  const out: Record<string, RawTensor> = {};
  for (const [name, v] of Object.entries(params)) {
    const data = Float32Array.from(await v.data());
    if (name === 'patch_embed.proj.weight') out[name] = {shape: [D, C, P, P], data: denseToConv(data, D, C, P)};
    else if (isLinearWeight(name)) out[name] = {shape: [v.shape[1]!, v.shape[0]!], data: transpose2d(data, v.shape[0]!, v.shape[1]!)};
    else out[name] = {shape: v.shape.slice(), data};
  }
  checkTimmTensors(out, cfg);
  return out;
}

/** Widths of the published models and their head counts (head count is not stored in the weights). */
const KNOWN_HEADS: Record<number, number> = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16};

/**
 * Reads the config from timm tensor shapes: dModel, patch, channels, layers, dFF, classes and the
 * image size (from the number of positions). numHeads is not in the weights: pass it, or it is taken
 * from the published models (192→3, 384→6, 768→12, 1024→16, 1280→16).
 */
export function inferTimmConfig(tensors: Record<string, {shape: number[]}>, o: Partial<ViTConfig> = {}): ViTConfig {
  const get = (n: string) => {
    const t = tensors[n];
    if (!t) throw new Error(`timm ViT: cannot infer the config, "${n}" is missing (names found: ${listNames(Object.keys(tensors), 8)})`);
    return t.shape;
  };
  const [D, C, P] = get('patch_embed.proj.weight') as [number, number, number, number];
  const hasCls = 'cls_token' in tensors;
  const T = get('pos_embed')[1]!;
  const side = Math.round(Math.sqrt(T - (hasCls ? 1 : 0)));
  const layers = new Set(Object.keys(tensors).map(n => /^blocks\.(\d+)\./.exec(n)?.[1]).filter((x): x is string => x !== undefined));
  const numHeads = o.numHeads ?? KNOWN_HEADS[D];
  if (numHeads === undefined) throw new Error(`timm ViT: dModel ${D} is not a published width; pass numHeads (it is not stored in the weights)`);
  return vitConfig({
    imageSize: side * P, patchSize: P, channels: C, dModel: D, numHeads, numLayers: layers.size,
    dFF: get('blocks.0.mlp.fc1.weight')[0]!, numClasses: get('head.weight')[0]!, dropout: 0,
    pool: hasCls ? 'cls' : 'mean', activation: 'gelu', lnEps: 1e-6, ...o,
  });
}

/**
 * Parses a timm ViT .safetensors file: returns the config (inferred, with overrides) and our
 * parameter arrays, ready for `assignParams(initViT(config), params)` or `paramsFromArrays`.
 * F16/BF16 files are converted to float32 by the parser.
 */
export function loadTimmViT(bytes: Uint8Array, o: Partial<ViTConfig> = {}): {config: ViTConfig; params: Record<string, RawTensor>; paramCount: number} {
  const {tensors} = parseSafetensors(bytes);
  const config = inferTimmConfig(tensors as Record<string, SafetensorsTensor>, o);
  const params = timmToOurs(tensors, config);
  return {config, params, paramCount: countViTParams(config).total};
}

/** Arrays → named tf.Variables (a Params object), e.g. after loadTimmViT. */
export function paramsFromArrays(arrays: Record<string, RawTensor>): Record<string, tf.Variable> {
  const p: Record<string, tf.Variable> = {};
  for (const [name, a] of Object.entries(arrays)) {
    p[name] = tf.tidy(() => tf.variable(tf.tensor(a.data, a.shape, 'float32'), true));
  }
  return p;
}
