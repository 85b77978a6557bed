/**
 * npm run bench:readme — regenerates the README's speed table from build/bench/bench.json (written
 * by `npm run bench`): the text between `<!-- bench-table:start -->` and `<!-- bench-table:end -->`.
 * Exits 1 with a clear message when there is no bench result or the README lacks the markers.
 *   node --import tsx scripts/bench/readme-table.ts [--json build/bench/bench.json] [--readme README.md]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {parseCli} from '../cli-args';

const ROOT = path.resolve(__dirname, '..', '..');
const START = '<!-- bench-table:start -->', END = '<!-- bench-table:end -->';

interface Summary {
  config: string; batch: number; run: string; load_before: number[]; train_img_s: number; infer_img_s: number; peak_rss_mb: number;
  torch_train_img_s?: number; torch_infer_img_s?: number; torch_peak_rss_mb?: number; train_ratio?: number; infer_ratio?: number; rss_ratio?: number; train_cpu_ratio?: number; infer_cpu_ratio?: number;
}

const f = (x: number | undefined, d = 0) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x.toFixed(d));

/** The markdown put between the markers. */
export function benchTable(bench: Record<string, any>): string {
  const sum = (bench.summary ?? []) as Summary[];
  if (!sum.length) throw new Error('bench.json has no summary rows (did npm run bench finish?)');
  const load = (l: number[] | undefined) => (l ? l.map((x) => x.toFixed(1)).join(', ') : '–');
  const out = [
    `\`npm run bench\`, ${bench.started?.slice(0, 16).replace('T', ' ')} UTC: ${bench.cpus} CPUs (${bench.cpu_model}), load average ${load(bench.load_average_start)} at the start;`,
    `Node ${bench.versions?.node}, tfjs ${bench.versions?.tfjs}, PyTorch ${bench.versions?.torch ?? 'not installed'}. tfjs runs the course's default path`,
    `(wasm + native OpenBLAS kernels, ${bench.native_default_threads} OpenBLAS thread${bench.native_default_threads === 1 ? '' : 's'}); PyTorch is its fastest thread setting in the same run.`,
    `Each number is a median after warm-up, in a fresh process; peak RSS of the whole process. "CPU ratio": PyTorch's CPU`,
    `time per step (all threads) ÷ tfjs's, the efficiency measure that other jobs on the machine distort least.`,
    // the bench's own back-to-back runs keep up to ~CPUs in the 1-minute load: busy = other work on top
    ...(Math.max(...sum.map((r) => r.load_before?.[0] ?? 0)) > 1.5 * bench.cpus
      ? ['', `**The machine was busy during this run (1-minute load above 1.5 × its ${bench.cpus} CPUs, more than the bench's own runs add): the wall-clock ratios are unreliable** (on a shared machine they swing several-fold between runs); the CPU ratios distort least. Re-run on a quiet machine.`]
      : []),
    '',
    '| model (batch) | train img/s, tfjs / PyTorch | ratio | CPU ratio | inference img/s, tfjs / PyTorch | ratio | CPU ratio | peak RSS MB, tfjs / PyTorch | load at start |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of sum) {
    out.push(`| ${s.config} (${s.batch}) | ${f(s.train_img_s, 1)} / ${f(s.torch_train_img_s, 1)} | **${f(s.train_ratio, 2)}×** | ${f(s.train_cpu_ratio, 2)}× | ${f(s.infer_img_s, 1)} / ${f(s.torch_infer_img_s, 1)} | **${f(s.infer_ratio, 2)}×** | ${f(s.infer_cpu_ratio, 2)}× | ${f(s.peak_rss_mb)} / ${f(s.torch_peak_rss_mb)} | ${f(s.load_before?.[0], 1)} |`);
  }
  return out.join('\n');
}

function main() {
  const parsed = parseCli({command: 'npm run bench:readme --', summary: 'Copies the summary of build/bench/bench.json into the speed table of the README.', options: {
    json: {kind: 'string', arg: 'FILE', help: 'bench results (default build/bench/bench.json)'}, readme: {kind: 'string', arg: 'FILE', help: 'README to update (default README.md)'},
  }});
  if (!parsed) return;
  const args = parsed.values;
  const jsonPath = path.resolve(ROOT, (args.json as string) ?? 'build/bench/bench.json');
  const readmePath = path.resolve(ROOT, (args.readme as string) ?? 'README.md');
  if (!fs.existsSync(jsonPath)) throw new Error(`${path.relative(ROOT, jsonPath)} not found: run npm run bench first`);
  const table = benchTable(JSON.parse(fs.readFileSync(jsonPath, 'utf8')));
  const readme = fs.readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${path.relative(ROOT, readmePath)} has no ${START} … ${END} section`);
  fs.writeFileSync(readmePath, readme.slice(0, a + START.length) + '\n' + table + '\n' + readme.slice(b));
  console.log(`${path.relative(ROOT, readmePath)}: speed table regenerated from ${path.relative(ROOT, jsonPath)}`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
