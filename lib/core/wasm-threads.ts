/**
 * Opt-in: multi-threaded XNNPACK for the wasm backend under Node (tfjs 4.22.0 only).
 *
 * tfjs-backend-wasm switches threads off in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false when
 * IS_NODE, https://github.com/tensorflow/tfjs/issues/3830) and hands the pthread worker and main script over as `blob:` URLs,
 * which Node's worker_threads cannot load. `enableWasmThreads(n)`, called BEFORE the wasm backend
 * is initialised, (1) captures those two scripts and writes them to files in a temp folder (the
 * main script with shims for the bundle's `require$$0..4`, `_scriptDir`, `commonjsGlobal`),
 * (2) turns the flag on and asks for n threads, (3) reports at least 2n CPUs from `os.cpus()`
 * (the C++ side caps threads at logical cores / 2, i.e. 1 on a 2-vCPU machine).
 *
 * Only XNNPACK ops (flag-free matMul, the per-item GEMMs of wasm-kernels.ts, some others) use the threads; elementwise
 * and transpose kernels stay single-threaded. The pthread workers keep Node alive: a script that
 * uses this must end with `process.exit()`. It depends on bundle internals, so it refuses any
 * other tfjs version. Used by `npm run bench -- --threads 2`; the course itself stays 1-thread.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const WASM_THREADS_TFJS_VERSION = '4.22.0';

let enabledDir: string | undefined;

export function enableWasmThreads(numThreads: number): string {
  if (!Number.isInteger(numThreads) || numThreads < 1) throw new Error(`enableWasmThreads: numThreads must be a positive integer (got ${numThreads})`);
  if (tf.version.tfjs !== WASM_THREADS_TFJS_VERSION) {
    throw new Error(`enableWasmThreads: written for tfjs ${WASM_THREADS_TFJS_VERSION}, found ${tf.version.tfjs}`);
  }
  if (tf.findBackend('wasm') !== null) throw new Error('enableWasmThreads: call it before the wasm backend is initialised');
  if (enabledDir) return enabledDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'course-wasm-threads-'));
  const mainPath = path.join(dir, 'main.js'), workerPath = path.join(dir, 'worker.js');
  const shims = "var require$$0 = require('fs'), require$$1 = require('path'), require$$2 = require('worker_threads'), " +
    "require$$3 = require('perf_hooks'), require$$4 = require('os'); var _scriptDir = undefined; var commonjsGlobal = globalThis;\n";
  const OrigBlob = globalThis.Blob;
  class CapturingBlob extends OrigBlob {
    readonly courseText: string;
    constructor(parts?: BlobPart[], opts?: BlobPropertyBag) {
      super(parts, opts);
      this.courseText = (parts ?? []).map((p) => (typeof p === 'string' ? p : '')).join('');
      if (this.courseText.startsWith('var WasmBackendModuleThreadedSimd')) fs.writeFileSync(mainPath, shims + this.courseText);
    }
  }
  globalThis.Blob = CapturingBlob as typeof Blob;
  const origCreate = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource) => {
    if (obj instanceof CapturingBlob && obj.courseText.includes('WasmBackendModuleThreadedSimd(Module)')) { // the pthread worker
      const prefix = `URL.createObjectURL = () => ${JSON.stringify(mainPath)}; URL.revokeObjectURL = () => {};\n`;
      fs.writeFileSync(workerPath, prefix + obj.courseText);
      return workerPath;
    }
    return origCreate(obj as Blob);
  };
  const osModule = require('os') as typeof os; // the mutable CommonJS object the bundle reads
  const realCpus = osModule.cpus.bind(osModule);
  const want = 2 * numThreads;
  osModule.cpus = () => {
    const c = realCpus();
    return c.length >= want || c.length === 0 ? c : Array.from({length: want}, (_, i) => c[i % c.length]!);
  };
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as {setThreadsCount: (n: number) => void}; // registers the wasm flags
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasmPkg.setThreadsCount(numThreads);
  process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
  enabledDir = dir;
  return dir;
}
