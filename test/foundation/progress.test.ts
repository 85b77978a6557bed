/** lib/progress.ts: the one progress line (Jupyter display updates, terminal \r line, plain log lines). */
import * as tf from '@tensorflow/tfjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {downloadProgress, formatBytes, formatDuration, libProgressOutput, Progress, progressBar, stepProgress} from '../../lib/progress';
import {makeDateDataset} from '../../lib/data/dates';
import {CharVocab} from '../../lib/seq2seq/vocab';
import {initSeq2Seq, seq2seqConfig} from '../../lib/seq2seq/model';
import {fitSeq2Seq} from '../../lib/seq2seq/train';

type Bundle = {data: Record<string, unknown>; transient: {display_id: string}};
/** A stand-in for the course kernel's display hook (jupyter/kernels/tslab-course/kernel.cjs). */
function fakeKernel(): {calls: {bundle: Bundle; update: boolean}[]} {
  const calls: {bundle: Bundle; update: boolean}[] = [];
  (globalThis as any).__courseKernel = {display: (bundle: Bundle, update: boolean) => { calls.push({bundle, update}); return true; }};
  return {calls};
}
const sink = (isTTY: boolean) => {
  const out: string[] = [];
  return {out, stream: {isTTY, write: (s: string) => { out.push(s); return true; }}};
};

beforeAll(async () => { await tf.setBackend('cpu'); });
afterEach(() => { delete (globalThis as any).__courseKernel; delete process.env.COURSE_PROGRESS; });

describe('formatting', () => {
  it('draws the bar, durations and bytes', () => {
    expect(progressBar(0, 8, 8)).toBe('[        ] 0/8');
    expect(progressBar(4, 8, 8)).toBe('[===>    ] 4/8');
    expect(progressBar(8, 8, 8)).toBe('[========] 8/8');
    expect(progressBar(3, 0)).toBe('3');
    expect(progressBar(50e6, 200e6, 8, formatBytes)).toBe('[=>      ] 50.0 MB/200.0 MB');
    expect([formatDuration(42.4), formatDuration(185), formatDuration(3720), formatDuration(NaN)]).toEqual(['42s', '3m05s', '1h02m', '?']);
  });

  it('shows step, total, loss, speed and ETA from the clock; the final line shows the elapsed time', () => {
    let now = 0;
    const {out, stream} = sink(false);
    const p = new Progress({total: 100, label: 'fit', output: 'lines', stream, now: () => now});
    now = 10_000;
    p.update(25, {loss: 0.123456});
    expect(p.text()).toBe('fit [=====>                  ] 25/100 steps | loss 0.1235 | 2.5 steps/s | ETA 30s');
    now = 40_000;
    p.update(100, {loss: 0.05});
    p.finish();
    expect(out).toEqual(['fit [=====>                  ] 25/100 steps | loss 0.1235 | 2.5 steps/s | ETA 30s\n',
      'fit [========================] 100/100 steps | loss 0.0500 | 2.5 steps/s | 40s\n']);
    p.finish();
    expect(out, 'finish draws once').toHaveLength(2);
  });

  it('without a total: the count, speed and elapsed time, no ETA', () => {
    let now = 0;
    const p = new Progress({label: 'train', output: 'none', now: () => now});
    now = 4000;
    p.update(40, {loss: 2});
    expect(p.text()).toBe('train 40 steps | loss 2.0000 | 10.0 steps/s | 4s');
  });
});

describe('outputs', () => {
  it('plain lines at most every linesEveryMs (logs, CI), and always the last one', () => {
    let now = 0;
    const {out, stream} = sink(false);
    const p = new Progress({total: 1000, output: 'lines', linesEveryMs: 10_000, stream, now: () => now});
    for (let i = 1; i <= 1000; i++) { now = i * 100; p.update(i); }   // 100 s
    p.finish();
    expect(out.length).toBe(11);                                       // t = 0.1 s, then every 10 s (the last at 100 s)
    expect(out[10]).toMatch(/1000\/1000 steps \| 10\.0 steps\/s \| 1m40s\n$/);
    expect(out.every(l => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });

  it('a terminal gets one line rewritten with \\r, ended by finish()', () => {
    let now = 0;
    const {out, stream} = sink(true);
    const p = new Progress({total: 10, output: 'auto', stream, now: () => now});
    for (let i = 1; i <= 10; i++) { now += 150; p.update(i); }
    p.finish();
    expect(out.length).toBeGreaterThan(1);
    expect(out.slice(0, -1).every(s => s.startsWith('\r') && !s.endsWith('\n'))).toBe(true);
    expect(out.join('')).toMatch(/\r\[=+\] 10\/10 steps[^\r]*\n$/);
  });

  it('in a Jupyter kernel: one display, then updates of the same display_id', () => {
    const {calls} = fakeKernel();
    let now = 0;
    const p = new Progress({total: 3, label: 'fit', now: () => now});   // output 'auto' → jupyter
    for (let i = 1; i <= 3; i++) { now += 600; p.update(i, {loss: 1 / i}); }
    p.finish();
    expect(calls.map(c => c.update)).toEqual([false, true, true]);   // one draw per update (600 ms apart); finish has nothing new
    const ids = new Set(calls.map(c => c.bundle.transient.display_id));
    expect(ids.size).toBe(1);
    expect(calls[calls.length - 1].bundle.data['text/plain']).toMatch(/^fit \[=+\] 3\/3 steps \| loss 0\.3333 \| 1\.\d steps\/s \| 2s$/);
  });

  it('downloads: MB, MB/s and ETA; a resumed download counts only the new bytes for the speed', () => {
    const {out, stream} = sink(false);
    const on = downloadProgress('downloading', {output: 'lines', stream, linesEveryMs: 0});
    on(50e6, 200e6);
    on(200e6, 200e6);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^downloading \[=+>? *\] 50\.0 MB\/200\.0 MB {2}\| \d/);
    expect(out[out.length - 1]).toMatch(/200\.0 MB\/200\.0 MB/);
  });
});

describe('the lib training loops report in Jupyter only', () => {
  it('COURSE_PROGRESS and the kernel decide', () => {
    expect(libProgressOutput()).toBe('none');
    fakeKernel();
    expect(libProgressOutput()).toBe('jupyter');
    process.env.COURSE_PROGRESS = 'off';
    expect(libProgressOutput()).toBe('none');
    delete (globalThis as any).__courseKernel;
    process.env.COURSE_PROGRESS = 'on';
    expect(libProgressOutput()).toBe('auto');
  });

  it('stepProgress: one bar per run, a new one when the step goes back or the run changes', () => {
    const {calls} = fakeKernel();
    const runA = {}, runB = {};
    for (let s = 1; s <= 3; s++) stepProgress(runA, {step: s, total: 3, loss: 1});
    for (let s = 1; s <= 2; s++) stepProgress(runB, {loss: 2});                    // no total: counts calls
    stepProgress(runB, {step: 1, loss: 3});                                         // restarted
    const ids = [...new Set(calls.map(c => c.bundle.transient.display_id))];
    expect(ids).toHaveLength(3);
    const last = (id: string) => calls.filter(c => c.bundle.transient.display_id === id).pop()!.bundle.data['text/plain'] as string;
    expect(last(ids[0])).toMatch(/^training \[=+\] 3\/3 steps \| loss 1\.0000/);
    expect(last(ids[1])).toMatch(/^training 2 steps \| loss 2\.0000/);
    expect(last(ids[2])).toMatch(/^training 1 steps \| loss 3\.0000/);
  });

  it('fitSeq2Seq shows its steps and loss in the kernel display and stays silent outside it', () => {
    const data = makeDateDataset({seed: 1, numTrain: 200, numTest: 10});
    const src = CharVocab.fromTexts(data.train.map(e => e.input)), tgt = CharVocab.fromTexts(['0123456789-']);
    const cfg = seq2seqConfig({srcVocab: src.size, tgtVocab: tgt.size, dEmb: 8, dModel: 16, dAttn: 16, maxLen: 11, bidirectional: false, attention: 'additive'});
    const before = tf.memory().numTensors;
    const m = initSeq2Seq(cfg, {seed: 0});
    const {out, stream} = sink(false);
    const write = process.stderr.write;
    (process.stderr as any).write = stream.write;
    try { fitSeq2Seq(m, data.train, src, tgt, {steps: 3, batchSize: 16}); } finally { (process.stderr as any).write = write; }
    expect(out).toEqual([]);
    const {calls} = fakeKernel();
    fitSeq2Seq(m, data.train, src, tgt, {steps: 3, batchSize: 16});
    const last = calls[calls.length - 1].bundle.data['text/plain'] as string;
    expect(last).toMatch(/^fit seq2seq \(attention: additive\) \[=+\] 3\/3 steps \| loss \d\.\d{4} \| [\d.]+ steps\/s \| \d+s$/);
    Object.values(m.params).forEach(v => v.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
