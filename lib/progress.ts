/**
 * The course's one progress line, for every long loop: training steps in the chapters and the
 * command-line scripts, downloads.
 *
 *   fit seq2seq (attention) [=========>              ] 600/1500 steps | loss 0.4312 | 12.3 steps/s | ETA 1m13s
 *
 * Where it goes (`output`, default 'auto'):
 * - in a Jupyter kernel (the course kernel): one display that is updated in place
 *   (display_data, then update_display_data with the same display_id) — the executed notebook keeps
 *   only the last state, and classic Notebook, JupyterLab and nbclient all update it;
 * - in a terminal (stderr is a TTY): one line rewritten with `\r`;
 * - otherwise (logs, CI, pipes): a plain line at most every `linesEveryMs` (default 10 s), and the last one.
 * The lib's training loops (fitSeq2Seq, the Transformer's and the ViT trainer's trainStep) report
 * through `stepProgress`, which is on in a Jupyter kernel only (the scripts print their own lines
 * with `Progress`); COURSE_PROGRESS=off silences it, =on also prints it in terminals.
 *
 * Browser-safe: reads `process` through globalThis (the site runs lib code in a browser, where it
 * stays silent).
 */

export type ProgressOutput = 'auto' | 'jupyter' | 'tty' | 'lines' | 'none';

export interface ProgressOptions {
  /** Number of units when done (steps, bytes); 0/undefined = unknown (no bar, no ETA). */
  total?: number;
  /** Text before the bar, e.g. "fit seq2seq (attention)". */
  label?: string;
  /** Plural unit name for counts and speed (default "steps"). */
  unit?: string;
  /** Formats a count (default: the integer; `formatBytes` for downloads). */
  format?: (n: number) => string;
  output?: ProgressOutput;
  /** Minimum time between two redraws in Jupyter / a terminal (default 500 / 100 ms). */
  redrawMs?: number;
  /** Minimum time between two plain lines (default 10 s). */
  linesEveryMs?: number;
  /** Where terminal and plain lines go (default process.stderr). */
  stream?: {write(s: string): unknown; isTTY?: boolean};
  /** Clock in ms (tests). */
  now?: () => number;
}

type Fields = Record<string, string | number | undefined>;

interface KernelHook { display(bundle: {data: Record<string, unknown>; metadata: object; transient: {display_id: string}}, update: boolean): boolean }

function kernel(): KernelHook | undefined {
  return (globalThis as {__courseKernel?: KernelHook}).__courseKernel;
}

function stderr(): {write(s: string): unknown; isTTY?: boolean} | undefined {
  return (globalThis as {process?: {stderr?: {write(s: string): unknown; isTTY?: boolean}}}).process?.stderr;
}

/** `1h02m`, `3m05s`, `42s`; `?` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

/** `71.3 MB` (decimal megabytes, as the download sizes are quoted). */
export function formatBytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The bar: `[=======>          ] 120/390` (just the count when the total is unknown). */
export function progressBar(done: number, total: number, width = 24, format: (n: number) => string = String): string {
  if (!(total > 0)) return format(done);
  const f = Math.max(0, Math.min(1, done / total));
  const n = Math.round(f * width);
  return `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? (n === width ? '=' : '>') : ''}${' '.repeat(width - n)}] ${format(done)}/${format(total)}`;
}

function fieldText(k: string, v: string | number): string {
  return typeof v === 'number' ? `${k} ${Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(4)}` : `${k} ${v}`;
}

function resolveOutput(o: ProgressOutput, stream?: {isTTY?: boolean}): Exclude<ProgressOutput, 'auto'> {
  if (o !== 'auto') return o;
  if (kernel()) return 'jupyter';
  return (stream ?? stderr())?.isTTY ? 'tty' : 'lines';
}

let displays = 0;

/** One progress line: `update(done, fields)` as work advances, `finish()` at the end. */
export class Progress {
  readonly total: number;
  private readonly out: Exclude<ProgressOutput, 'auto'>;
  private readonly t0: number;
  private readonly now: () => number;
  private readonly displayId: string;
  private count = 0;
  private start = 0;
  private fields: Fields = {};
  private lastDraw = -Infinity;
  private drawn = false;
  private dirty = false;
  private finished = false;

  constructor(private readonly o: ProgressOptions = {}) {
    this.total = o.total ?? 0;
    this.out = resolveOutput(o.output ?? 'auto', o.stream);
    this.now = o.now ?? (() => Date.now());
    this.t0 = this.now();
    this.displayId = `course-progress-${this.t0.toString(36)}-${++displays}`;
  }

  /** Counts from `done` on, e.g. a resumed download's bytes already on disk (they do not count for the speed). */
  startAt(done: number): this {
    this.count = this.start = done;
    return this;
  }

  /** `done` units so far (absolute), with extra fields such as `{loss: 0.43}`. */
  update(done: number, fields: Fields = {}): void {
    this.count = done;
    Object.assign(this.fields, fields);
    if (this.finished) return;
    const t = this.now();
    const every = this.out === 'lines' ? (this.o.linesEveryMs ?? 10_000) : (this.o.redrawMs ?? (this.out === 'jupyter' ? 500 : 100));
    this.dirty = true;
    if (t - this.lastDraw >= every) this.draw(t, false);
  }

  /** One more unit (or n). */
  tick(n = 1, fields: Fields = {}): void {
    this.update(this.count + n, fields);
  }

  /** Draws the final state (once) and ends a terminal line. */
  finish(fields: Fields = {}): void {
    if (this.finished) return;
    Object.assign(this.fields, fields);
    if (this.dirty || !this.drawn || Object.keys(fields).length > 0) this.draw(this.now(), true);
    else if (this.out === 'tty') (this.o.stream ?? stderr())?.write('\n');
    this.finished = true;
  }

  /** Units per second since the start. */
  rate(t = this.now()): number {
    const s = (t - this.t0) / 1000;
    return s > 0 ? (this.count - this.start) / s : 0;
  }

  /** The line as it would be drawn now. */
  text(t = this.now(), final = false): string {
    const unit = this.o.unit ?? 'steps', fmt = this.o.format ?? String;
    const parts = [`${this.o.label ? this.o.label + ' ' : ''}${this.total > 0 ? progressBar(this.count, this.total, 24, fmt) : `${fmt(this.count)}`} ${unit}`];
    for (const [k, v] of Object.entries(this.fields)) if (v !== undefined) parts.push(fieldText(k, v));
    const rate = this.rate(t), elapsed = (t - this.t0) / 1000;
    const speed = this.o.format ? `${fmt(rate)}/s` : `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} ${unit}/s`;
    if (this.count > this.start && elapsed >= 0.05) parts.push(speed);
    if (!final && this.total > 0 && this.count < this.total && rate > 0) parts.push(`ETA ${formatDuration((this.total - this.count) / rate)}`);
    else parts.push(formatDuration(elapsed));
    return parts.join(' | ');
  }

  private draw(t: number, final: boolean): void {
    this.lastDraw = t;
    this.dirty = false;
    const line = this.text(t, final);
    if (this.out === 'none') return;
    if (this.out === 'jupyter') {
      const k = kernel();
      if (k) k.display({data: {'text/plain': line}, metadata: {}, transient: {display_id: this.displayId}}, this.drawn);
    } else {
      const s = this.o.stream ?? stderr();
      if (!s) return;
      if (this.out === 'tty') s.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
      else s.write(line + '\n');
    }
    this.drawn = true;
  }
}

function envProgress(): string {
  const env = (globalThis as {process?: {env?: Record<string, string | undefined>}}).process?.env;
  return (env?.COURSE_PROGRESS ?? 'auto').trim().toLowerCase();
}

/** Where the lib's own training loops report: a Jupyter kernel only, unless COURSE_PROGRESS says otherwise. */
export function libProgressOutput(): ProgressOutput {
  const e = envProgress();
  if (e === 'off' || e === '0' || e === 'none') return 'none';
  if (e === 'on' || e === '1') return 'auto';
  return kernel() ? 'jupyter' : 'none';
}

interface Tracked { bar: Progress; last: number; lossEma: number; step: number; key: object }
const tracked = new WeakMap<object, Tracked>();

/**
 * Progress of a training loop that the lib sees one step at a time (a trainStep called by chapter
 * code). `run` identifies the run (the optimizer, the trainer); a new bar starts for a new run, when
 * `step` goes back to 0, or after 60 s without a step. The loss shown is an exponential moving
 * average (0.9) of the step losses.
 */
export function stepProgress(run: object, s: {step?: number; total?: number; loss: number; label?: string; unit?: string}): void {
  const output = libProgressOutput();
  if (output === 'none') return;
  let t = tracked.get(run);
  const now = Date.now();
  const step = s.step ?? (t ? t.step + 1 : 1);
  if (!t || step <= t.step || now - t.last > 60_000 || (s.total ?? 0) !== t.bar.total) {
    t?.bar.finish();
    t = {bar: new Progress({total: s.total, label: s.label ?? 'training', unit: s.unit, output}), last: now, lossEma: NaN, step: 0, key: run};
    t.bar.startAt(step - 1);
    tracked.set(run, t);
  }
  t.lossEma = Number.isNaN(t.lossEma) ? s.loss : 0.9 * t.lossEma + 0.1 * s.loss;
  t.step = step;
  t.last = now;
  t.bar.update(step, {loss: t.lossEma});
  if (s.total && step >= s.total) {
    t.bar.finish();
    tracked.delete(run);
  }
}

/** An `onProgress(received, total)` for downloads (lib/data/download.ts): one bar in MB with MB/s and ETA. */
export function downloadProgress(label = 'downloading', o: Omit<ProgressOptions, 'total' | 'label' | 'unit' | 'format'> = {}): (received: number, total: number) => void {
  let bar: Progress | undefined;
  return (received, total) => {
    if (!bar || bar.total !== total) bar = new Progress({...o, total, label, unit: '', format: formatBytes}).startAt(received);
    bar.update(received);
    if (total > 0 && received >= total) bar.finish();
  };
}
