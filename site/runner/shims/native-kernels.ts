/** lib/core/native-kernels.ts in the browser runner: the native OpenBLAS kernels are a Node addon. */
export function nativeRequested(): {on: boolean; why: string} { return {on: false, why: 'the browser has no native addon'}; }
export function enableNativeKernels(): {active: boolean; reason: string} { return {active: false, reason: 'the browser has no native addon'}; }
export function disableNativeKernels(): void { /* nothing to undo */ }
export function nativeStatus(): string { return 'pure wasm (native kernels are Node-only)'; }
export function nativeAddonAvailable(): boolean { return false; }
