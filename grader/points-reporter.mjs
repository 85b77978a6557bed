// `npm test` in a student starter: after the normal vitest output, a table of points per exercise
// from the visible tests (points.json), so students see their score so far.
import {readFileSync} from 'node:fs';
import {join, relative} from 'node:path';

export default class PointsReporter {
  onInit(ctx) { this.root = ctx.config.root; }
  onTestRunEnd(modules) {
    let points;
    try { points = JSON.parse(readFileSync(join(this.root, 'points.json'), 'utf8')); } catch { return; }
    const passed = new Set();
    for (const m of modules) {
      const file = relative(this.root, m.moduleId).split('\\').join('/');
      for (const t of m.children.allTests()) if (t.result().state === 'passed') passed.add(`${file} > ${t.fullName}`);
    }
    const rows = [];
    let got = 0, max = 0;
    for (const e of points.exercises) {
      const g = e.tests.reduce((s, t) => s + (passed.has(`${t.file} > ${t.name}`) ? t.points : 0), 0);
      const m = e.tests.reduce((s, t) => s + t.points, 0);
      got += g; max += m;
      rows.push([e.name, e.title, `${g} / ${m}`]);
    }
    const w0 = Math.max(8, ...rows.map((r) => r[0].length)), w1 = Math.max(5, ...rows.map((r) => r[1].length));
    const line = (r) => `  ${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`;
    const out = [
      '',
      `Points so far (${points.title}, visible tests)`,
      ...rows.map(line),
      line(['total', '', `${got} / ${max}`]),
      points.hiddenPoints ? `  (hidden tests worth ${points.hiddenPoints} more points run when your submission is graded)` : '',
      '',
    ];
    process.stdout.write(out.join('\n') + '\n');
  }
}
