/**
 * The course's native kernels for the wasm backend (Node only): a small N-API addon
 * (lib/core/native/course_gemm.c, built by `npm run setup` → lib/core/native/build.sh into
 * build/native/course_gemm.node) that works directly on the wasm heap (an ArrayBuffer; no copies).
 * It serves the wasm backend's `BatchMatMul` kernel with OpenBLAS (every rank, transpose flags,
 * batch-1 broadcasting) and `Exp` / `Erf` with vectorised loops. Anything it does not handle
 * (non-float32, general broadcasting, a shared heap) goes to the stock kernel.
 *
 * On by default: lib/backend.ts calls `enableNativeKernels()` after starting wasm. Before registering
 * anything it checks, in this order: the tfjs-backend-wasm version is the one whose internals it
 * reads (4.22.0), the heap is not shared, the addon loads and is current, and a self-check (several
 * matMul forms incl. transposes and batches, exp and erf) gives the stock wasm results to float32
 * rounding. Any failure leaves the pure wasm path and returns the reason in one line.
 * `COURSE_NATIVE=0` turns it off; `COURSE_THREADS=N` sets the OpenBLAS threads for large GEMMs.
 * Loading the addon is Node-only; browser-safe code asks lib/core/kernel-path.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {gelu} from './activations';
import {ConvAddon, CONV_ADDON_VERSION, convKernelFuncs, convReplacementFuncs, installConvGradients, uninstallConvGradients} from './conv-kernels';
import {conv2d, maxPool2d} from './conv';
import {setNativeKernelsFlag, nativeKernelsActive} from './kernel-path';
import {layerNorm} from './layernorm';
import {installLeanBackprop, uninstallLeanBackprop} from './lean-backprop';

/** The tfjs-backend-wasm version whose internals (heap, dataIdMap, makeOutput) this module reads. */
export const NATIVE_TFJS_WASM_VERSION = '4.22.0';
/** Bumped with every change of the addon's exports; an older build is rebuilt by `npm run setup`. */
export const NATIVE_ADDON_VERSION = 5;
export const NATIVE_ADDON_PATH = path.resolve(__dirname, '..', '..', 'build', 'native', 'course_gemm.node');

export interface NativeAddon extends ConvAddon {
  version?: number;
  /** SHA-256 (16 hex digits) of the C sources the addon was built from (build.sh). */
  srcHash?: string;
  sgemmBatch(heap: ArrayBuffer, batch: number, M: number, N: number, K: number, aOff: number, bOff: number, cOff: number,
    aStride: number, bStride: number, transA: boolean, transB: boolean): void;
  setThreads(n: number): void;
  getThreads(): number;
  unary(heap: ArrayBuffer, op: number, inOff: number, outOff: number, n: number): void;
  /** Fused kernels by op number (course_gemm.c): byte offsets, sizes, float scalars. */
  fused(heap: ArrayBuffer, op: number, offsets: number[], sizes: number[], scalars: number[]): void;
  transpose(heap: ArrayBuffer, inOff: number, outOff: number, shape: number[], perm: number[]): void;
  /** Threads of the elementwise kernels (fused, unary, transpose); their results do not depend on it. */
  setKernelThreads(n: number): void;
}

interface WasmInternals {
  wasm: {HEAPU8: Uint8Array};
  incRef(dataId: object): void;
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined};
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

type KernelArgs = {inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap};

let loaded: NativeAddon | undefined;   // the built addon, once loaded
let addon: NativeAddon | undefined;    // the addon the registered kernels call
let reason = 'not enabled';
const stock: Record<string, tf.KernelConfig> = {};
// Elementwise kernels whose wasm versions are scalar loops: exp 18 ms, erf 33 ms per 2.1 M floats
// here, vs 0.6 / 0.3 ms vectorised in the addon. GELU and its gradient use them.
const UNARY_OPS: Record<string, number> = {Exp: 0, Erf: 1};
let wantThreads = 1;   // OpenBLAS threads for large GEMMs
let curThreads = -1;   // what OpenBLAS is set to now
// Per-item M·N·K below which a GEMM runs on 1 OpenBLAS thread: attention's many small products
// ([65,32]·[32,65]) are slower with 2 threads (thread hand-off costs more than the work).
const THREADED_MIN_MNK = 1 << 22;

/**
 * OpenBLAS threads for large GEMMs: `COURSE_THREADS` if set (a positive integer), else chosen by
 * measurement (lib/core/README.md, "Threads"): 2 on a machine with ≥ 2 CPUs that is quiet at
 * start-up, 1 when it is busy (1-minute load average at or above the CPU count) — on the idle
 * 2-vCPU machine 2 threads trained the recipe model 1.24× faster than 1 (202.6 vs 174.1 img/s at
 * load 1.2–1.8, which counts the bench's own earlier runs); at load 18–25 they used 1.2–1.3× the
 * CPU time per step of 1 thread (1219–1298 vs 983–1022 ms), time a busy machine does not have.
 */
export function defaultNativeThreads(env: NodeJS.ProcessEnv = process.env, load = os.loadavg()[0]!, cpus = os.cpus().length): number {
  const raw = (env.COURSE_THREADS ?? '').trim();
  if (raw === '') return cpus < 2 || load >= cpus ? 1 : 2;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`COURSE_THREADS must be a positive integer (got "${env.COURSE_THREADS}")`);
  return n;
}

/**
 * Whether the environment asks for the native kernels: `COURSE_NATIVE=0|off|false` turns them off,
 * `1|on|true|auto` or unset leaves them on; `COURSE_NATIVE_GEMM` is read as a deprecated alias when
 * COURSE_NATIVE is unset. Anything else is an error naming the variable.
 */
export function nativeRequested(env: NodeJS.ProcessEnv = process.env): {on: boolean; why: string} {
  const name = env.COURSE_NATIVE !== undefined ? 'COURSE_NATIVE' : env.COURSE_NATIVE_GEMM !== undefined ? 'COURSE_NATIVE_GEMM' : undefined;
  if (!name) return {on: true, why: 'default'};
  const v = (env[name] ?? '').trim().toLowerCase();
  if (['0', 'off', 'false', 'no'].includes(v)) return {on: false, why: `${name}=${env[name]}`};
  if (['', '1', 'on', 'true', 'yes', 'auto'].includes(v)) return {on: true, why: `${name}=${env[name]}`};
  throw new Error(`${name} must be 0 (pure wasm) or 1 (native kernels, the default) (got "${env[name]}")`);
}

/** The C sources build.sh compiles, in its order. */
export const NATIVE_SOURCES = ['course_gemm.c', 'course_conv.c'].map((f) => path.resolve(__dirname, 'native', f));

/**
 * SHA-256 (first 16 hex digits) of the C sources as build.sh hashes them (concatenated), or undefined
 * when they are not in this checkout (then only the version numbers are checked).
 */
export function nativeSourceHash(files = NATIVE_SOURCES): string | undefined {
  if (!files.every((f) => fs.existsSync(f))) return undefined;
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

/**
 * Why a loaded addon must not be used ('' when it can): built from other C sources than this
 * checkout's (`want`, see nativeSourceHash), or an older export version.
 */
export function addonProblem(lib: Pick<NativeAddon, 'srcHash' | 'version' | 'convVersion'>, want: string | undefined): string {
  if (want !== undefined && lib.srcHash !== want) {
    return `the addon was built from older sources (lib/core/native/*.c changed since: built ${lib.srcHash ?? 'unknown'}, sources ${want}; ` +
      'run npm run setup or bash lib/core/native/build.sh)';
  }
  if (lib.version !== NATIVE_ADDON_VERSION) return `the addon is out of date (version ${lib.version ?? 1}, need ${NATIVE_ADDON_VERSION}: run npm run setup)`;
  if (lib.convVersion !== CONV_ADDON_VERSION) return `the addon's conv kernels are out of date (version ${lib.convVersion ?? 0}, need ${CONV_ADDON_VERSION}: run npm run setup)`;
  return '';
}

/** The addon, loaded once, or the reason it cannot be used. */
function loadAddon(file = NATIVE_ADDON_PATH): NativeAddon | string {
  if (loaded) return loaded;
  if (!fs.existsSync(file)) return `not built (${path.relative(process.cwd(), file) || file} missing: run npm run setup)`;
  let lib: NativeAddon;
  try {
    lib = require(file) as NativeAddon;
  } catch (e) {
    return `the addon failed to load (${e instanceof Error ? e.message.split('\n')[0] : e}; run npm run setup)`;
  }
  const why = addonProblem(lib, nativeSourceHash());
  if (why) return why;
  return (loaded = lib);
}

/** Why the tfjs/backend state cannot host the native kernels, or '' when it can. */
export function nativeCompatibility(wasmVersion = wasmPackageVersion()): string {
  if (tf.getBackend() !== 'wasm') return `the backend is ${tf.getBackend()}, not wasm`;
  if (wasmVersion !== NATIVE_TFJS_WASM_VERSION) {
    return `@tensorflow/tfjs-backend-wasm is ${wasmVersion}, but the native kernels read the internals of ${NATIVE_TFJS_WASM_VERSION}`;
  }
  const be = tf.backend() as unknown as Partial<WasmInternals>;
  if (typeof be.makeOutput !== 'function' || be.dataIdMap === undefined || !be.wasm?.HEAPU8) return 'the wasm backend lacks the internals the native kernels use';
  if (!(be.wasm.HEAPU8.buffer instanceof ArrayBuffer)) return 'the wasm heap is shared (threaded wasm build)';
  return '';
}

function wasmPackageVersion(): string {
  try {
    return (require('@tensorflow/tfjs-backend-wasm') as {version_wasm?: string}).version_wasm ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
const offsetOf = (be: WasmInternals, t: tf.TensorInfo) => be.dataIdMap.get(t.dataId)!.memoryOffset;

function nativeBatchMatMul(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo};
  const {transposeA, transposeB} = (args.attrs ?? {}) as {transposeA: boolean; transposeB: boolean};
  const be = args.backend as WasmInternals;
  const ra = a.shape.length, rb = b.shape.length;
  const toStock = () => stock.BatchMatMul!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !(be.wasm.HEAPU8.buffer instanceof ArrayBuffer) || ra < 2 || rb < 2) return toStock();
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = prod(outerA), batchB = prod(outerB);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (K !== Kb || !(sameOuter || batchA === 1 || batchB === 1)) return toStock(); // errors and general broadcasting: stock
  const outOuter = batchA === 1 && !sameOuter ? (outerB.length >= outerA.length ? outerB : outerA) : outerA.length >= outerB.length ? outerA : outerB;
  if (prod(outOuter) !== Math.max(batchA, batchB)) return toStock();
  const out = be.makeOutput([...outOuter, M, N], 'float32');
  const heap = be.wasm.HEAPU8.buffer as ArrayBuffer; // after makeOutput: malloc may have grown the heap
  const threads = M * N * K >= THREADED_MIN_MNK ? wantThreads : 1;
  if (threads !== curThreads) { addon!.setThreads(threads); curThreads = threads; }
  addon!.sgemmBatch(heap, Math.max(batchA, batchB), M, N, K, offsetOf(be, a), offsetOf(be, b), offsetOf(be, out),
    batchA === 1 ? 0 : M * K, batchB === 1 ? 0 : K * N, Boolean(transposeA), Boolean(transposeB));
  return out;
}

function nativeUnary(kernelName: string) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const {x} = args.inputs as {x: tf.TensorInfo};
    const be = args.backend as WasmInternals;
    if (x.dtype !== 'float32' || !(be.wasm.HEAPU8.buffer instanceof ArrayBuffer)) return stock[kernelName]!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    const out = be.makeOutput(x.shape, 'float32');
    const n = prod(x.shape);
    if (n > 0) addon!.unary(be.wasm.HEAPU8.buffer as ArrayBuffer, UNARY_OPS[kernelName]!, offsetOf(be, x), offsetOf(be, out), n);
    return out;
  };
}

// op numbers of the addon's fused() (course_gemm.c)
const FUSED = {lnFwd: 0, lnBwd: 1, geluFwd: 2, geluBwd: 3, softmaxFwd: 4, softmaxBwd: 5, adamw: 6, colSum: 7, binary: 8} as const;

function fused(be: WasmInternals, op: number, ins: tf.TensorInfo[], outs: tf.TensorInfo[], sizes: number[], scalars: number[] = []): void {
  for (const t of ins) if (t.dtype !== 'float32') throw new Error(`native kernels: float32 tensors only (got ${t.dtype})`);
  addon!.fused(be.wasm.HEAPU8.buffer as ArrayBuffer, op, [...ins, ...outs].map((t) => offsetOf(be, t)), sizes, scalars);
}

const lastDim = (t: tf.TensorInfo) => t.shape[t.shape.length - 1]!;

/**
 * Kernels the course's fused ops (lib/core/fused.ts) run by name; registered for wasm only while
 * the native kernels are on. All work in new output buffers: inputs are never written.
 */
const COURSE_KERNELS: Record<string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = {
  // x [N, D], gamma [D], beta [D] → y [N, D], xhat [N, D], rstd [N]
  CourseLayerNorm: ({inputs, backend, attrs}) => {
    const be = backend as WasmInternals, {x, gamma, beta} = inputs as Record<string, tf.TensorInfo>;
    const D = lastDim(x!), N = prod(x!.shape) / D;
    const y = be.makeOutput(x!.shape, 'float32'), xhat = be.makeOutput(x!.shape, 'float32'), rstd = be.makeOutput([N], 'float32');
    fused(be, FUSED.lnFwd, [x!, gamma!, beta!], [y, xhat, rstd], [N, D], [(attrs as {eps: number}).eps]);
    return [y, xhat, rstd];
  },
  // dy, xhat [N, D], rstd [N], gamma [D] → dx [N, D], dgamma [D], dbeta [D]
  CourseLayerNormGrad: ({inputs, backend}) => {
    const be = backend as WasmInternals, {dy, xhat, rstd, gamma} = inputs as Record<string, tf.TensorInfo>;
    const D = lastDim(dy!), N = prod(dy!.shape) / D;
    const dx = be.makeOutput(dy!.shape, 'float32'), dg = be.makeOutput([D], 'float32'), db = be.makeOutput([D], 'float32');
    fused(be, FUSED.lnBwd, [dy!, xhat!, rstd!, gamma!], [dx, dg, db], [N, D]);
    return [dx, dg, db];
  },
  CourseGelu: ({inputs, backend}) => {
    const be = backend as WasmInternals, x = inputs.x as tf.TensorInfo;
    const y = be.makeOutput(x.shape, 'float32');
    fused(be, FUSED.geluFwd, [x], [y], [prod(x.shape)]);
    return y;
  },
  CourseGeluGrad: ({inputs, backend}) => {
    const be = backend as WasmInternals, {dy, x} = inputs as Record<string, tf.TensorInfo>;
    const dx = be.makeOutput(x!.shape, 'float32');
    fused(be, FUSED.geluBwd, [dy!, x!], [dx], [prod(x!.shape)]);
    return dx;
  },
  // one AdamW update of a parameter: p, m, v, g → p', m', v' (attrs: beta1, beta2, keep = 1 − lr·wd, stepSize, bc2 = √(1 − β2^t), eps)
  CourseAdamW: ({inputs, backend, attrs}) => {
    const be = backend as WasmInternals, {p, m, v, g} = inputs as Record<string, tf.TensorInfo>;
    const a = attrs as Record<string, number>;
    const outs = [p!, m!, v!].map((t) => be.makeOutput(t.shape, 'float32'));
    fused(be, FUSED.adamw, [p!, m!, v!, g!], outs, [prod(p!.shape)], [a.beta1!, a.beta2!, a.keep!, a.stepSize!, a.bc2!, a.eps!, 1 - a.beta1!, 1 - a.beta2!]);
    return outs;
  },
  // softmax's gradient over the last axis: dx = y·(dy − Σ dy·y)
  CourseSoftmaxGrad: ({inputs, backend}) => {
    const be = backend as WasmInternals, {dy, y} = inputs as Record<string, tf.TensorInfo>;
    const T = lastDim(y!), dx = be.makeOutput(y!.shape, 'float32');
    fused(be, FUSED.softmaxBwd, [dy!, y!], [dx], [prod(y!.shape) / T, T]);
    return dx;
  },
};

function nativeSoftmax(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const be = args.backend as WasmInternals, x = args.inputs.logits as tf.TensorInfo;
  const dim = (args.attrs as {dim: number}).dim;
  if (x.dtype !== 'float32' || (dim !== -1 && dim !== x.shape.length - 1) || prod(x.shape) === 0) return stock.Softmax!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
  const T = lastDim(x), y = be.makeOutput(x.shape, 'float32');
  fused(be, FUSED.softmaxFwd, [x], [y], [prod(x.shape) / T, T]);
  return y;
}

/**
 * Identity shares the buffer (reference count) instead of copying it, as tfjs's cpu backend does:
 * tfjs clones every tensor saved for the backward pass through Identity (hundreds per training
 * step), and the wasm kernel copies each one. Safe because no kernel writes into its inputs.
 */
function sharedIdentity(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return stock.Identity!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
  (args.backend as WasmInternals).incRef(x.dataId);
  return {dataId: x.dataId, shape: x.shape, dtype: x.dtype};
}

/** Transpose of a float32 tensor (rank ≤ 6) in one native pass; the wasm kernel is a scalar loop. */
function nativeTranspose(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const be = args.backend as WasmInternals, x = args.inputs.x as tf.TensorInfo;
  const perm = (args.attrs as {perm: number[]}).perm;
  if (x.dtype !== 'float32' || x.shape.length > 6 || x.shape.length === 0) return stock.Transpose!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
  const out = be.makeOutput(perm.map((p) => x.shape[p]!), 'float32');
  if (prod(x.shape) > 0) addon!.transpose(be.wasm.HEAPU8.buffer as ArrayBuffer, offsetOf(be, x), offsetOf(be, out), x.shape, perm);
  return out;
}

/**
 * Sum over leading axes (x [N, D] → [D]: the bias gradients autograd takes of every `x·W + b`) in
 * one pass; the wasm Sum kernel transposes the input first to reduce a non-innermost axis. Other
 * axes and dtypes: stock.
 */
function nativeSum(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const be = args.backend as WasmInternals, x = args.inputs.x as tf.TensorInfo;
  const {axis, keepDims} = args.attrs as {axis: number | number[]; keepDims: boolean};
  const r = x.shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || r === 0 || !leading) return stock.Sum!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
  const k = axes.length, N = prod(x.shape.slice(0, k)), D = prod(x.shape.slice(k));
  const out = be.makeOutput(keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k), 'float32');
  fused(be, FUSED.colSum, [x], [out], [N, D]);
  return out;
}

// op numbers of the addon's binary kernel
const BINARY_OPS: Record<string, number> = {Add: 0, Sub: 1, Multiply: 2};

/**
 * Add, Sub and Multiply of float32 tensors in one vectorised pass when each operand is the output's
 * shape, a scalar, a row [1, …, 1, D] (a bias) or a column [..., 1]; any other broadcast: stock.
 * The same IEEE operation per element as the wasm kernels, so the same numbers bit for bit.
 */
function nativeBinary(kernelName: string) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const be = args.backend as WasmInternals;
    const {a, b} = args.inputs as {a: tf.TensorInfo; b: tf.TensorInfo};
    const toStock = () => stock[kernelName]!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return toStock();
    const R = Math.max(a.shape.length, b.shape.length);
    const pad = (s: number[]) => [...Array(R - s.length).fill(1), ...s] as number[];
    const pa = pad(a.shape), pb = pad(b.shape);
    const outShape: number[] = [];
    for (let i = 0; i < R; i++) {
      const x = pa[i]!, y = pb[i]!;
      if (x !== y && x !== 1 && y !== 1) return toStock(); // tfjs's error
      outShape.push(x === 1 ? y : x);
    }
    const size = prod(outShape);
    const D = R === 0 ? 1 : outShape[R - 1]!, N = D === 0 ? 0 : size / D;
    // [rowStride, colStride] of an operand on the [N, D] view of the output, or undefined
    const strides = (p: number[]): [number, number] | undefined => {
      const n = prod(p);
      if (n === size) return [D, 1];
      if (n === 1) return [0, 0];
      if (p[R - 1] === D && n === D) return [0, 1];
      if (p[R - 1] === 1 && n === N && p.every((d, i) => i === R - 1 || d === outShape[i])) return [1, 0];
      return undefined;
    };
    const sa = strides(pa), sb = strides(pb);
    if (!sa || !sb) return toStock();
    const out = be.makeOutput(outShape, 'float32');
    if (size > 0) fused(be, FUSED.binary, [a, b], [out], [N, D, sa[0], sa[1], sb[0], sb[1], BINARY_OPS[kernelName]!]);
    return out;
  };
}

/** The stock wasm kernels this module replaces, by name. */
function nativeKernelFuncs(): Record<string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> {
  const k: Record<string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = {BatchMatMul: nativeBatchMatMul, Softmax: nativeSoftmax, Identity: sharedIdentity, Transpose: nativeTranspose, Sum: nativeSum};
  for (const name of Object.keys(UNARY_OPS)) k[name] = nativeUnary(name);
  for (const name of Object.keys(BINARY_OPS)) k[name] = nativeBinary(name);
  Object.assign(k, convReplacementFuncs(() => addon!, (name) => stock[name]!)); // Relu (conv-kernels.ts)
  return k;
}

let stockSoftmaxGrad: tf.GradConfig | undefined;
let stockTileGrad: tf.GradConfig | undefined;

// im2col/col2im and max-pooling (course_conv.c), run by name from fused-conv.ts
const CONV_KERNELS = convKernelFuncs(() => addon!);

function register(): void {
  for (const [name, fn] of Object.entries(nativeKernelFuncs())) {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`native kernels: the wasm backend has no ${name} kernel`);
    stock[name] = k;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc});
  }
  for (const [name, fn] of [...Object.entries(COURSE_KERNELS), ...Object.entries(CONV_KERNELS)]) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({kernelName: name, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc});
  }
  // softmax's gradient as one kernel on wasm with the native kernels on; tfjs's composed formula
  // (the registered gradient, for every backend) otherwise
  stockSoftmaxGrad ??= tf.getGradient('Softmax');
  const stockGrad = stockSoftmaxGrad!;
  tf.registerGradient({
    kernelName: 'Softmax', outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as tf.Tensor[];
      const dim = (attrs as {dim: number}).dim;
      if (!nativeKernelsActive() || (dim !== -1 && dim !== y!.rank - 1)) return stockGrad.gradFunc(dy, saved, attrs);
      return {logits: () => tf.engine().runKernel('CourseSoftmaxGrad', {dy: dy as tf.Tensor, y: y!}) as tf.Tensor};
    },
  });
  installConvGradients(); // ReLU's gradient as one kernel (conv-kernels.ts)
  // Tile's gradient as one reshape + Sum (tfjs's adds one slice per repetition: the CLS token tiled
  // over a batch of 128 is 256 kernels per step); the same sums, in another order
  stockTileGrad ??= tf.getGradient('Tile');
  const stockTile = stockTileGrad!;
  tf.registerGradient({
    kernelName: 'Tile', inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor[];
      const reps = (attrs as {reps: number[]}).reps;
      if (!nativeKernelsActive() || reps.length !== x!.rank) return stockTile.gradFunc(dy, saved, attrs);
      return {x: () => tf.tidy(() => {
        const split: number[] = [], axes: number[] = [];
        x!.shape.forEach((d, i) => { if (reps[i]! > 1) { axes.push(split.length); split.push(reps[i]!); } split.push(d); });
        return axes.length === 0 ? tf.reshape(dy as tf.Tensor, x!.shape) : tf.reshape(tf.sum(tf.reshape(dy as tf.Tensor, split), axes), x!.shape);
      })};
    },
  });
  installLeanBackprop(); // frees gradients and saved tensors during the backward pass (lean-backprop.ts)
  setNativeKernelsFlag(true);
}

function unregister(): void {
  for (const [name, k] of Object.entries(stock)) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(k);
    delete stock[name];
  }
  for (const name of [...Object.keys(COURSE_KERNELS), ...Object.keys(CONV_KERNELS)]) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  if (stockSoftmaxGrad) tf.registerGradient(stockSoftmaxGrad);
  if (stockTileGrad) tf.registerGradient(stockTileGrad);
  uninstallConvGradients();
  uninstallLeanBackprop();
  setNativeKernelsFlag(false);
}

/** Deterministic test values in [-scale, scale] (no tfjs random ops, so no kernel is involved). */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

interface CheckCase { name: string; run: () => tf.Tensor | tf.Tensor[]; tol: (ref: Float32Array, got: Float32Array) => string }

/** max |got − ref| / max |ref| ≤ tol: GEMMs sum in another order than XNNPACK, so equal to float32 rounding. */
const byNorm = (tol: number) => (ref: Float32Array, got: Float32Array) => {
  let d = 0, m = 0;
  for (let i = 0; i < ref.length; i++) { d = Math.max(d, Math.abs(got[i]! - ref[i]!)); m = Math.max(m, Math.abs(ref[i]!)); }
  return d <= tol * Math.max(m, 1e-30) ? '' : `relative difference ${(d / m).toExponential(1)} > ${tol}`;
};
const perElement = (rel: number, abs: number) => (ref: Float32Array, got: Float32Array) => {
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!, g = got[i]!;
    if (Number.isNaN(r) !== Number.isNaN(g) || Math.abs(g - r) > abs + rel * Math.abs(r)) return `element ${i}: ${g} instead of ${r}`;
  }
  return '';
};

function selfCheckCases(): CheckCase[] {
  const t = (shape: number[], seed: number, scale = 1) => tf.tensor(values(prod(shape), seed, scale), shape, 'float32');
  const mm = (name: string, sa: number[], sb: number[], ta = false, tb = false): CheckCase =>
    ({name: `matMul ${name}`, run: () => tf.tidy(() => tf.matMul(t(sa, 1), t(sb, 2), ta, tb)), tol: byNorm(1e-5)});
  const grid = () => tf.tensor1d(Float32Array.from({length: 401}, (_, i) => -10 + i * 0.05).map((v, i) => (i === 0 ? NaN : v)));
  return [
    mm('[33,17]·[17,29]', [33, 17], [17, 29]),
    mm('transposeA', [17, 33], [17, 29], true, false),
    mm('transposeB', [33, 17], [29, 17], false, true),
    mm('both transposes', [17, 33], [29, 17], true, true),
    mm('batched [5,9,8]·[5,8,7]', [5, 9, 8], [5, 8, 7]),
    mm('batched, transposeB', [5, 9, 8], [5, 7, 8], false, true),
    mm('batched, transposeA', [5, 8, 9], [5, 8, 7], true, false),
    mm('rank 4', [2, 3, 9, 8], [2, 3, 8, 7]),
    mm('broadcast rank-2 b', [5, 9, 8], [8, 7]),
    mm('large [300,200]·[200,260] (threaded)', [300, 200], [200, 260]),
    {name: 'exp', run: () => tf.tidy(() => tf.exp(grid())), tol: perElement(1e-6, 0)},
    {name: 'erf', run: () => tf.tidy(() => tf.erf(grid())), tol: perElement(0, 5e-7)},
    {name: 'transposes', tol: perElement(0, 0), run: () => tf.tidy(() => {
      const x = t([3, 5, 4, 6], 11);
      return [tf.transpose(x, [0, 2, 1, 3]), tf.transpose(x, [3, 1, 0, 2]), tf.transpose(t([7, 9, 5], 12), [0, 2, 1]), tf.transpose(t([8, 11], 13))];
    })},
    {name: 'sums over leading axes', tol: byNorm(1e-5), run: () => tf.tidy(() => {
      const x = t([37, 5, 24], 14);
      return [tf.sum(x, 0), tf.sum(x, [0, 1]), tf.sum(x, [1, 0], true), tf.sum(x), tf.sum(t([40000, 3], 15), 0)];
    })},
    {name: 'add, sub, mul with broadcasting', tol: perElement(0, 0), run: () => tf.tidy(() => {
      const x = t([7, 5, 24], 16), y = t([7, 5, 24], 17), row = t([24], 18), col = t([7, 5, 1], 19), s = tf.scalar(1.5);
      return [tf.add(x, y), tf.add(row, x), tf.sub(x, row), tf.sub(row, x), tf.mul(x, s), tf.mul(s, x), tf.sub(x, col), tf.mul(col, x), tf.add(t([1, 1, 24], 20), x)];
    })},
    // value and gradients through lib's ops, which switch to the fused kernels once registered
    {name: 'softmax and its gradient', tol: byNorm(1e-5), run: () => tf.tidy(() => {
      const x = t([4, 7, 33], 3, 5), w = t([4, 7, 33], 4);
      return [tf.softmax(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), w)))(x)];
    })},
    {name: 'layerNorm and its gradients', tol: byNorm(1e-5), run: () => tf.tidy(() => {
      const x = t([13, 24], 5, 3), g = t([24], 6), b = t([24], 7), w = t([13, 24], 8);
      return [layerNorm(x, g, b), ...tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, c, d), w)))([x, g, b])];
    })},
    {name: 'gelu and its gradient', tol: byNorm(1e-5), run: () => tf.tidy(() => {
      const x = t([301], 9, 6), w = t([301], 10);
      return [gelu(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), w)))(x)];
    })},
    {name: 'conv2d (im2col), ReLU and maxPool2d with their gradients', tol: byNorm(1e-5), run: () => tf.tidy(() => {
      const x = t([2, 7, 6, 5], 14), f = t([3, 3, 5, 4], 15), w = t([2, 4, 3, 4], 16);
      const net = (a: tf.Tensor, b: tf.Tensor) => maxPool2d(tf.relu(conv2d(a, b, undefined, {stride: 1, pad: 1})), 3, 2, 1);
      return [net(x, f), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(net(a, b), w)))([x, f])];
    })},
  ];
}

/**
 * Runs every self-check case on the stock kernels (now) and returns a function that runs them
 * again (after registering) and names the first mismatch, or returns ''.
 */
function selfCheck(): () => string {
  const cases = selfCheckCases();
  const values = (c: CheckCase) => {
    const r = c.run();
    const list = Array.isArray(r) ? r : [r];
    const d = list.map((x) => x.dataSync() as Float32Array);
    tf.dispose(list);
    return d;
  };
  const ref = cases.map(values);
  return () => {
    for (let i = 0; i < cases.length; i++) {
      const got = values(cases[i]!);
      for (let k = 0; k < got.length; k++) {
        const want = ref[i]![k]!, g = got[k]!;
        const bad = got.length !== ref[i]!.length ? `${got.length} outputs instead of ${ref[i]!.length}`
          : g.length !== want.length ? `${g.length} values instead of ${want.length}` : cases[i]!.tol(want, g);
        if (bad) return `self-check against the wasm kernels failed: ${cases[i]!.name}${got.length > 1 ? ` (output ${k + 1})` : ''}: ${bad}`;
      }
    }
    return '';
  };
}

export interface NativeOptions {
  /** OpenBLAS threads for large GEMMs (default: defaultNativeThreads()). */
  threads?: number;
  /** For tests: use this addon object instead of loading the built one. */
  addon?: NativeAddon;
  /** For tests: pretend tfjs-backend-wasm has this version. */
  wasmVersion?: string;
}

/**
 * Registers the native kernels for the wasm backend after the checks above. Returns
 * {active: true} or {active: false, reason} with nothing changed (the pure wasm path).
 */
export function enableNativeKernels(opts: NativeOptions = {}): {active: boolean; reason: string} {
  const threads = opts.threads ?? defaultNativeThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`enableNativeKernels: threads must be a positive integer (got ${threads})`);
  if (nativeKernelsActive() && !opts.addon && opts.wasmVersion === undefined) { setThreads(threads); return {active: true, reason: ''}; }
  disableNativeKernels();
  const fail = (why: string) => { reason = why; return {active: false, reason: why}; };
  const compat = nativeCompatibility(opts.wasmVersion);
  if (compat) return fail(compat);
  const lib = opts.addon ?? loadAddon();
  if (typeof lib === 'string') return fail(lib);
  const check = selfCheck();
  addon = lib;
  curThreads = -1;
  setThreads(threads);
  register();
  let bad: string;
  try {
    bad = check();
  } catch (e) {
    bad = `self-check against the wasm kernels threw: ${e instanceof Error ? e.message : e}`;
  }
  if (bad) {
    unregister();
    return fail(bad);
  }
  reason = '';
  return {active: true, reason: ''};
}

/** Puts the stock wasm kernels back (no-op when the native ones are not registered). */
export function disableNativeKernels(): void {
  if (Object.keys(stock).length > 0) unregister();
  reason = 'turned off';
}

/** OpenBLAS threads for large GEMMs from now on. */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: threads must be a positive integer (got ${n})`);
  wantThreads = n;
  addon?.setKernelThreads(n); // the elementwise kernels use as many (their results do not depend on it)
}

/** OpenBLAS threads used for large GEMMs. */
export function nativeThreads(): number {
  return wantThreads;
}

/** True when the built addon loads (whether or not its kernels are registered). */
export function nativeAddonAvailable(): boolean {
  return typeof loadAddon() !== 'string';
}

/** One line: what serves the wasm kernels and why. */
export function nativeStatus(): string {
  if (nativeKernelsActive()) return `native OpenBLAS kernels (${wantThreads} thread${wantThreads === 1 ? '' : 's'})`;
  return `pure wasm (native kernels off: ${reason})`;
}
