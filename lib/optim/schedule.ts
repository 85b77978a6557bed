/**
 * Learning-rate schedules — Chapter 2 §2.7 (the original Transformer's) and Chapter 4 §4.3
 * (warm-up + cosine). Pure functions of the step number: a resumed run gets the same lr.
 */

export interface WarmupCosineOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr?: number; // default 0
}

/**
 * Linear warm-up then cosine decay, for the optimizer step `step` counted from 0 (the first update
 * uses step 0). This is `torch.optim.lr_scheduler.LambdaLR` with
 *   λ(k) = (k + 1) / W                                         for k < W
 *   λ(k) = m + (1 − m) · ½ · (1 + cos(π · (k − W) / (T − W)))   for W ≤ k ≤ T, m = minLr / baseLr
 * and lr = baseLr · λ(step); `scheduler.step()` called after each `optimizer.step()`.
 * So step 0 uses baseLr / W (never 0, a wasted step), step W − 1 reaches baseLr, step W is still
 * baseLr (cosine start), step T gives minLr and later steps stay at minLr.
 */
export function warmupCosine(step: number, o: WarmupCosineOptions): number {
  const {baseLr, warmupSteps: W, totalSteps: T} = o;
  const minLr = o.minLr ?? 0;
  if (!Number.isFinite(step) || step < 0) throw new Error(`warmupCosine: step must be ≥ 0, got ${step}`);
  if (!(baseLr >= 0) || !(minLr >= 0) || minLr > baseLr) throw new Error(`warmupCosine: need 0 ≤ minLr (${minLr}) ≤ baseLr (${baseLr})`);
  if (!Number.isInteger(W) || W < 0) throw new Error(`warmupCosine: warmupSteps must be an integer ≥ 0, got ${W}`);
  if (!Number.isInteger(T) || T <= W) throw new Error(`warmupCosine: totalSteps (${T}) must be an integer > warmupSteps (${W})`);
  // BEGIN SOLUTION warmup-cosine
  if (step < W) return (baseLr * (step + 1)) / W;
  const progress = Math.min(1, (step - W) / (T - W));
  return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  // END SOLUTION
}

export interface TransformerScheduleOptions {
  dModel: number;
  warmupSteps: number;
  factor?: number; // default 1 (the Annotated Transformer uses 1 or 2)
}

/**
 * The schedule of section 5.3 of the paper (Vaswani et al., 2017): lr = factor · dModel^−0.5 · min(step^−0.5, step · warmup^−1.5)
 * for step ≥ 1 (steps counted from 1, as in the paper; pass `k + 1` for a 0-based counter).
 * Rises linearly for `warmupSteps` steps, peaks at factor · (dModel · warmup)^−0.5, then ∝ 1/√step.
 */
export function transformerSchedule(step: number, o: TransformerScheduleOptions): number {
  const factor = o.factor ?? 1;
  if (!Number.isFinite(step) || step < 1) throw new Error(`transformerSchedule: step must be ≥ 1 (counted from 1), got ${step}`);
  if (!(o.dModel > 0)) throw new Error(`transformerSchedule: dModel must be > 0, got ${o.dModel}`);
  if (!(o.warmupSteps > 0)) throw new Error(`transformerSchedule: warmupSteps must be > 0, got ${o.warmupSteps}`);
  return factor * Math.pow(o.dModel, -0.5) * Math.min(Math.pow(step, -0.5), step * Math.pow(o.warmupSteps, -1.5));
}
