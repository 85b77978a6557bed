/**
 * The straightforward ViT: the same maths as lib/vit/model.ts written the obvious way with stock
 * tfjs ops and tfjs's own autograd (tf.matMul + add, tf.moments LayerNorm, composed erf GELU, a
 * fused QKV GEMM with a rank-5 head split, matMul(q, k, false, true), a rank-6 patchify). The
 * formulation tests compare lib's fast version against it (loss and gradients).
 */
import * as tf from '@tensorflow/tfjs';
import {Params} from '../../lib/core/params';
import {ViTConfig} from '../../lib/vit/model';

const P = (p: Params, n: string) => {
  const v = p[n];
  if (!v) throw new Error(`reference ViT: missing parameter ${n}`);
  return v;
};

export function refLinear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const outDim = w.shape[1]!;
  const y = tf.add(tf.matMul(tf.reshape(x, [-1, w.shape[0]!]), w), b);        // [N, out]
  return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
}

export function refLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const {mean, variance} = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
}

export function refGelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
}

/** images [B, H, W, C] → [B, N, P·P·C] with one rank-6 transpose. */
export function refPatchify(images: tf.Tensor, p: number): tf.Tensor {
  const [B, H, W, C] = images.shape as number[];
  const gh = H! / p, gw = W! / p;
  const x = tf.reshape(images, [B!, gh, p, gw, p, C!]);
  return tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4, 5]), [B!, gh * gw, p * p * C!]);
}

/** Self-attention with a fused QKV projection, rank-5 split and transpose-flag matMuls. x: [B, T, D]. */
export function refAttention(params: Params, prefix: string, x: tf.Tensor, H: number): tf.Tensor {
  const [B, T, D] = x.shape as number[];
  const dh = D! / H;
  const qkv = refLinear(x, P(params, `${prefix}.qkv.weight`), P(params, `${prefix}.qkv.bias`));      // [B, T, 3D]
  const heads = tf.transpose(tf.reshape(qkv, [B!, T!, 3, H, dh]), [2, 0, 3, 1, 4]);                    // [3, B, H, T, dh]
  const [q, k, v] = tf.unstack(heads);                                                                 // [B, H, T, dh]
  const scores = tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(dh));                                // [B, H, T, T]
  const o = tf.matMul(tf.softmax(scores), v!);                                                         // [B, H, T, dh]
  const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B!, T!, D!]);                              // [B, T, D]
  return refLinear(merged, P(params, `${prefix}.proj.weight`), P(params, `${prefix}.proj.bias`));
}

/** Pre-norm ViT with CLS pooling (the chapter 4 models). images [B, H, W, C] → logits [B, classes]. */
export function refVitForward(params: Params, cfg: ViTConfig, images: tf.Tensor): tf.Tensor {
  if (cfg.pool !== 'cls' || cfg.activation !== 'gelu') throw new Error('reference ViT: only pool cls + gelu');
  const B = images.shape[0]!;
  const patches = refPatchify(images, cfg.patchSize);                                                  // [B, N, P·P·C]
  let x = refLinear(patches, P(params, 'patch_embed.proj.weight'), P(params, 'patch_embed.proj.bias')); // [B, N, D]
  x = tf.add(tf.concat([tf.tile(P(params, 'cls_token'), [B, 1, 1]), x], 1), P(params, 'pos_embed'));  // [B, T, D]
  const ln = (name: string, t: tf.Tensor) => refLayerNorm(t, P(params, `${name}.weight`), P(params, `${name}.bias`), cfg.lnEps);
  for (let i = 0; i < cfg.numLayers; i++) {
    const pre = `blocks.${i}`;
    x = tf.add(x, refAttention(params, `${pre}.attn`, ln(`${pre}.norm1`, x), cfg.numHeads));
    const h = refGelu(refLinear(ln(`${pre}.norm2`, x), P(params, `${pre}.mlp.fc1.weight`), P(params, `${pre}.mlp.fc1.bias`)));
    x = tf.add(x, refLinear(h, P(params, `${pre}.mlp.fc2.weight`), P(params, `${pre}.mlp.fc2.bias`)));
  }
  x = ln('norm', x);
  const cls = tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, cfg.dModel]), [B, cfg.dModel]);               // [B, D]
  return refLinear(cls, P(params, 'head.weight'), P(params, 'head.bias'));                              // [B, classes]
}

/** max |a − ref| / max |ref| over all elements (0 when both are 0). */
export async function relErr(a: tf.Tensor, ref: tf.Tensor): Promise<number> {
  const x = await a.data(), y = await ref.data();
  if (x.length !== y.length) throw new Error(`relErr: ${x.length} vs ${y.length} elements ([${a.shape}] vs [${ref.shape}])`);
  let d = 0, m = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i]! - y[i]!));
    m = Math.max(m, Math.abs(y[i]!));
  }
  return m === 0 ? d : d / m;
}
