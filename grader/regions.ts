/**
 * Solution regions in lib files and notebook cells:
 *
 *     // BEGIN SOLUTION masked-softmax
 *     ...the reference code students write...
 *     // END SOLUTION
 *
 * The release replaces a region by a stub that throws `not implemented: <exercise>`; regions of
 * other assignments are either kept (earlier chapters: given code) or stubbed too (later chapters).
 */
import * as ts from 'typescript';

export interface Region {
  id: string;
  /** 0-based line numbers of the BEGIN and END marker lines */
  begin: number;
  end: number;
  indent: string;
  body: string;
}

const BEGIN = /^(\s*)\/\/\s*BEGIN SOLUTION\b[ \t]*(\S*)\s*$/;
const END = /^\s*\/\/\s*END SOLUTION\b/;
export const MARKER = /\b(BEGIN|END) SOLUTION\b/;

export function findRegions(source: string, where = 'source'): Region[] {
  const lines = source.split('\n');
  const out: Region[] = [];
  let open: {id: string; begin: number; indent: string} | undefined;
  lines.forEach((line, i) => {
    const b = BEGIN.exec(line);
    if (b) {
      if (open) throw new Error(`${where}:${i + 1}: BEGIN SOLUTION inside the region "${open.id}" opened at line ${open.begin + 1}`);
      if (!b[2]) throw new Error(`${where}:${i + 1}: BEGIN SOLUTION needs a region id, e.g. "// BEGIN SOLUTION masked-softmax"`);
      open = {id: b[2], begin: i, indent: b[1]!};
      return;
    }
    if (END.test(line)) {
      if (!open) throw new Error(`${where}:${i + 1}: END SOLUTION without a BEGIN SOLUTION`);
      out.push({...open, end: i, body: lines.slice(open.begin + 1, i).join('\n')});
      open = undefined;
    }
  });
  if (open) throw new Error(`${where}:${open.begin + 1}: region "${open.id}" is never closed (no END SOLUTION)`);
  return out;
}

export interface StubOptions {
  /** 'stub' replaces the region, 'keep' keeps its code and drops the markers */
  action: (regionId: string) => 'stub' | 'keep';
  /** exercise name and hint of a stubbed region */
  exercise: (regionId: string) => {name: string; hint?: string};
}

/** Apply the release transform to one file's text. */
export function stubRegions(source: string, opts: StubOptions, where = 'source'): string {
  const regions = findRegions(source, where);
  if (regions.length === 0) return source;
  const lines = source.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const r of regions) {
    out.push(...lines.slice(at, r.begin));
    if (opts.action(r.id) === 'keep') {
      out.push(...lines.slice(r.begin + 1, r.end));
    } else {
      const ex = opts.exercise(r.id);
      if (ex.hint) out.push(`${r.indent}// TODO(${ex.name}): ${ex.hint}`);
      out.push(`${r.indent}throw new Error('not implemented: ${ex.name}');`);
    }
    at = r.end + 1;
  }
  out.push(...lines.slice(at));
  return out.join('\n');
}

/** TypeScript's syntax errors (no type check) as `file(line,col): error TSnnnn: message` lines. */
export function syntaxErrors(source: string, fileName: string): string[] {
  const r = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: {target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS},
  });
  return (r.diagnostics ?? []).map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file && d.start !== undefined) {
      const {line, character} = d.file.getLineAndCharacterOfPosition(d.start);
      return `${fileName}(${line + 1},${character + 1}): error TS${d.code}: ${msg}`;
    }
    return `${fileName}: error TS${d.code}: ${msg}`;
  });
}

/**
 * Authoring helper: wrap the body of `export function <fn>` in SOLUTION markers, leaving out its
 * leading argument checks (`if (...) throw ...;` and `checkX(...);` statements), or from the first
 * statement whose text contains `startAt`. Returns the new text.
 */
export function markFunction(source: string, fn: string, region: string, fileName = 'source.ts', startAt?: string): string {
  if (findRegions(source, fileName).some((r) => r.id === region)) return source; // already marked
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  let body: ts.Block | undefined;
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name?.text === fn && n.body) body = n.body;
    else if (ts.isMethodDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === fn && n.body) body = n.body;
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  if (!body) throw new Error(`${fileName}: no function ${fn} with a body`);
  const isCheck = (s: ts.Statement) =>
    (ts.isIfStatement(s) && !s.elseStatement && (ts.isThrowStatement(s.thenStatement) || (ts.isBlock(s.thenStatement) && s.thenStatement.statements.length === 1 && ts.isThrowStatement(s.thenStatement.statements[0]!)))) ||
    (ts.isExpressionStatement(s) && ts.isCallExpression(s.expression) && /^check/.test(s.expression.expression.getText(sf)));
  const stmts = body.statements;
  let first = 0;
  if (startAt !== undefined) {
    first = stmts.findIndex((s) => s.getText(sf).includes(startAt));
    if (first < 0) throw new Error(`${fileName}: no statement of ${fn} contains "${startAt}"`);
  } else while (first < stmts.length - 1 && isCheck(stmts[first]!)) first++;
  const startLine = sf.getLineAndCharacterOfPosition(stmts[first]!.getStart(sf)).line;
  const endLine = sf.getLineAndCharacterOfPosition(stmts[stmts.length - 1]!.getEnd()).line;
  const lines = source.split('\n');
  const indent = /^\s*/.exec(lines[startLine]!)![0];
  lines.splice(endLine + 1, 0, `${indent}// END SOLUTION`);
  lines.splice(startLine, 0, `${indent}// BEGIN SOLUTION ${region}`);
  return lines.join('\n');
}

interface NotebookCell {cell_type: string; source: string | string[]; outputs?: unknown[]; execution_count?: number | null}

/** The code of a notebook's code cells (what imports and regions are looked for in). */
export function notebookCode(text: string): string {
  const nb = JSON.parse(text) as {cells: NotebookCell[]};
  return nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
}

/** The release transform for a notebook: regions in code cells stubbed, outputs cleared. */
export function stubNotebook(text: string, opts: StubOptions, where = 'notebook'): string {
  const nb = JSON.parse(text) as {cells: NotebookCell[]};
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    const src = Array.isArray(c.source) ? c.source.join('') : c.source;
    const out = stubRegions(src, opts, `${where} cell ${i + 1}`);
    c.source = out.split(/(?<=\n)/);
    c.outputs = [];
    c.execution_count = null;
  });
  return `${JSON.stringify(nb, null, 1)}\n`;
}
