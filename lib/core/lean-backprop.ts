/**
 * A backward pass that frees memory as it goes. tfjs 4.22.0's `Engine.gradients` keeps every
 * intermediate gradient and every tensor saved for the backward pass alive until the whole backward
 * pass ends, so a training step peaks at about twice the activations (recipe ViT, batch 128: 609 MB
 * saved at the end of the forward pass, 1289 MB at the backward peak). This replacement is the same
 * algorithm (same tape, same order, same gradient functions, so the same numbers bit for bit) but,
 * once a tape node's gradient has run, frees the gradients of its outputs (final by then: all their
 * consumers come later on the tape) and its saved tensors (used by no other node), unless still
 * referenced. Higher-order gradients (gradientDepth > 0) keep tfjs's behaviour.
 * It also releases at once the tensors saved for gradients that need only their shapes (below).
 * Installed with the native kernels (lib/core/native-kernels.ts, which checks the tfjs version);
 * tested in test/core/native-kernels-wasm.test.ts (equal gradients, no leaks, lower peak).
 */
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: {activeTape: TapeNode[] | null; gradientDepth: number};
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T>(name: string | (() => T), f?: () => T): T;
  gradients: GradientsFn;
}

type GradientsFn = (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => {value: tf.Tensor; grads: tf.Tensor[]};

/** The tape nodes on a path from xs to y, inputs pruned to those from xs (tfjs-core's tape.ts). */
function filteredNodesXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX: Record<number, boolean> = {}, nodesFromX: Record<number, boolean> = {};
  for (const x of xs) fromX[x.id] = true;
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX[node.inputs[name]!.id]) {
        node.outputs.forEach((o) => { fromX[o.id] = true; });
        nodesFromX[node.id] = true;
        break;
      }
    }
  }
  const toY: Record<number, boolean> = {[y.id]: true}, nodesToY: Record<number, boolean> = {};
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY[o.id])) {
      for (const name in node.inputs) { toY[node.inputs[name]!.id] = true; nodesToY[node.id] = true; }
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX[node.id] || !nodesToY[node.id]) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromX[node.inputs[name]!.id]) inputs[name] = node.inputs[name]!;
    out.push({...node, inputs, outputs: node.outputs});
  }
  return out;
}

function leanGradients(this: EngineInternals, f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients = false) {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = this.scopedRun(() => this.startTape(), () => this.endTape(), () => this.tidy('forward', f));
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = filteredNodesXToY(this.state.activeTape!, xs, y);
  if (!allowNoGradients && tape.length === 0 && xs.length > 0) {
    throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
  }
  const free = this.state.gradientDepth === 0;
  return this.tidy('backward', () => {
    const acc: Record<number, tf.Tensor> = {[y.id]: dy ?? tf.ones(y.shape)};
    const keep = new Set(xs.map((x) => x.id));
    const referenced = (t: tf.Tensor) => Object.values(acc).includes(t);
    for (let i = tape.length - 1; i >= 0; i--) {
      const node = tape[i]!;
      const dys = node.outputs.map((o) => acc[o.id] ?? null);
      if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const inputGradients = node.gradient(dys);
      for (const name in node.inputs) {
        if (!(name in inputGradients)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
        const dx = this.tidy(() => inputGradients[name]!());
        if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
        const x = node.inputs[name]!;
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
        }
        const cur = acc[x.id];
        if (cur == null) acc[x.id] = dx;
        else { acc[x.id] = tf.add(cur, dx); cur.dispose(); }
      }
      if (!free) continue;
      // this node's output gradients are final and now used; its saved tensors serve no other node
      for (const o of node.outputs) {
        const g = acc[o.id];
        if (g === undefined || keep.has(o.id)) continue;
        delete acc[o.id];
        if (g !== dy && !referenced(g)) g.dispose();
      }
      for (const s of node.saved ?? []) if (!referenced(s)) s.dispose();
    }
    const grads = xs.map((x) => acc[x.id]!);
    if (free) {
      this.state.activeTape!.forEach((node) => { for (const t of node.saved ?? []) t.dispose(); });
      this.state.activeTape = null;
    }
    return {value: y, grads};
  });
}

/**
 * Kernels whose registered gradient (tfjs-core 4.22.0) reads only the *shapes* of the tensors saved
 * for it: Add, Sub (to reduce a broadcast), Reshape, Slice, Concat. Their saved copies are released
 * as soon as the tape node is recorded (a disposed tensor keeps its shape), so e.g. `x·W + b` with
 * autograd does not keep `x·W` alive until the backward pass, nor a residual sum its two inputs.
 */
const SHAPE_ONLY_GRADIENTS = new Set(['Add', 'Sub', 'Reshape', 'Slice', 'Concat']);

type AddTapeNode = (kernelName: string, inputs: unknown, outputs: unknown, gradientsFunc: unknown, saved: tf.Tensor[] | undefined, attrs: unknown) => void;
let stockAddTapeNode: AddTapeNode | undefined;

function shapeOnlyAddTapeNode(this: unknown, kernelName: string, inputs: unknown, outputs: unknown, gradientsFunc: unknown, saved: tf.Tensor[] | undefined, attrs: unknown): void {
  stockAddTapeNode!.call(this, kernelName, inputs, outputs, gradientsFunc, saved, attrs);
  if (saved && SHAPE_ONLY_GRADIENTS.has(kernelName)) for (const t of saved) t.dispose();
}

let stockGradients: GradientsFn | undefined;

/** Replaces the engine's gradients() with the freeing version (idempotent). */
export function installLeanBackprop(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (stockGradients) return;
  stockGradients = engine.gradients;
  engine.gradients = leanGradients as unknown as GradientsFn;
  const e = engine as unknown as {addTapeNode: AddTapeNode};
  stockAddTapeNode = e.addTapeNode;
  e.addTapeNode = shapeOnlyAddTapeNode as unknown as AddTapeNode;
}

/** Puts tfjs's own gradients() back. */
export function uninstallLeanBackprop(): void {
  if (!stockGradients) return;
  (tf.engine() as unknown as EngineInternals).gradients = stockGradients;
  stockGradients = undefined;
  (tf.engine() as unknown as {addTapeNode: AddTapeNode}).addTapeNode = stockAddTapeNode!;
  stockAddTapeNode = undefined;
}

export function leanBackpropInstalled(): boolean {
  return stockGradients !== undefined;
}
