/**
 * FusedAdamW — the AdamW of lib/optim/adamw.ts (Chapter 4 §4.3: the same update, the same state,
 * checkpoints and errors) whose step runs as one native kernel per parameter (`CourseAdamW`,
 * lib/core/fused.ts) when the course's native kernels serve the wasm backend, instead of the 13–14
 * elementwise kernels of the written-out update; anywhere else it runs AdamW.step itself. Like
 * PyTorch's `AdamW(fused=True)`: a speed option, not another algorithm (same numbers to float32
 * rounding: test/core/native-kernels-wasm.test.ts). The trainer and the bench use it; the update
 * to read (and the assignment's) is AdamW.step.
 */
import * as tf from '@tensorflow/tfjs';
import {fusedAdamWStep} from '../core/fused';
import {nativeKernelsActive} from '../core/kernel-path';
import {AdamW} from './adamw';

export class FusedAdamW extends AdamW {
  override step(grads: Record<string, tf.Tensor>, lr?: number): void {
    if (!nativeKernelsActive()) { super.step(grads, lr); return; }
    const rate = this.checkStep(grads, lr);
    const t = this.t + 1;
    const {beta1, beta2, eps, weightDecay} = this.cfg;
    const common = {beta1, beta2, eps, stepSize: rate / (1 - Math.pow(beta1, t)), bc2: Math.sqrt(1 - Math.pow(beta2, t))};
    tf.tidy(() => {
      for (const n of this.names) {
        const keep = this.decayed.has(n) ? 1 - rate * weightDecay : 1;
        const [p, m, v] = fusedAdamWStep(this.params[n]!, this.m[n]!, this.v[n]!, grads[n]!, {...common, keep});
        this.params[n]!.assign(p);
        this.m[n]!.assign(m);
        this.v[n]!.assign(v);
      }
    });
    this.t = t;
  }
}
