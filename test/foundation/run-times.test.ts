/**
 * The running times each chapter's first cell prints (display/runtime.ts) come from measured runs:
 * site/full-runs/run-times.json, whose full-mode time must equal the committed full run's own
 * execution time (metadata.course.execution_seconds, written by scripts/run_notebooks.py).
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {expectedRunTime, fmtDuration, readRunTimes} from '../../display/runtime';
import {CHAPTERS, fullRunPath, ROOT} from './chapter-text';

describe('expected running times', () => {
  it('formats seconds and minutes', () => {
    expect(fmtDuration(42.4)).toBe('42 s');
    expect(fmtDuration(125)).toBe('2.1 min');
    expect(fmtDuration(1096)).toBe('18 min');
  });

  it('prints both modes and the switch, and says when a chapter has no measurement', () => {
    const root = mkdtempSync(join(tmpdir(), 'runtimes-'));
    mkdirSync(join(root, 'site', 'full-runs'), {recursive: true});
    writeFileSync(join(root, 'site', 'full-runs', 'run-times.json'), JSON.stringify({chapters: {
      '09-x': {quick: 40, full: 650, machine: 'a test machine', measured: '2026-12-01'}}}));
    expect(expectedRunTime('09-x', root)).toBe('expected running time: quick mode 40 s, full mode 11 min ' +
      "(measured 2026-12-01 on a test machine); switch with process.env.COURSE_MODE = 'quick' or 'full'");
    expect(expectedRunTime('10-y', root)).toMatch(/no measured running time for 10-y/);
  });

  it.each(CHAPTERS)('%s: a committed full run and its recorded full-mode time agree', chapter => {
    const times = readRunTimes(ROOT);
    const run = fullRunPath(chapter);
    if (!existsSync(run)) {
      expect(times[chapter], `${chapter} has no committed full run, so run-times.json cannot have its time`)
        .toBeUndefined();
      return;
    }
    const seconds = JSON.parse(readFileSync(run, 'utf8')).metadata?.course?.execution_seconds;
    expect(seconds, `${run} has no metadata.course.execution_seconds`).toBeGreaterThan(0);
    expect(times[chapter], `site/full-runs/run-times.json has no entry for ${chapter}`).toBeDefined();
    expect(Math.abs(times[chapter]!.full - seconds), 'full-mode time in run-times.json vs the committed run')
      .toBeLessThanOrEqual(1);
    expect(times[chapter]!.quick).toBeGreaterThan(0);
    expect(times[chapter]!.quick).toBeLessThan(times[chapter]!.full);
  });
});
