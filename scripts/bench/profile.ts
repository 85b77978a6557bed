/**
 * Where a training step's time goes, per kernel (tf.profile):
 *   tsx scripts/bench/profile.ts [--config recipe | --recipe NAME | --cnn] [--batch N] [--native 0 (pure wasm) | OPENBLAS_THREADS] [--bmm auto|stock]
 * (--recipe profiles any training recipe's model, e.g. `fast`, with its batch size and its stochastic depth;
 *  --cnn the ResNet-style CNN of lib/cnn/resnet.ts that `npm run data-fraction` trains, batch 128.)
 */
import * as tf from '@tensorflow/tfjs';
import {initBackend, describeBackend} from '../../lib/backend';
import {setBmmImpl, bmmPath} from '../../lib/core/bmm';

import {crossEntropy} from '../../lib/optim/losses';
import {RECIPES} from '../../lib/train/recipes';
import {initViT, ViTConfig, vitForward} from '../../lib/vit/model';
import {cnnConfig, cnnForward, initCnn} from '../../lib/cnn/resnet';
import {parseCli} from '../cli-args';
import {BENCH_CONFIGS} from './common';

async function main() {
  const parsed = parseCli({command: 'tsx scripts/bench/profile.ts', summary: 'Per-op profile of one training step of a bench config.', options: {
    config: {kind: 'string', arg: 'NAME', help: 'bench config (default recipe)'}, recipe: {kind: 'string', arg: 'NAME', help: 'a training recipe instead (lib/train/recipes.ts), e.g. fast'}, batch: {kind: 'positive', help: 'batch size (default: the config\'s)'},
    native: {kind: 'count', help: '0 = pure wasm, else OpenBLAS threads'}, bmm: {kind: 'string', arg: 'auto|stock', help: 'batched matmul implementation (default auto)'},
    cnn: {kind: 'boolean', help: 'profile the data-fraction CNN (lib/cnn/resnet.ts) instead of a ViT'},
  }});
  if (!parsed) return;
  const args = parsed.values;
  const rec = args.recipe === undefined ? undefined : RECIPES[args.recipe as string];
  if (args.recipe !== undefined && !rec) throw new Error(`unknown --recipe (known: ${Object.keys(RECIPES).join(', ')})`);
  const bc: {name: string; batch: number; model?: ViTConfig} | undefined = args.cnn ? {name: 'cnn', batch: 128}
    : rec ? {name: rec.name, model: rec.model, batch: rec.batchSize} : BENCH_CONFIGS[(args.config as string) ?? 'recipe'];
  if (!bc) throw new Error(`unknown --config (known: ${Object.keys(BENCH_CONFIGS).join(', ')})`);
  if (args.native !== undefined) {
    if (args.native === 0) process.env.COURSE_NATIVE = '0';
    else process.env.COURSE_THREADS = String(args.native);
  }
  const info = await initBackend('wasm');
  setBmmImpl(((args.bmm as string) ?? 'auto') as 'auto' | 'stock');
  const B = (args.batch as number | undefined) ?? bc.batch, cfg = bc.model, cnnCfg = cnnConfig();
  const params = cfg ? initViT(cfg, 0) : initCnn(cnnCfg, 0), vars = Object.values(params);
  const forward = (x: tf.Tensor) => cfg ? vitForward(params, cfg, x, {training: true}).logits : cnnForward(params, cnnCfg, x, {training: true});
  const x = tf.randomUniform([B, 32, 32, 3], 0, 1, 'float32', 1), y = tf.tensor1d(Array.from({length: B}, (_, i) => i % 10), 'int32');
  const step = async () => {
    const {value, grads} = tf.variableGrads(() => crossEntropy(forward(x), y), vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  await step();
  const t0 = performance.now();
  const prof = await tf.profile(step);
  const wall = performance.now() - t0;
  const by = new Map<string, {ms: number; n: number}>();
  for (const k of prof.kernels) {
    const e = by.get(k.name) ?? {ms: 0, n: 0};
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.n++;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((a, b) => a + b.ms, 0);
  console.log(`${describeBackend(info)}; bmm ${bmmPath()}; ${bc.name} batch ${B}: step ${wall.toFixed(0)} ms (profiled), kernels ${total.toFixed(0)} ms, peak ${(prof.peakBytes / 2 ** 20).toFixed(0)} MB`);
  for (const [name, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.PROFILE_TOP ?? 15))) {
    console.log(`${name.padEnd(22)} ${e.ms.toFixed(0).padStart(7)} ms ${(100 * e.ms / total).toFixed(1).padStart(5)} %  ${String(e.n).padStart(5)} calls`);
  }
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
