/**
 * ViT model sizes — Chapter 3 §3.4–3.5 (Dosovitskiy et al., 2020, Table 1; Ti and S from DeiT,
 * Touvron et al., 2021) and a parameter counter that needs only the config.
 *
 *   model  dModel  numLayers  numHeads  dFF    params (paper)
 *   Ti/16   192      12          3      768        5M (DeiT)
 *   S/16    384      12          6     1536       22M (DeiT)
 *   B/16    768      12         12     3072       86M
 *   L/16   1024      24         16     4096      307M
 *   H/14   1280      32         16     5120      632M
 *
 * All at 224 px with 1000 classes, CLS pooling and a single linear head (timm's layout).
 */
import {numTokens, ViTConfig, vitConfig} from './model';

export interface NamedViT {
  name: string;
  config: ViTConfig;
  /** The number printed in the paper (Table 1) or, for Ti/S, in the DeiT paper. */
  paperParams: string;
}

const imagenet = (o: Partial<ViTConfig>) => vitConfig({imageSize: 224, channels: 3, numClasses: 1000, pool: 'cls', activation: 'gelu', lnEps: 1e-6, dropout: 0, ...o});

export const VIT_TI_16 = imagenet({patchSize: 16, dModel: 192, numLayers: 12, numHeads: 3, dFF: 768});
export const VIT_S_16 = imagenet({patchSize: 16, dModel: 384, numLayers: 12, numHeads: 6, dFF: 1536});
export const VIT_B_16 = imagenet({patchSize: 16, dModel: 768, numLayers: 12, numHeads: 12, dFF: 3072});
export const VIT_L_16 = imagenet({patchSize: 16, dModel: 1024, numLayers: 24, numHeads: 16, dFF: 4096});
export const VIT_H_14 = imagenet({patchSize: 14, dModel: 1280, numLayers: 32, numHeads: 16, dFF: 5120});

export const VIT_MODELS: NamedViT[] = [
  {name: 'ViT-Ti/16', config: VIT_TI_16, paperParams: '5M (DeiT-Ti)'},
  {name: 'ViT-S/16', config: VIT_S_16, paperParams: '22M (DeiT-S)'},
  {name: 'ViT-B/16', config: VIT_B_16, paperParams: '86M'},
  {name: 'ViT-L/16', config: VIT_L_16, paperParams: '307M'},
  {name: 'ViT-H/14', config: VIT_H_14, paperParams: '632M'},
];

/** Small CIFAR-10 configs (32x32 images, 10 classes) that train on a CPU. */
export const VIT_CIFAR_TINY = vitConfig({imageSize: 32, patchSize: 4, dModel: 64, numHeads: 4, numLayers: 4, dFF: 128, numClasses: 10});
export const VIT_CIFAR_SMALL = vitConfig({imageSize: 32, patchSize: 4, dModel: 128, numHeads: 4, numLayers: 6, dFF: 256, numClasses: 10});
export const VIT_CIFAR_BASE = vitConfig({imageSize: 32, patchSize: 4, dModel: 192, numHeads: 3, numLayers: 6, dFF: 384, numClasses: 10});

export interface ParamBreakdown {
  patchEmbed: number; // P·P·C·D + D
  clsToken: number;   // D (0 without a CLS token)
  posEmbed: number;   // T·D
  perBlock: number;   // 2 LayerNorms + qkv + proj + fc1 + fc2
  blocks: number;     // numLayers · perBlock
  norm: number;       // final LayerNorm, 2D
  head: number;       // (D or T·D for flatten) · classes + classes
  total: number;
}

/**
 * Parameters of a ViT from its config alone (no tensors built):
 *   patch embedding  P²C·D + D         CLS token D           positions T·D
 *   one block        4D (two LNs) + (3D² + 3D) + (D² + D) + (D·F + F) + (F·D + D)
 *   final LN 2D;  head D·K + K  (flatten: T·D·K + K)
 */
export function countViTParams(cfg: ViTConfig): ParamBreakdown {
  // BEGIN SOLUTION param-count
  const {patchSize: P, channels: C, dModel: D, dFF: F, numLayers: L, numClasses: K} = cfg;
  const T = numTokens(cfg);
  const patchEmbed = P * P * C * D + D;
  const clsToken = cfg.pool === 'cls' ? D : 0;
  const posEmbed = T * D;
  const perBlock = 4 * D + (3 * D * D + 3 * D) + (D * D + D) + (D * F + F) + (F * D + D);
  const blocks = L * perBlock;
  const norm = 2 * D;
  const head = (cfg.pool === 'flatten' ? T * D : D) * K + K;
  return {patchEmbed, clsToken, posEmbed, perBlock, blocks, norm, head, total: patchEmbed + clsToken + posEmbed + blocks + norm + head};
  // END SOLUTION
}

/** Multiply-accumulates of one forward pass (matmuls only), for the "cost" column of the table. */
export function forwardMacs(cfg: ViTConfig): number {
  const {patchSize: P, channels: C, dModel: D, dFF: F, numLayers: L} = cfg;
  const T = numTokens(cfg), N = (cfg.imageSize / P) ** 2;
  const perBlock = T * (3 * D * D + D * D + 2 * D * F) + 2 * T * T * D; // projections + QKᵀ and AV
  return N * P * P * C * D + L * perBlock + (cfg.pool === 'flatten' ? T * D : D) * cfg.numClasses;
}

/**
 * Finds a ViT config inside checkpoint metadata or a config.json (e.g. `{model: {...}}`,
 * `{config: {...}}`, `{recipe: {model: {...}}}` or the config itself): the first object with
 * dModel, patchSize and numLayers, validated by vitConfig. undefined if there is none.
 */
export function findViTConfig(obj: unknown, depth = 0): ViTConfig | undefined {
  if (obj === null || typeof obj !== 'object' || depth > 4) return undefined;
  const o = obj as Record<string, unknown>;
  if (typeof o.dModel === 'number' && typeof o.patchSize === 'number' && typeof o.numLayers === 'number') {
    return vitConfig(o as Partial<ViTConfig>);
  }
  for (const v of Object.values(o)) {
    const c = findViTConfig(v, depth + 1);
    if (c) return c;
  }
  return undefined;
}
