/** Shared bits of the benchmark scripts: configs, timing helpers, memory readings. */
import * as tf from '@tensorflow/tfjs';
import {vitConfig, ViTConfig} from '../../lib/vit/model';
import {RECIPES} from '../../lib/train/recipes';

export interface BenchConfig { name: string; what: string; model: ViTConfig; batch: number }

/** The models benchmarked: chapter 4's recipe model, a small and a base ViT, and a tiny one for cpu. */
export const BENCH_CONFIGS: Record<string, BenchConfig> = {
  recipe: {name: 'recipe', what: 'chapter 4 recipe cifar-small: patch 4, dModel 128, 6 layers, 4 heads, dFF 256', model: RECIPES['cifar-small']!.model, batch: 128},
  small: {name: 'small', what: 'small: patch 4, dModel 128, 4 layers, 4 heads, dFF 256', model: vitConfig({patchSize: 4, dModel: 128, numHeads: 4, numLayers: 4, dFF: 256}), batch: 128},
  // batch 64: at batch 128 the base model's activations exceed the 4 GB wasm32 heap (research/perf.md)
  base: {name: 'base', what: 'base: patch 4, dModel 192, 6 layers, 3 heads, dFF 384', model: RECIPES['cifar-base']!.model, batch: 64},
  tiny: {name: 'tiny', what: 'tiny (recipe "tiny"): patch 8, dModel 32, 2 layers, 2 heads, dFF 64', model: RECIPES['tiny']!.model, batch: 32},
};

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Peak resident set size of this process so far, MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Size of the wasm heap (it grows and never shrinks, so this is its peak), MB; undefined off wasm. */
export function wasmHeapMb(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const wasm = (tf.backend() as unknown as {wasm?: {HEAPU8?: Uint8Array}}).wasm;
  return wasm?.HEAPU8 ? Math.round(wasm.HEAPU8.buffer.byteLength / 2 ** 20) : undefined;
}

/**
 * Runs fn (which must wait for its result) `warmup` + `reps` times; returns the timed wall-clock ms.
 * `cpu` (if given) receives the CPU ms (user + system, all threads of the process) of each timed
 * rep: on a shared machine the wall clock includes waiting for a core, the CPU time does not.
 */
export async function timeIt(fn: () => Promise<void>, warmup: number, reps: number, cpu?: number[]): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu?.push((c.user + c.system) / 1000);
  }
  return out;
}

export const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
