/**
 * Cross-references a learner can follow. The chapters' headings are numbered `N.M` (and
 * `Appendix N.A`); every `§N.M` in lib/ comments and in the chapters (markdown and code comments)
 * must name a heading that exists, "Chapter K §N.M" needs K = N, and the text must not point at
 * things a learner cannot open: bare section numbers ("section 8", "§5"), the project's issue
 * numbers, or files outside the repository.
 */
import {describe, expect, it} from 'vitest';
import {CHAPTERS, codeComments, headings, markdownCells, tsComments, tsFiles} from './chapter-text';

/** Paths on the machine that wrote a file, and the course's source folder beside the repository. */
const OUTSIDE_FOR_LEARNERS = /(?:^|[\s(`'"])((?:\/work|\/tmp|\/home|\/root|~)\/[^\s`'")]*|\.\.\/shared\/[^\s`'")]*)/g;
/** In lib/ comments only absolute paths count: lib documents where it searches for data (../shared, ~/.cache). */
const ABSOLUTE_PATHS = /(?:^|[\s(`'"])((?:\/work|\/tmp|\/home|\/root)\/[^\s`'")]*)/g;

const HEADINGS = new Map(CHAPTERS.map((c, i) => [i + 1, headings(c)]));

/** Problems with the references in one piece of text (`where` names it in the messages). */
export function checkReferences(where: string, text: string, o: {outside?: RegExp} = {}): string[] {
  const problems: string[] = [];
  const exists = (id: string) => HEADINGS.get(Number(id.split('.')[0]))?.has(id) ?? false;
  // §N.M, §N.M–N.K and §N.M–K (ranges): every end must be a heading
  for (const m of text.matchAll(/§\s*(\d+)\.(\d+|[A-Z])(?:\s*[–-]\s*(?:(\d+)\.)?(\d+|[A-Z])\b)?/g)) {
    const ids = [`${m[1]}.${m[2]}`];
    if (m[4]) ids.push(`${m[3] ?? m[1]}.${m[4]}`);
    for (const id of ids) if (!exists(id)) problems.push(`${where}: "${m[0]}" — no heading ${id} in chapter ${m[1]}`);
  }
  for (const m of text.matchAll(/[Cc]hapter\s+(\d+),?\s+§\s*(\d+)\./g)) {
    if (m[1] !== m[2]) problems.push(`${where}: "${m[0]}" — §${m[2]}.x is in chapter ${m[2]}, not ${m[1]}`);
  }
  for (const m of text.matchAll(/[Cc]hapters?\s+(\d+)/g)) {
    if (!HEADINGS.has(Number(m[1]))) problems.push(`${where}: "${m[0]}" — the course has chapters 1–${CHAPTERS.length}`);
  }
  for (const m of text.matchAll(/§\s*(?!\d+\.(?:\d|[A-Z]\b))[^\s|]{1,20}/g)) {
    problems.push(`${where}: "${m[0]}" — write §N.M with the heading's number`);
  }
  for (const m of text.matchAll(/\b[Ss]ections?\s+\d[\d.]*(?!\d)(?![\d.]*\s+of\s+the\s+paper)/g)) {
    problems.push(`${where}: "${m[0]}" — refer to a heading as §N.M ("section N of the paper" for a paper)`);
  }
  for (const m of text.matchAll(/\b[Ii]ssues?\s*#?\d+|(?<![\w&/#])#\d+\b(?![\w-])/g)) {
    problems.push(`${where}: "${m[0]}" — an issue number is no reference a learner can follow`);
  }
  for (const m of text.matchAll(o.outside ?? OUTSIDE_FOR_LEARNERS)) {
    problems.push(`${where}: "${m[1]}" — a file outside the repository`);
  }
  return problems;
}

describe('chapter headings', () => {
  it.each(CHAPTERS.map((c, i) => [c, i + 1] as const))('%s: every ## heading is numbered N.M in order (or is the Summary / an appendix)', (chapter, n) => {
    const h2 = markdownCells(chapter).flatMap(c => [...c.text.matchAll(/^## (?!#)([^\n]*)/gm)].map(m => m[1]!.trim()));
    const numbered = h2.filter(t => /^\d/.test(t));
    const bad = h2.filter(t => !/^\d+\.\d+ /.test(t) && t !== 'Summary' && !/^Appendix \d+\.[A-Z] /.test(t));
    expect(bad, `${chapter}: headings must read "## ${n}.M Title", "## Summary" or "## Appendix ${n}.A Title"`).toEqual([]);
    expect(numbered.map(t => t.split(' ')[0]), `${chapter}: sections numbered ${n}.1, ${n}.2, … in order`)
      .toEqual(numbered.map((_, i) => `${n}.${i + 1}`));
    const appendices = h2.filter(t => t.startsWith('Appendix')).map(t => t.split(' ')[1]);
    expect(appendices, `${chapter}: appendices lettered ${n}.A, ${n}.B, … in order`)
      .toEqual(appendices.map((_, i) => `${n}.${String.fromCharCode(65 + i)}`));
  });
});

describe('cross-references', () => {
  it('the checker finds the mistakes it is meant to find', () => {
    const bad = ['see §1.99', 'Chapter 2 §3.1', 'Chapter 9', '§Data', '§5', 'section 8', 'as issue 8 asks', 'see #14',
      '/work/shared/sources/x.md', '../shared/SOURCES.md', '§1.1–1.99'];
    for (const b of bad) expect(checkReferences('x', b), b).toHaveLength(1);
    expect(checkReferences('x', 'Chapter 1 §1.1–1.2, §2.3, section 3.4 of the paper, chapter 4, colour #4c78a8')).toEqual([]);
  });

  it('every reference in lib/ comments points at a heading that exists', () => {
    const problems = tsFiles('lib').flatMap(f => checkReferences(f, tsComments(f), {outside: ABSOLUTE_PATHS}));
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it.each(CHAPTERS)('every reference in chapters/%s.ipynb (markdown and code comments) resolves', chapter => {
    const problems = [...markdownCells(chapter), ...codeComments(chapter)]
      .flatMap(c => checkReferences(`chapters/${chapter}.ipynb cell ${c.cell}`, c.text));
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
