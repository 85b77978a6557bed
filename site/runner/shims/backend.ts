/**
 * lib/backend.ts in the browser runner: the one place that picks the TensorFlow.js backend, for
 * the browser. Order for 'auto': WebGL (the reader's GPU, in the kernel's Web Worker through an
 * OffscreenCanvas), then wasm (SIMD when the browser has it; the wasm binaries are served by the
 * site), then cpu. The runner initialises it before the first cell, with the reader's choice.
 */
import * as tf from '@tensorflow/tfjs';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import type {BackendInfo} from '../../../lib/backend';
import {installWasmKernels} from '../../../lib/core/wasm-kernels';

export type BackendName = 'webgl' | 'wasm' | 'cpu';

export type {BackendInfo};

let info: BackendInfo | undefined;

/** Where the wasm binaries are (set by the runner: the site's assets/vendor/). */
export function setWasmBase(url: string): void {
  setWasmPaths(url);
}

function requested(): string {
  const env = (globalThis as {process?: {env?: Record<string, string | undefined>}}).process?.env ?? {};
  const r = (env.COURSE_BACKEND ?? 'auto').trim().toLowerCase();
  return r === '' ? 'auto' : r;
}

export async function initBackend(prefer?: BackendName): Promise<BackendInfo> {
  const want = prefer ?? requested();
  tf.enableProdMode();
  if (info && (prefer === undefined || tf.getBackend() === prefer)) return info;
  if (!['auto', 'webgl', 'wasm', 'cpu'].includes(want)) throw new Error(`backend must be auto, webgl, wasm or cpu (got "${want}")`);
  const order: BackendName[] = want === 'auto' ? ['webgl', 'wasm', 'cpu'] : [want as BackendName, ...(want === 'cpu' ? [] : ['cpu' as const])];
  let chosen: BackendName | undefined;
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) { chosen = name; break; }
    } catch { /* next */ }
  }
  if (!chosen) throw new Error(`no TensorFlow.js backend could be initialised (tried ${order.join(', ')})`);
  await tf.ready();
  info = {backend: chosen, requested: want, tfjs: tf.version.tfjs};
  if (chosen === 'wasm') {
    info.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    info.threads = 1;
    // as lib/backend.ts does on the pure wasm path: every matrix product on XNNPACK's GEMM
    info.kernels = installWasmKernels() ? 'course wasm kernels (XNNPACK GEMM for every matMul), in the browser' : 'in the browser';
  }
  if (chosen === 'webgl') info.kernels = `WebGL ${tf.env().getNumber('WEBGL_VERSION')} in the browser`;
  if (chosen === 'cpu') info.kernels = 'in the browser';
  if (want !== 'auto' && chosen !== want) info.note = `${want} unavailable, fell back to ${chosen}`;
  return info;
}

export function describeBackend(i: BackendInfo | undefined = info): string {
  if (!i) return 'backend not initialised (call initBackend())';
  const extra = i.backend === 'wasm' ? ` (${i.simd ? 'SIMD' : 'no SIMD'}, ${i.threads} thread${i.threads === 1 ? '' : 's'})` : '';
  return `tfjs ${i.tfjs}, backend ${i.backend}${extra}${i.kernels ? `, ${i.kernels}` : ''}${i.note ? `; ${i.note}` : ''}`;
}
