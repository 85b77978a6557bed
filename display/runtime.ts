/**
 * The expected running time of a chapter in both modes, from measured runs recorded in
 * site/full-runs/run-times.json (seconds, the machine, and the command that measured them).
 * Printed by each chapter's first cell; the chapter's last cell prints the time of this run.
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {repoRoot} from '../lib/data/cifar';

export interface RunTime { quick: number; full: number; machine: string; measured: string }

export function readRunTimes(root = repoRoot()): Record<string, RunTime> {
  return JSON.parse(readFileSync(join(root, 'site', 'full-runs', 'run-times.json'), 'utf8')).chapters;
}

/** "12 s", "4.5 min" */
export function fmtDuration(seconds: number): string {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(seconds < 600 ? 1 : 0)} min`;
}

/** One line: the chapter's measured time in quick and in full mode, and how to switch. */
export function expectedRunTime(chapter: string, root = repoRoot()): string {
  const t = readRunTimes(root)[chapter];
  if (!t) return `no measured running time for ${chapter} in site/full-runs/run-times.json`;
  return `expected running time: quick mode ${fmtDuration(t.quick)}, full mode ${fmtDuration(t.full)} ` +
    `(measured ${t.measured} on ${t.machine}); switch with process.env.COURSE_MODE = 'quick' or 'full'`;
}
