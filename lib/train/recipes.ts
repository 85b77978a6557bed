/**
 * Training recipes for the CIFAR-10 ViT — Chapter 4. A recipe = model config + optimisation +
 * augmentation; `npm run train -- --config NAME` picks one by name.
 *
 * Why `cifar-small` (the committed model): on a 2-core CPU with tfjs-wasm the budget is a few
 * hours, i.e. tens of epochs. Patch 4 (64 tokens) keeps the spatial detail 32x32 images need (patch
 * 8 leaves 16 tokens and lost 2 points in our 3-epoch ablation, models/ablations.json); dModel 128
 * with 6 layers needs less than half the forward multiply-adds per image of the 1.8M-parameter
 * cifar-base and trains faster per image (Chapter 4 §4.3 prints both, measured), so more epochs fit
 * the same time, which matters more on 50k images than width. Crop + flip augmentation
 * and label smoothing regularise without slowing early convergence as much as mixup/cutmix do in
 * a short run; AdamW (wd 0.05 on matrices only), warm-up then cosine.
 */
import {ViTConfig, vitConfig} from '../vit/model';

export interface AugmentRecipe {
  crop: boolean;        // random crop with 4-pixel zero padding
  flip: boolean;        // horizontal flip with probability 1/2
  cutmix: number;       // probability of CutMix per batch (0 = off)
  mixup: number;        // probability of mixup per batch (0 = off)
}

export interface TrainRecipe {
  name: string;
  description: string;
  model: ViTConfig;
  epochs: number;
  batchSize: number;
  /**
   * Gradient accumulation: forward/backward the batch in slices of this many images and sum their
   * gradients (weighted by slice size), then take ONE optimiser step — the same update as the whole
   * batch at a fraction of the activation memory (the wasm heap is 4 GB). Absent or >= batchSize:
   * the whole batch at once.
   */
  microBatch?: number;
  lr: number;
  minLr: number;
  weightDecay: number;
  warmupEpochs: number;
  labelSmoothing: number;
  clipNorm: number;     // 0 = no clipping
  augment: AugmentRecipe;
  seed: number;
}

const BASE: Omit<TrainRecipe, 'name' | 'description' | 'model'> = {
  epochs: 30, batchSize: 128, lr: 1e-3, minLr: 1e-5, weightDecay: 0.05, warmupEpochs: 2,
  labelSmoothing: 0.1, clipNorm: 1.0, augment: {crop: true, flip: true, cutmix: 0, mixup: 0}, seed: 0,
};

export const RECIPES: Record<string, TrainRecipe> = {
  'cifar-small': {
    ...BASE, name: 'cifar-small',
    description: 'the course recipe: ViT patch 4, dModel 128, 6 layers, 4 heads, dFF 256, CLS head; crop+flip, label smoothing 0.1, AdamW 1e-3 wd 0.05, warm-up 2 epochs + cosine',
    model: vitConfig({patchSize: 4, dModel: 128, numHeads: 4, numLayers: 6, dFF: 256, pool: 'cls'}),
  },
  'cifar-base': {
    ...BASE, name: 'cifar-base',
    description: 'wider ViT (1.8M parameters): patch 4, dModel 192, 6 layers, 3 heads, dFF 384',
    model: vitConfig({patchSize: 4, dModel: 192, numHeads: 3, numLayers: 6, dFF: 384, pool: 'cls'}),
  },
  'blog': {
    ...BASE, name: 'blog',
    description: "the source blog's set-up: patch 8, dModel 512, 4 heads, one encoder layer, flatten head, no augmentation, AdamW lr 1e-3 wd 1e-4, batch 64, cosine",
    model: vitConfig({patchSize: 8, dModel: 512, numHeads: 4, numLayers: 1, dFF: 2048, pool: 'flatten', activation: 'relu', lnEps: 1e-5}),
    epochs: 20, batchSize: 64, weightDecay: 1e-4, warmupEpochs: 0, labelSmoothing: 0, clipNorm: 0,
    augment: {crop: false, flip: false, cutmix: 0, mixup: 0},
  },
  'tiny': {
    ...BASE, name: 'tiny',
    description: 'a tiny model for tests and quick mode: patch 8, dModel 32, 2 layers, 2 heads',
    model: vitConfig({patchSize: 8, dModel: 32, numHeads: 2, numLayers: 2, dFF: 64, pool: 'cls'}),
    epochs: 2, batchSize: 32, warmupEpochs: 0,
  },
};

/** A named recipe with overrides, validated; unknown names list the known ones. */
export function getRecipe(name: string, o: Partial<Omit<TrainRecipe, 'model'>> & {model?: Partial<ViTConfig>} = {}): TrainRecipe {
  const base = RECIPES[name];
  if (!base) throw new Error(`unknown config "${name}" (known: ${Object.keys(RECIPES).join(', ')})`);
  const r: TrainRecipe = {...base, ...o, model: vitConfig({...base.model, ...(o.model ?? {})}), augment: {...base.augment, ...(o.augment ?? {})}};
  return validateRecipe(r, `config ${name}`);
}

/**
 * The checks every recipe passes (a named config with overrides, or the recipe stored in a
 * checkpoint): positive integers and sane numbers, a valid ViT config. Returns the recipe with its
 * model normalised by vitConfig; `what` starts each error ("config tiny", "the checkpoint's recipe").
 */
export function validateRecipe(r: TrainRecipe, what: string): TrainRecipe {
  if (r === null || typeof r !== 'object') throw new Error(`${what} is not an object`);
  if (r.model === null || typeof r.model !== 'object') throw new Error(`${what} has no model configuration`);
  let model: ViTConfig;
  try {
    model = vitConfig(r.model);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  r = {...r, model};
  const pos = (k: keyof TrainRecipe, int = true) => {
    const v = r[k] as number;
    if (!(Number.isFinite(v) && v > 0 && (!int || Number.isInteger(v)))) throw new Error(`${what}: ${k} must be a positive ${int ? 'integer' : 'number'} (got ${v})`);
  };
  pos('epochs'); pos('batchSize'); pos('lr', false);
  if (r.microBatch !== undefined) pos('microBatch');
  for (const k of ['minLr', 'weightDecay', 'warmupEpochs', 'labelSmoothing', 'clipNorm'] as const) {
    if (!(Number.isFinite(r[k]) && r[k] >= 0)) throw new Error(`${what}: ${k} must be a number >= 0 (got ${r[k]})`);
  }
  if (r.minLr > r.lr) throw new Error(`${what}: minLr (${r.minLr}) must not exceed lr (${r.lr})`);
  if (r.warmupEpochs >= r.epochs) throw new Error(`${what}: warmupEpochs (${r.warmupEpochs}) must be smaller than epochs (${r.epochs})`);
  if (r.labelSmoothing >= 1) throw new Error(`${what}: labelSmoothing must be < 1 (got ${r.labelSmoothing})`);
  if (r.augment === null || typeof r.augment !== 'object') throw new Error(`${what}: augment settings missing`);
  for (const k of ['cutmix', 'mixup'] as const) if (!(Number.isFinite(r.augment[k]) && r.augment[k] >= 0 && r.augment[k] <= 1)) throw new Error(`${what}: augment.${k} must be a probability (got ${r.augment[k]})`);
  if (!Number.isInteger(r.seed)) throw new Error(`${what}: seed must be an integer (got ${r.seed})`);
  return r;
}
