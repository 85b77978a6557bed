/**
 * Which kernels serve the wasm backend right now: the course's native OpenBLAS kernels
 * (lib/core/native-kernels.ts, Node only, on by default when built) or the stock wasm ones.
 * Browser-safe (no Node modules): the teaching modules import this, never the addon loader.
 */
import * as tf from '@tensorflow/tfjs';

let nativeOn = false;

/** Set by lib/core/native-kernels.ts when it registers / removes its kernels. */
export function setNativeKernelsFlag(on: boolean): void {
  nativeOn = on;
}

/** True when the native kernels are registered and the wasm backend is the current one. */
export function nativeKernelsActive(): boolean {
  return nativeOn && tf.getBackend() === 'wasm';
}
