/**
 * `npm run train` / `npm run eval` under faults and bad input (#23): a kill between the metrics
 * append and the checkpoint, stale temp files, divergence with and without a checkpoint, a NaN test
 * loss, a full disk (a real one: a 200 KB tmpfs in a private mount namespace), an unreadable data
 * folder, and the argument checks (positionals, fixed options on --resume, --limit-train kept in
 * the checkpoint, bad --limit-test values). Runs the real CLIs on a tiny CIFAR-format folder.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {CHECKPOINT_FORMAT, loadCheckpoint} from '../../lib/io/checkpoint';
import {parseSafetensors, serializeSafetensors} from '../../lib/io/safetensors';
import {writeTinyFolder} from '../data/cifar-fixture';

const ROOT = resolve(__dirname, '../..');
let data: string;
let straight: string | undefined; // an uninterrupted 3-epoch run, the reference of the fault tests

function run(script: 'train' | 'eval' | 'data' | 'export-model', args: string[], o: {preload?: string; env?: Record<string, string>; wrap?: string[]} = {}) {
  const node = [process.execPath, ...(o.preload ? ['--require', join(__dirname, o.preload)] : []), '--import', 'tsx', join(ROOT, `scripts/${script}.ts`), ...args];
  const cmd = [...(o.wrap ?? []), ...node];
  const r = spawnSync(cmd[0]!, cmd.slice(1), {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'cpu', ...o.env}, timeout: 180_000});
  return {status: r.status, signal: r.signal, out: r.stdout + r.stderr};
}

const base = (dir: string, epochs = 3) => ['--config', 'tiny', '--data-dir', data, '--run-dir', dir, '--batch-size', '8', '--epochs', String(epochs), '--log-every', '3'];
const records = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const TIMING = ['trainSeconds', 'imgPerSec', 'evalSeconds', 'elapsedSeconds', 'loadAverage']; // when and on how busy a machine
const withoutTiming = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.includes(k)));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(() => {
  data = writeTinyFolder(mkdtempSync(join(tmpdir(), 'cifar-tiny-')), 12); // 60 train images: 7 steps of 8 per epoch; 12 test
});

describe('npm run train under faults', () => {
  it('a kill between the metrics append and the checkpoint leaves each step and epoch once, and the run bit-identical', async () => {
    const a = mkdtempSync(join(tmpdir(), 'run-a-')), b = mkdtempSync(join(tmpdir(), 'run-b-'));
    const ok = run('train', base(a));
    expect(ok.status, ok.out).toBe(0);
    straight = a;
    // killed right after epoch 2's record was appended: the checkpoint still says "end of epoch 1"
    const killed = run('train', base(b), {preload: 'kill-after-log.cjs', env: {KILL_AFTER_EPOCH_RECORD: '2'}});
    expect(killed.signal, killed.out).toBe('SIGKILL');
    expect(records(b).filter((r) => r.type === 'epoch').map((r) => r.epoch)).toEqual([1, 2]);
    expect((await loadCheckpoint(join(b, 'last.safetensors'))).meta.position).toMatchObject({epoch: 1, batch: 0, step: 7});
    // exporting that checkpoint ships the log up to it only
    const exp = run('export-model', [join(b, 'last.safetensors'), '--out', join(b, 'export'), '--data-dir', data]);
    expect(exp.status, exp.out).toBe(0);
    expect(exp.out).toMatch(/left out 3 records of .*metrics\.jsonl written after the checkpoint/);
    expect(records(join(b, 'export')).filter((r) => r.type === 'epoch').map((r) => r.epoch)).toEqual([1]);
    const resumed = run('train', [...base(b), '--resume']);
    expect(resumed.status, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/dropped 3 records of .*metrics\.jsonl written after the checkpoint/); // steps 9, 12 and epoch 2
    const ra = records(a), rb = records(b);
    expect(rb.filter((r) => r.type === 'epoch').map((r) => r.epoch)).toEqual([1, 2, 3]);
    const steps = rb.filter((r) => r.type === 'step').map((r) => r.step);
    expect(steps).toEqual([...new Set(steps)]);
    expect(rb.map(withoutTiming)).toEqual(ra.map(withoutTiming)); // the same log, record for record
    const ca = await loadCheckpoint(join(a, 'last.safetensors')), cb = await loadCheckpoint(join(b, 'last.safetensors'));
    for (const n of Object.keys(ca.params)) expect(Buffer.from(cb.params[n]!.data.buffer).equals(Buffer.from(ca.params[n]!.data.buffer)), n).toBe(true);
    for (const n of Object.keys(ca.optimizer!.m)) expect(Buffer.from(cb.optimizer!.v[n]!.buffer).equals(Buffer.from(ca.optimizer!.v[n]!.buffer)), n).toBe(true);
  }, 300_000);

  it('removes stale last.safetensors.tmp-<pid> files (0 bytes or complete) of processes that are gone', () => {
    const a = mkdtempSync(join(tmpdir(), 'run-tmp-'));
    expect(run('train', [...base(a, 1), '--stop-after-batches', '2']).status).toBe(0);
    writeFileSync(join(a, 'last.safetensors.tmp-999999999'), '');
    writeFileSync(join(a, 'last.safetensors.tmp-999999998'), readFileSync(join(a, 'last.safetensors')));
    writeFileSync(join(a, `last.safetensors.tmp-${process.pid}`), 'a live writer: kept');
    const r = run('train', [...base(a, 1), '--resume']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/removed .*last\.safetensors\.tmp-999999999, left by an interrupted checkpoint write/);
    expect(readdirSync(a).filter((f) => f.includes('.tmp-')).sort()).toEqual([`last.safetensors.tmp-${process.pid}`]);
  }, 120_000);

  it('divergence says when no checkpoint exists yet', () => {
    const a = mkdtempSync(join(tmpdir(), 'run-div-'));
    const r = run('train', [...base(a, 2), '--lr', '1e38']);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/training diverged at step \d+ \(loss NaN\); no checkpoint was saved yet/);
    expect(existsSync(join(a, 'last.safetensors'))).toBe(false);
  }, 120_000);

  it('a NaN test loss is a divergence: the epoch is not saved, and eval on a NaN checkpoint exits non-zero', async () => {
    const a = mkdtempSync(join(tmpdir(), 'run-nan-'));
    // stop after the last batch of epoch 1: resuming goes straight to that epoch's evaluation
    expect(run('train', [...base(a, 2), '--stop-after-batches', '7']).status).toBe(0);
    const file = join(a, 'last.safetensors');
    const {tensors, metadata} = parseSafetensors(readFileSync(file));
    tensors['head.weight']!.data.fill(NaN);
    writeFileSync(file, serializeSafetensors(Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, {shape: t.shape, data: t.data}])), metadata));
    const before = sha(file);
    const r = run('train', [...base(a, 2), '--resume']);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/training diverged: the test loss after epoch 1 is NaN .*this epoch is not saved; the last good checkpoint is/);
    expect(sha(file)).toBe(before);
    expect(existsSync(join(a, 'metrics.jsonl')) ? records(a).filter((x) => x.type === 'epoch') : []).toEqual([]);
    const ev = run('eval', [file, '--data-dir', data]);
    expect(ev.status).not.toBe(0);
    expect(ev.out).toMatch(/non-finite weights/);
    expect(metadata.format).toBe(CHECKPOINT_FORMAT);
  }, 180_000);

  const canUnshare = spawnSync('unshare', ['-rm', 'true']).status === 0;
  it.runIf(canUnshare)('a full disk is an error naming the file; the previous checkpoint survives and the resumed run is bit-identical', async () => {
    // a 500 KB tmpfs in a private mount namespace: the first checkpoint (300 KB) fits, the second one's temp file does not
    const out = mkdtempSync(join(tmpdir(), 'run-full-'));
    const args = (dir: string) => base(dir).map((x) => `'${x}'`).join(' ');
    const script = [
      'd=$(mktemp -d)', 'mount -t tmpfs -o size=500k none "$d" || exit 99',
      `"${process.execPath}" --import tsx scripts/train.ts ${args('$d/run').replace("'$d/run'", '"$d/run"')} 2>&1; echo "exit=$?"`,
      'ls "$d/run"', 'cp "$d/run/last.safetensors" "$OUT/after-full.safetensors"',
      'mount -o remount,size=4m "$d"',                                    // space freed
      `"${process.execPath}" --import tsx scripts/train.ts ${args('$d/run').replace("'$d/run'", '"$d/run"')} --resume 2>&1; echo "exit=$?"`,
      'cp "$d/run/last.safetensors" "$d/run/metrics.jsonl" "$OUT/"',
    ].join('\n');
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], {cwd: ROOT, encoding: 'utf8', env: {...process.env, COURSE_BACKEND: 'cpu', OUT: out}, timeout: 240_000});
    const text = r.stdout + r.stderr;
    expect(text).toMatch(/\[train\] error: cannot write \/\S+\/run\/last\.safetensors \(300,\d{3} bytes\): the disk is full \(ENOSPC\); the previous version of the file, if any, is unchanged\nexit=1/);
    expect(text).not.toMatch(/last\.safetensors\.tmp-/); // no half-written temp file left behind
    expect((await loadCheckpoint(join(out, 'after-full.safetensors'))).meta.position).toMatchObject({epoch: 1, batch: 0});
    expect(text).toMatch(/exit=0/);
    if (!straight) return;
    expect(records(out).map(withoutTiming)).toEqual(records(straight).map(withoutTiming));
    const ca = await loadCheckpoint(join(straight, 'last.safetensors')), cb = await loadCheckpoint(join(out, 'last.safetensors'));
    for (const n of Object.keys(ca.params)) expect(Buffer.from(cb.params[n]!.data.buffer).equals(Buffer.from(ca.params[n]!.data.buffer)), n).toBe(true);
  }, 300_000);
});

describe('npm run train: arguments', () => {
  it('refuses positional arguments and bad --limit-test values with a clear message (exit 2)', () => {
    const p = run('train', ['tiny', '--epochs', '1']);
    expect(p.status).toBe(2);
    expect(p.out).toMatch(/unexpected argument "tiny": this command takes options only .*--config tiny/);
    for (const [v, msg] of [['0', /--limit-test needs a whole number >= 1 \(got "0"\)/], ['0x10', /--limit-test needs a whole number >= 1 \(got "0x10"\)/],
      ['-5', /option --limit-test needs a value/], ['1e3', /needs a whole number/]] as const) {
      const r = run('train', ['--config', 'tiny', '--data-dir', data, '--limit-test', v]);
      expect(r.status, v).toBe(2);
      expect(r.out, v).toMatch(msg);
    }
    const eq = run('train', ['--config', 'tiny', '--data-dir', data, '--limit-test=-5']);
    expect(eq.out).toMatch(/--limit-test needs a whole number >= 1 \(got "-5"\)/);
    const help = run('train', ['--help']);
    expect(help.status).toBe(0);
    for (const o of ['--config NAME', '--limit-train N', '--micro-batch N', '--lr X', '--resume']) expect(help.out).toContain(o);
  }, 120_000);

  it('--resume refuses a changed --lr/--batch-size/--seed/--limit-train, and keeps the stored --limit-train', () => {
    const a = mkdtempSync(join(tmpdir(), 'run-args-'));
    const first = run('train', [...base(a, 2), '--limit-train', '40', '--stop-after-batches', '2']);
    expect(first.status, first.out).toBe(0);
    expect(first.out).toMatch(/train 40 \(--limit-train 40\)/);
    for (const [o, v, was] of [['--lr', '0.01', '0.001'], ['--batch-size', '16', '8'], ['--seed', '3', '0'], ['--limit-train', '60', '40']]) {
      const r = run('train', [...base(a, 2).filter((x, i, all) => x !== o && all[i - 1] !== o), o!, v!, '--resume']);
      expect(r.status, r.out).toBe(2);
      expect(r.out).toContain(`${o} ${v} differs from its ${was}`);
      expect(r.out).toMatch(/start a new run with another --run-dir/);
    }
    const resumed = run('train', [...base(a, 2), '--resume']);
    expect(resumed.status, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/train 40 \(--limit-train 40\)/); // the stored subset, not all 60 images
    expect(resumed.out).toMatch(/5 steps of 8/);
  }, 180_000);

  const dropRoot = process.getuid?.() === 0 && spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;
  it.runIf(process.getuid?.() !== 0 || dropRoot)('an unreadable data folder is reported as a permission problem', () => {
    const top = mkdtempSync(join(tmpdir(), 'locked-'));
    chmodSync(top, 0o755);
    const locked = writeTinyFolder(join(top, 'cifar-10-batches-bin'), 2);
    chmodSync(locked, 0o000);
    const r = run('data', ['--dir', locked, '--no-download', '--cache-dir', join(top, 'cache')], {wrap: dropRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []});
    chmodSync(locked, 0o755);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/cifar-10-batches-bin: no permission to read this folder \(EACCES\)/);
    expect(r.out).not.toMatch(/holds neither/);
    expect(statSync(locked).isDirectory()).toBe(true);
  }, 60_000);
});

