/** What grading writes: Gradescope results.json, JUnit XML, student feedback (markdown), gradebook CSV. */
import {GradeResult, GradedTest} from './grader';

/** What a student may see of a test: hidden tests say only how they failed, never the assertion. */
export function studentOutput(t: GradedTest): string {
  if (t.status === 'passed') return 'passed';
  if (t.visibility === 'visible') return t.output;
  const why = t.kind === 'timeout' ? 'it timed out (an infinite loop or very slow code?)'
    : t.kind === 'crash' ? 'the test process ended during it (process.exit or a crash?)'
    : t.kind === 'import' ? 'the code it tests could not be loaded'
    : t.kind === 'not-run' ? `it did not run (${t.output.split('\n')[0]!.replace(/^not run: /, '').slice(0, 200)})`
    : /not implemented: /.test(t.output) ? 'the exercise is not implemented yet'
    : /does not compile/.test(t.output) ? t.output.split('\n\n')[0]!
    : 'a hidden check failed';
  return `hidden test failed: ${why}`;
}

export function gradescopeResults(r: GradeResult, hiddenVisibility = 'after_published') {
  const lines = [
    `${r.title}: ${r.score} / ${r.maxScore}`,
    ...r.exercises.map((e) => `  ${e.name}: ${e.score} / ${e.maxScore}`),
    ...r.unavailable.map((u) => `  ${u}: not graded in this version of the course (exercise unavailable)`),
    ...r.missing.map((m) => `missing from the submission: ${m} (the starter's stub was graded)`),
    ...r.notes,
  ];
  return {
    score: r.score,
    max_score: r.maxScore,
    output: lines.join('\n'),
    visibility: 'visible',
    stdout_visibility: 'hidden',
    execution_time: Math.round(r.ms / 1000),
    tests: [...r.tests.map((t, i) => ({
      name: `${t.exercise}: ${t.name}`,
      number: String(i + 1),
      score: t.score,
      max_score: t.maxScore,
      status: t.status,
      visibility: t.visibility === 'visible' ? 'visible' : hiddenVisibility,
      output: studentOutput(t),
      tags: [t.exercise, t.visibility],
    })), reviewEntry(r, r.tests.length + 1)],
  };
}

/** For the teacher only (Gradescope shows hidden tests to instructors): the sandbox and what it observed. */
function reviewEntry(r: GradeResult, n: number) {
  return {
    name: 'Grader review (for the teacher; not scored)',
    number: String(n),
    score: 0,
    max_score: 0,
    status: 'passed',
    visibility: 'hidden',
    output: reviewText(r),
    tags: ['grader-review'],
  };
}

/** The teacher's review lines of one submission: sandbox status, then every flag. */
export function reviewText(r: GradeResult): string {
  return [`sandbox: ${r.sandbox}`, ...(r.flags.length ? r.flags.map((f) => `- ${f}`) : ['nothing unusual was observed'])].join('\n');
}

/** The class review for the teacher (markdown): sandbox status and flags per student. */
export function reviewMarkdown(results: GradeResult[]): string {
  const md = ['# Grader review (for the teacher)', ''];
  const unsandboxed = results.filter((r) => r.sandbox !== 'bubblewrap');
  if (unsandboxed.length) md.push(`**Not sandboxed** (${unsandboxed.length} of ${results.length}): ${unsandboxed[0]!.sandbox}. The student code ran in a plain child process with the grader's rights; grade untrusted work where bubblewrap runs.`, '');
  else if (results.length) md.push('Every submission ran in the bubblewrap sandbox (no network, read-only files, its own processes, resource limits).', '');
  for (const r of results) {
    md.push(`## ${r.student}: ${r.score} / ${r.maxScore}`, '');
    md.push(...(r.flags.length ? r.flags.map((f) => `- ${f}`) : ['- nothing unusual was observed']), '');
  }
  return md.join('\n');
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'}[c]!))
  // eslint-disable-next-line no-control-regex
  .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

/** JUnit XML (teacher side: full failure text, hidden tests included). */
export function junitXml(r: GradeResult): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(`${r.assignment} ${r.student}`)}" tests="${r.tests.length}" failures="${r.tests.filter((t) => t.status === 'failed').length}" time="${(r.ms / 1000).toFixed(3)}">`];
  for (const e of r.exercises) {
    const ts = r.tests.filter((t) => t.exercise === e.name);
    out.push(`  <testsuite name="${xml(`${r.assignment}.${e.name}`)}" tests="${ts.length}" failures="${ts.filter((t) => t.status === 'failed').length}" time="${(ts.reduce((s, t) => s + t.ms, 0) / 1000).toFixed(3)}">`);
    out.push(`    <properties><property name="score" value="${e.score}"/><property name="max_score" value="${e.maxScore}"/><property name="sandbox" value="${xml(r.sandbox)}"/>${r.flags.map((f) => `<property name="flag" value="${xml(f)}"/>`).join('')}</properties>`);
    for (const t of ts) {
      const head = `    <testcase classname="${xml(`${r.assignment}.${e.name}.${t.visibility}`)}" name="${xml(t.name)}" file="${xml(t.file)}" time="${(t.ms / 1000).toFixed(3)}"`;
      if (t.status === 'passed') out.push(`${head}/>`);
      else out.push(`${head}>`, `      <failure message="${xml(t.output.split('\n')[0] ?? 'failed')}" type="${t.kind ?? 'assertion'}">${xml(t.output)}</failure>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** Per-student feedback in markdown. */
export function feedbackMarkdown(r: GradeResult): string {
  const md: string[] = [`# ${r.title} — feedback for ${r.student}`, '', `**Score: ${r.score} / ${r.maxScore}**`, '',
    '| exercise | points |', '| --- | --- |', ...r.exercises.map((e) => `| \`${e.name}\` ${e.title} | ${e.score} / ${e.maxScore} |`), ''];
  if (r.unavailable.length) md.push(`Not graded (exercise unavailable in this version of the course): ${r.unavailable.map((u) => `\`${u}\``).join(', ')}.`, '');
  if (r.missing.length) md.push(`Missing from your submission (the starter's stub was graded instead): ${r.missing.map((m) => `\`${m}\``).join(', ')}.`, '');
  for (const [f, errs] of Object.entries(r.syntaxErrors)) md.push(`## \`${f}\` does not compile`, '', '```', ...errs, '```', '');
  for (const e of r.exercises) {
    md.push(`## ${e.title} (\`${e.name}\`): ${e.score} / ${e.maxScore}`, '');
    for (const t of r.tests.filter((x) => x.exercise === e.name)) {
      md.push(`- ${t.status === 'passed' ? '✅' : '❌'} ${t.visibility === 'hidden' ? '(hidden) ' : ''}${t.name} — ${t.score} / ${t.maxScore}`);
      if (t.status === 'failed') md.push('', '  ```', ...studentOutput(t).split('\n').slice(0, 20).map((l) => `  ${l}`), '  ```', '');
    }
    md.push('');
  }
  if (r.notes.length) md.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return md.join('\n');
}

const csvCell = (v: string | number) => {
  const s = String(v);
  // quote, and defuse spreadsheet formulas in student-controlled cells
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** The class gradebook: one row per student, a column per exercise, flags for review. */
export function gradebookCsv(results: GradeResult[]): string {
  if (results.length === 0) return 'student,score,max_score\n';
  const exNames = results[0]!.exercises.map((e) => e.name);
  const rows = [['student', 'score', 'max_score', ...exNames, 'missing_files', 'flags', 'sandbox', 'source']];
  for (const r of results) {
    rows.push([r.student, String(r.score), String(r.maxScore), ...exNames.map((n) => String(r.exercises.find((e) => e.name === n)?.score ?? 0)),
      r.missing.join('; '), r.flags.join('; '), r.sandbox, r.source]);
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}
