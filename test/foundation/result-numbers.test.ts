/**
 * Every number with a unit in a chapter's markdown (%, s, ms, min, ×, img/s, nats, …) must be
 * backed by an output: it appears in the chapter's committed full-mode run
 * (site/full-runs/<chapter>.ipynb), or it is a number cited from a source or paper and listed,
 * with its citation, in test/foundation/cited-numbers.json. Results are printed by the cells that
 * measure them, never typed into the prose.
 *
 * A chapter without a committed full-mode run counts as having no outputs: then every such number
 * in its markdown must be cited (or moved into a cell's output and the full run committed).
 */
import {readFileSync} from 'node:fs';
import {join, relative} from 'node:path';
import {describe, expect, it} from 'vitest';
import {CHAPTERS, fullRunOutputs, fullRunPath, markdownCells, ROOT} from './chapter-text';

interface Cited { chapter: string; number: string; unit: string; source: string }

const CITED_FILE = 'test/foundation/cited-numbers.json';
const cited: Cited[] = JSON.parse(readFileSync(join(ROOT, CITED_FILE), 'utf8')).numbers;

const SEP = '[, \\u00a0\\u2009\\u202f]';          // thousands separators: comma, (thin / narrow no-break) space
const NUM = `\\d{1,3}(?:${SEP}\\d{3})+(?:\\.\\d+)?|\\d+(?:\\.\\d+)?`;
const UNIT = String.raw`%|\\%|×(?!\s*\d)|x\b|(?:img|images|tokens|examples|steps)\s*/\s*s\b|ms\b|min\b|s\b|nats?\b`;
/** "538 s", "99.8 %", "1.6–1.7×", "2 500 img/s": the numbers (both ends of a range) and the unit. */
const WITH_UNIT = new RegExp(`(?<![\\w.$^_{])(${NUM})(?:\\s*[–-]\\s*(${NUM}))?[ \\u00a0\\u2009\\u202f]?(${UNIT})`, 'g');

const value = (s: string) => Number(s.replace(new RegExp(SEP, 'g'), ''));

/** Numbers with a unit in markdown, without LaTeX display/inline maths and code spans. */
export function numbersWithUnits(md: string): {text: string; numbers: number[]; unit: string}[] {
  const prose = md.replace(/\$\$[\s\S]*?\$\$/g, ' ').replace(/`[^`]*`/g, ' ');
  return [...prose.matchAll(WITH_UNIT)].map(m => ({
    text: m[0]!, unit: m[3]!.replace(/\s/g, ''),
    numbers: [m[1]!, m[2]].filter((x): x is string => !!x).map(value),
  }));
}

/** Every number that appears in a run's outputs (with and without thousands separators). */
export function numbersIn(outputs: string): Set<number> {
  const out = new Set<number>();
  for (const m of outputs.matchAll(new RegExp(NUM, 'g'))) {
    out.add(value(m[0]!));
    for (const part of m[0]!.split(new RegExp(SEP))) out.add(Number(part)); // "1,2" is also a list
  }
  return out;
}

describe('result numbers in the chapters', () => {
  it('the pattern finds numbers with units and leaves formulas and code alone', () => {
    const found = numbersWithUnits('reached 99.8 % in 538 s (215 ms per step), 1.6–1.7× cheaper, ' +
      '2 500 img/s, 3.5 nats, 4x faster; $e^{22}$, $$x = 5 s$$, `lr 3e-3`, 32×32 px, 64 steps');
    expect(found.map(f => [f.numbers, f.unit])).toEqual([
      [[99.8], '%'], [[538], 's'], [[215], 'ms'], [[1.6, 1.7], '×'], [[2500], 'img/s'], [[3.5], 'nats'], [[4], 'x'],
    ]);
    expect([...numbersIn('exact match 99.80 % on 1,000 dates')]).toEqual(expect.arrayContaining([99.8, 1000]));
  });

  it('every cited number names its source', () => {
    for (const c of cited) {
      expect(CHAPTERS, JSON.stringify(c)).toContain(c.chapter);
      expect(c.source.length, `${JSON.stringify(c)}: cite the paper/source (author, year, table/section)`).toBeGreaterThan(15);
    }
  });

  it.each(CHAPTERS)('%s: every number with a unit in the markdown is in the committed full-mode outputs or cited', chapter => {
    const outputs = fullRunOutputs(chapter);
    const seen = numbersIn(outputs ?? '');
    const citedHere = new Set(cited.filter(c => c.chapter === chapter).map(c => value(c.number)));
    const run = relative(ROOT, fullRunPath(chapter));
    const problems = markdownCells(chapter).flatMap(({cell, text}) => numbersWithUnits(text)
      .filter(f => f.numbers.some(n => !seen.has(n) && !citedHere.has(n)))
      .map(f => `chapters/${chapter}.ipynb cell ${cell}: "${f.text}"`));
    const why = outputs === null
      ? `${run} does not exist yet, so this chapter has no committed outputs to back these numbers. Print them ` +
        'from the cell that measures them (remove them from the markdown), then commit the full-mode run: ' +
        `COURSE_MODE=full npm run execute -- --out site/full-runs chapters/${chapter}.ipynb`
      : `these numbers appear neither in the outputs of ${run} nor in ${CITED_FILE}: print them from the cell ` +
        'that measures them (and re-commit the full-mode run), or cite the source they come from';
    expect(problems, `${why}\n${problems.join('\n')}`).toEqual([]);
  });
});
