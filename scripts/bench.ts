/**
 * npm run bench [-- --long] [--no-torch] [--no-micro] [--configs recipe,small,base] [--threads 2] [--timeout 900]
 *
 * Training and inference throughput and peak memory of the course ViT (chapter 4's recipe model, a
 * small and a base config) as the course runs it by default (tfjs-wasm + the native OpenBLAS
 * kernels, lib/core/native-kernels.ts), with 1 and 2 OpenBLAS threads and on the pure wasm path
 * (COURSE_NATIVE=0) for the recipe model, the cpu backend on a tiny config, and the identical
 * PyTorch model (Debian python3-torch, /usr/bin/python3; 1 and 2 threads, parameter counts checked
 * equal); plus micro-benchmarks of each hot spot per formulation on pure wasm. Every measurement
 * runs in its own fresh process (peak RSS is its own), after warm-up, median of repetitions.
 * Records the CPU model, load average (before every run), versions and threads in
 * build/bench/bench.json (+ bench.md) and prints each tfjs run's ratio to PyTorch's fastest thread
 * setting. `npm run bench:readme` copies the summary into the README's speed table.
 * The machine may be shared: the load average beside each number says how much.
 */
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {countParams, disposeParams} from '../lib/core/params';
import {initViT} from '../lib/vit/model';
import * as tf from '@tensorflow/tfjs';
import {defaultNativeThreads} from '../lib/core/native-kernels';
import {CliSpec, parseCli} from './cli-args';
import {BENCH_CONFIGS} from './bench/common';

const ROOT = path.resolve(__dirname, '..');
const NODE_TS = ['--import', 'tsx']; // run .ts children in node itself, so a timeout kills the right process
const PY = '/usr/bin/python3';
export const BENCH_CLI = {
  command: 'npm run bench --',
  summary: 'Training and inference throughput of the course ViT on tfjs (and PyTorch when /usr/bin/python3 has torch); writes build/bench/.',
  options: {
    'long': {kind: 'boolean', help: 'more repetitions and variants (stock bmm, threads everywhere)'},
    'no-torch': {kind: 'boolean', help: 'skip the PyTorch reference'},
    'no-micro': {kind: 'boolean', help: 'skip the micro-benchmarks'},
    'configs': {kind: 'string', arg: 'A,B', help: 'model configs to run (default recipe,small,base)'},
    'threads': {kind: 'positive', help: 'wasm threads (default 1, 2 with --long)'},
    'timeout': {kind: 'positive', arg: 'SECONDS', help: 'time limit per measured run (default 900)'},
  },
} as const satisfies CliSpec;

interface Run { kind: 'tfjs' | 'torch'; config: string; label: string; result?: Record<string, any>; error?: string; seconds: number; load_before: number[]; is_default?: boolean }

let childTimeoutS = 900;

const loadStr = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');

function child(cmd: string, args: string[], label: string, env: Record<string, string> = {}): {result?: Record<string, any>; error?: string; seconds: number; load_before: number[]} {
  const t0 = Date.now();
  const load_before = os.loadavg().map((x) => Math.round(x * 100) / 100);
  process.stdout.write(`- ${label} [load ${loadStr(load_before)}] … `);
  const r = spawnSync(cmd, args, {cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: {...process.env, ...env}, timeout: childTimeoutS * 1000, killSignal: 'SIGKILL'});
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    console.log(`timed out after ${childTimeoutS} s (machine too busy?)`);
    return {error: `timed out after ${childTimeoutS} s`, seconds: (Date.now() - t0) / 1000, load_before};
  }
  const seconds = (Date.now() - t0) / 1000;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) {
    const err = `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    console.log(`failed (${err})`);
    return {error: err, seconds, load_before};
  }
  const result = JSON.parse(line.slice(7));
  console.log(result.train_img_s !== undefined ? `train ${result.train_img_s} img/s, inference ${result.infer_img_s} img/s, peak RSS ${result.peak_rss_mb} MB (${seconds.toFixed(0)} s)` : `done (${seconds.toFixed(0)} s)`);
  return {result, seconds, load_before};
}

function torchAvailable(): string | undefined {
  const r = spawnSync(PY, ['-c', 'import torch; print(torch.__version__)'], {encoding: 'utf8'});
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function wasmVersion(): string {
  return (require('@tensorflow/tfjs-backend-wasm/package.json') as {version: string}).version;
}

const f1 = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

async function main() {
  const parsed = parseCli(BENCH_CLI);
  if (!parsed) return;
  const args = parsed.values;
  const long = Boolean(args.long);
  const configs = (args.configs ?? 'recipe,small,base').split(',');
  for (const c of configs) if (!BENCH_CONFIGS[c]) throw new Error(`unknown config "${c}" (known: ${Object.keys(BENCH_CONFIGS).join(', ')})`);
  // wasm threads: opt-in (--threads 2; default 2 with --long): on a loaded machine the threaded build ran slower than 1 thread
  const threads = args.threads ?? (long ? 2 : 1);
  childTimeoutS = args.timeout ?? childTimeoutS;
  const reps = long ? 10 : 3, warmup = long ? 3 : 2, torchReps = long ? 10 : 5;
  const started = new Date();
  const loadStart = os.loadavg();
  console.log(`npm run bench${long ? ' --long' : ''}: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${loadStr(loadStart)} at start`);
  // the native kernels are rebuilt first (as npm run setup does), so the bench measures the current source
  const build = spawnSync('bash', [path.join('lib', 'core', 'native', 'build.sh')], {cwd: ROOT, encoding: 'utf8'});
  const nativeNote = `${(build.stdout ?? '').trim().split('\n').pop() ?? ''}`.trim() || 'native kernels build script failed';
  console.log(nativeNote);
  const nativeBuilt = fs.existsSync(path.join(ROOT, 'build', 'native', 'course_gemm.node'));
  const defaultThreads = defaultNativeThreads();
  const runs: Run[] = [];
  const tfjs = (config: string, backend: string, extra: string[], label: string, env: Record<string, string> = {}, isDefault = false) => {
    const bc = BENCH_CONFIGS[config]!;
    const a = [path.join('scripts', 'bench', 'model.ts'), '--config', config, '--backend', backend, '--reps', String(backend === 'cpu' ? Math.min(reps, 2) : reps), '--warmup', String(backend === 'cpu' ? 1 : warmup), ...extra];
    runs.push({kind: 'tfjs', config, label, is_default: isDefault, ...child(process.execPath, [...NODE_TS, ...a], `${label} ${config} (batch ${bc.batch})`, env)});
  };
  const nativeLabel = (t: number) => `tfjs wasm + native kernels, OpenBLAS ${t} thread${t > 1 ? 's' : ''}`;
  const torchVersion = args['no-torch'] ? undefined : torchAvailable();
  const torchNote = args['no-torch'] ? 'skipped (--no-torch)' : torchVersion ? `torch ${torchVersion} (${PY})`
    : `PyTorch not available (${PY} cannot import torch): tfjs numbers only. For the ratios install Debian's PyTorch: sudo apt-get install python3-torch`;
  console.log(`PyTorch reference: ${torchNote}`);
  const torch = (c: string) => {
    if (!torchVersion) return;
    const bc = BENCH_CONFIGS[c]!, m = bc.model;
    for (const t of [1, 2]) {
      const spec = {patch: m.patchSize, dModel: m.dModel, heads: m.numHeads, layers: m.numLayers, dFF: m.dFF, batch: bc.batch, threads: t, steps: torchReps, warmup: 2, lnEps: m.lnEps, classes: m.numClasses};
      runs.push({kind: 'torch', config: c, label: `PyTorch ${torchVersion} cpu, set_num_threads(${t})`, ...child(PY, [path.join('scripts', 'bench', 'vit_torch.py'), JSON.stringify(spec)], `PyTorch ${t} thread(s) ${c} (batch ${bc.batch})`)});
    }
  };
  // Per config: the course's default path, then PyTorch right after it (a shared machine's load
  // changes by the minute: neighbours in time see similar load); then the variants — 1 and 2
  // OpenBLAS threads and pure wasm for the recipe model (every config with --long).
  for (const c of configs) {
    if (nativeBuilt) tfjs(c, 'wasm', ['--native', String(defaultThreads)], `${nativeLabel(defaultThreads)} (default)`, {}, true);
    else tfjs(c, 'wasm', ['--native', '0'], 'tfjs wasm, pure (default: native kernels not built)', {}, true);
    torch(c);
  }
  if (nativeBuilt) {
    for (const t of [1, 2].filter((t) => t !== defaultThreads)) for (const c of long ? configs : configs.slice(0, 1)) tfjs(c, 'wasm', ['--native', String(t)], nativeLabel(t));
    for (const c of long ? configs : configs.slice(0, 1)) tfjs(c, 'wasm', ['--native', '0'], 'tfjs wasm, pure (COURSE_NATIVE=0)');
  }
  if (threads > 1) for (const c of long ? configs : configs.slice(0, 1)) tfjs(c, 'wasm', ['--threads', String(threads)], `tfjs wasm, pure, ${threads} wasm threads (Node threads hack)`);
  if (long) for (const c of configs) tfjs(c, 'wasm', ['--native', '0', '--bmm', 'stock'], 'tfjs wasm, pure, stock bmm');
  tfjs('tiny', 'wasm', [], `tfjs wasm${nativeBuilt ? ' + native kernels (default)' : ''}`, {}, true);
  torch('tiny');
  tfjs('tiny', 'cpu', [], 'tfjs cpu');
  // micro-benchmarks
  let micro: Record<string, any> | undefined;
  if (!args['no-micro']) {
    const m = child(process.execPath, [...NODE_TS, path.join('scripts', 'bench', 'micro.ts'), '--batch', long ? '64' : '32', '--reps', long ? '7' : '3'], 'micro-benchmarks (pure wasm, 1 thread)', {COURSE_NATIVE: '0'});
    micro = m.result ?? {error: m.error};
  }
  // parameter counts and ratios
  const expectedParams: Record<string, number> = {};
  for (const c of [...configs, 'tiny']) {
    const p = initViT(BENCH_CONFIGS[c]!.model, 0);
    expectedParams[c] = countParams(p);
    disposeParams(p);
  }
  const rows = runs.map((r) => {
    const res = r.result ?? {};
    const torch = runs.filter((t) => t.kind === 'torch' && t.config === r.config && t.result);
    const best = (k: string) => Math.max(...torch.map((t) => t.result![k] as number));
    const ratio = (k: string) => (torch.length && r.kind === 'tfjs' && res[k] ? Math.round((res[k] / best(k)) * 1000) / 1000 : undefined);
    return {
      config: r.config, what: BENCH_CONFIGS[r.config]!.what, run: r.label, error: r.error, batch: res.batch, params: res.params,
      params_match: res.params === undefined ? undefined : res.params === expectedParams[r.config],
      train_img_s: res.train_img_s, infer_img_s: res.infer_img_s, train_ms_all: res.train_ms_all, peak_rss_mb: res.peak_rss_mb, wasm_heap_mb: res.wasm_heap_mb,
      tensors_before_after: res.tensors_before_after, tensors_steady: res.tensors_steady, bmm: res.bmm, threads: res.threads,
      openblas_threads: res.openblas_threads, kernels: res.kernels, is_default: r.is_default ?? false, load_before: r.load_before,
      train_ratio_vs_torch_best: ratio('train_img_s'), infer_ratio_vs_torch_best: ratio('infer_img_s'),
      train_cpu_ms: res.train_cpu_ms_median, infer_cpu_ms: res.infer_cpu_ms_median,
      // CPU-time ratio: PyTorch's least CPU ms per step ÷ ours (> 1: we use less CPU); robust to a busy machine
      train_cpu_ratio_vs_torch_best: torch.length && r.kind === 'tfjs' && res.train_cpu_ms_median ? Math.round((Math.min(...torch.map((t) => t.result!.train_cpu_ms_median as number)) / res.train_cpu_ms_median) * 1000) / 1000 : undefined,
      infer_cpu_ratio_vs_torch_best: torch.length && r.kind === 'tfjs' && res.infer_cpu_ms_median ? Math.round((Math.min(...torch.map((t) => t.result!.infer_cpu_ms_median as number)) / res.infer_cpu_ms_median) * 1000) / 1000 : undefined,
      rss_ratio_vs_torch: torch.length && r.kind === 'tfjs' && res.peak_rss_mb ? Math.round((res.peak_rss_mb / Math.min(...torch.map((t) => t.result!.peak_rss_mb as number))) * 100) / 100 : undefined,
      seconds: r.seconds,
    };
  });
  const out = {
    started: started.toISOString(), finished: new Date().toISOString(), long, cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model,
    load_average_start: loadStart, load_average_end: os.loadavg(),
    versions: {node: process.version, tfjs: tf.version.tfjs, tfjs_backend_wasm: wasmVersion(), torch: torchVersion ?? null},
    torch: torchNote, native: nativeNote, native_default_threads: defaultThreads, expected_params: expectedParams,
    note: 'medians after warm-up; each run in its own fresh process; ratios against the fastest PyTorch thread setting of the same invocation; load_before = load average (1, 5, 15 min) when the run started',
    rows, micro,
  };
  // table
  const lines: string[] = [];
  lines.push(`# npm run bench${long ? ' --long' : ''} — ${started.toISOString()}`, '', `${out.cpus} CPUs (${out.cpu_model}), Node ${process.version}, tfjs ${tf.version.tfjs}; PyTorch: ${torchNote}. ${nativeNote}. Load average ${loadStr(loadStart)} at the start, ${loadStr(os.loadavg())} at the end.`, '');
  lines.push('| config | run | load at start | batch | params | train img/s | infer img/s | train ÷ best PyTorch | infer ÷ best PyTorch | train CPU ms/step (ratio) | peak RSS MB | wasm heap MB | tensors before→after step |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ta = r.tensors_before_after as [number, number][] | undefined;
    lines.push(`| ${r.config} | ${r.run} | ${r.load_before[0]!.toFixed(1)} | ${r.batch ?? '–'} | ${r.params ?? '–'}${r.params_match === false ? ' (MISMATCH)' : ''} | ${r.error ? 'failed' : f1(r.train_img_s)} | ${f1(r.infer_img_s)} | ${f1(r.train_ratio_vs_torch_best, 3)} | ${f1(r.infer_ratio_vs_torch_best, 3)} | ${f1(r.train_cpu_ms, 0)}${r.train_cpu_ratio_vs_torch_best ? ` (${f1(r.train_cpu_ratio_vs_torch_best, 2)}×)` : ''} | ${r.peak_rss_mb ?? '–'} | ${r.wasm_heap_mb ?? '–'} | ${ta ? `${ta[ta.length - 1]![0]}→${ta[ta.length - 1]![1]}${r.tensors_steady ? '' : ' (GROWS)'}` : '–'} |`);
  }
  lines.push('', '**The default path ÷ PyTorch\'s fastest thread setting** (same model and batch, same invocation, fresh processes):', '');
  const summary: Record<string, unknown>[] = [];
  for (const c of [...configs, 'tiny']) {
    const d = rows.find((r) => r.config === c && r.is_default && r.train_img_s !== undefined);
    const torch = rows.filter((r) => r.config === c && r.run.startsWith('PyTorch') && r.train_img_s !== undefined);
    if (!d) continue;
    const bt = torch.length ? torch.reduce((a, b) => (b.train_img_s > a.train_img_s ? b : a)) : undefined;
    const bi = torch.length ? torch.reduce((a, b) => (b.infer_img_s > a.infer_img_s ? b : a)) : undefined;
    const minRss = torch.length ? Math.min(...torch.map((t) => t.peak_rss_mb as number)) : undefined;
    summary.push({config: c, run: d.run, batch: d.batch, load_before: d.load_before, train_img_s: d.train_img_s, infer_img_s: d.infer_img_s, peak_rss_mb: d.peak_rss_mb,
      torch_train_img_s: bt?.train_img_s, torch_train_run: bt?.run, torch_infer_img_s: bi?.infer_img_s, torch_infer_run: bi?.run, torch_peak_rss_mb: minRss,
      train_ratio: d.train_ratio_vs_torch_best, infer_ratio: d.infer_ratio_vs_torch_best, rss_ratio: d.rss_ratio_vs_torch,
      train_cpu_ratio: d.train_cpu_ratio_vs_torch_best, infer_cpu_ratio: d.infer_cpu_ratio_vs_torch_best});
    lines.push(`- ${c} (batch ${d.batch}): training ${f1(d.train_img_s)} img/s = **${f1(d.train_ratio_vs_torch_best, 2)}×** PyTorch (${f1(bt?.train_img_s)}), inference ${f1(d.infer_img_s)} img/s = **${f1(d.infer_ratio_vs_torch_best, 2)}×** (${f1(bi?.infer_img_s)}), peak RSS ${d.peak_rss_mb} MB = ${f1(d.rss_ratio_vs_torch, 2)}× PyTorch's (${minRss ?? '–'} MB); CPU time per step: training ${f1(d.train_cpu_ratio_vs_torch_best, 2)}×, inference ${f1(d.infer_cpu_ratio_vs_torch_best, 2)}× PyTorch's least; ${d.run}, load ${d.load_before[0]!.toFixed(1)}`);
  }
  (out as Record<string, unknown>).summary = summary;
  if (micro?.rows) {
    lines.push('', `## Micro-benchmarks (${micro.describe}; ViT-base shapes, batch ${micro.batch}, N = batch·65 tokens; median ms)`, '', '| hot spot | formulation | lib uses | forward ms | forward + backward ms |', '|---|---|---|---|---|');
    for (const m of micro.rows) lines.push(`| ${m.op} | ${m.formulation} | ${m.lib ? '✔' : ''} | ${f1(m.fwd_ms)} | ${f1(m.fwd_bwd_ms)} |`);
    lines.push('', `GELU approximations, max |error| vs exact over [-8, 8]: tanh ${micro.gelu_max_abs_error.tanh.toExponential(2)}, x·sigmoid(1.702x) ${micro.gelu_max_abs_error.sigmoid.toExponential(2)}.`);
  }
  const md = lines.join('\n') + '\n';
  const dir = path.join(ROOT, 'build', 'bench');
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, 'bench.json'), JSON.stringify(out, null, 1));
  fs.writeFileSync(path.join(dir, 'bench.md'), md);
  console.log('\n' + md + `\nwritten: build/bench/bench.json, build/bench/bench.md`);
  const bad = rows.filter((r) => r.params_match === false || r.tensors_steady === false);
  if (bad.length) { console.error(`problems: ${bad.map((r) => `${r.config} ${r.run}`).join(', ')} (parameter mismatch or growing tensor count)`); process.exit(1); }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
