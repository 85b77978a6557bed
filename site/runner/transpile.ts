/**
 * One notebook cell (TypeScript) → JavaScript the browser runner executes like a kernel cell:
 * types stripped by TypeScript's own transpileModule (loaded lazily by the runner), then every
 * top-level declaration rewritten into the kernel's shared scope, so that a variable, function,
 * class or import of one cell is visible in the next and top-level `await` works.
 *
 *   import {x as y} from '../lib/m'   →  const __m1 = await __import("../lib/m"); __scope.y = __m1.x;
 *   const {a, b} = f(), c = 2;        →  ({a, b} = f(), c = 2);          (assigned inside `with (__scope)`)
 *   function g() {}                   →  kept; `__scope.g = g;` runs first (block functions are hoisted)
 *   class K {}                        →  K = class K {};
 *   last expression `e`               →  return (e);                      (shown like tslab's result)
 *
 * The rewrite keeps every statement on its lines, so a runtime error's line in the generated code
 * maps back through TypeScript's source map to the line of the cell the reader wrote.
 * Works with the `typescript` module of Node (tests) and of the browser bundle alike.
 */
import type * as TS from 'typescript';

export interface CellError { line: number; column: number; message: string }

export interface CompiledCell {
  /** the body of an async function (`__scope`, `__import`) */
  body: string;
  /** names the cell declares at its top level (pre-defined on the scope before it runs) */
  names: string[];
  /** generated body line (1-based) → cell line (1-based) */
  lineOf(bodyLine: number): number;
  error?: CellError;
}

/** Decodes a source map's `mappings`: for each generated line, the original line of its first segment. */
export function firstOriginalLines(mappings: string): (number | undefined)[] {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: (number | undefined)[] = [];
  let srcLine = 0;
  for (const line of mappings.split(';')) {
    let first: number | undefined;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const vals: number[] = [];
      let shift = 0, value = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        value += (d & 31) << shift;
        if (d & 32) { shift += 5; continue; }
        vals.push(value & 1 ? -(value >>> 1) : value >>> 1);
        shift = 0; value = 0;
      }
      if (vals.length >= 4) {
        srcLine += vals[2]!;
        if (first === undefined) first = srcLine;
      }
    }
    out.push(first);
  }
  return out;
}

const newlines = (s: string): number => (s.match(/\n/g) ?? []).length;

/** `text` padded with newlines so that it spans as many lines as `original`. */
function sameLines(text: string, original: string): string {
  const missing = newlines(original) - newlines(text);
  return missing > 0 ? text + '\n'.repeat(missing) : text;
}

function lineAt(text: string, pos: number): {line: number; column: number} {
  const before = text.slice(0, pos);
  return {line: newlines(before) + 1, column: pos - before.lastIndexOf('\n')};
}

/** Every identifier a binding name declares (`a`, `{a, b: c}`, `[x, ...y]`). */
function boundNames(ts: typeof TS, name: TS.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) boundNames(ts, el.name, out);
}

export function compileCell(ts: typeof TS, source: string): CompiledCell {
  const fail = (e: CellError): CompiledCell => ({body: '', names: [], lineOf: l => l, error: e});
  const out = ts.transpileModule(source, {
    fileName: 'cell.ts',
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: true,
      // keep every import specifier: a name imported in one cell is often first used in a later one
      verbatimModuleSyntax: true, removeComments: false, alwaysStrict: false,
    },
  });
  const diag = out.diagnostics?.find(d => d.category === ts.DiagnosticCategory.Error);
  if (diag) {
    const at = lineAt(source, diag.start ?? 0);
    return fail({...at, message: `SyntaxError: ${ts.flattenDiagnosticMessageText(diag.messageText, '\n')}`});
  }
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  const map = out.sourceMapText ? firstOriginalLines(JSON.parse(out.sourceMapText).mappings) : [];
  const sf = ts.createSourceFile('cell.js', js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: {start: number; end: number; text: string}[] = [];
  const names: string[] = [];
  const hoisted: string[] = [];
  let modules = 0;
  const statements = sf.statements.filter(s => !ts.isExportDeclaration(s) || s.moduleSpecifier);
  statements.forEach((st, k) => {
    const start = st.getStart(sf), end = st.getEnd(), original = js.slice(start, end);
    const replace = (text: string) => edits.push({start, end, text: sameLines(text, original)});
    if (ts.isImportDeclaration(st)) {
      const spec = JSON.stringify((st.moduleSpecifier as TS.StringLiteral).text);
      const clause = st.importClause;
      if (!clause) { replace(`await __import(${spec});`); return; }
      if (clause.isTypeOnly) { replace(''); return; }
      const m = `__m${++modules}`;
      const parts = [`const ${m} = await __import(${spec});`];
      if (clause.name) { names.push(clause.name.text); parts.push(`__scope.${clause.name.text} = ${m}.default;`); }
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) { names.push(nb.name.text); parts.push(`__scope.${nb.name.text} = ${m};`); }
      if (nb && ts.isNamedImports(nb)) {
        for (const el of nb.elements) {
          if (el.isTypeOnly) continue;
          names.push(el.name.text);
          parts.push(`__scope.${el.name.text} = ${m}[${JSON.stringify((el.propertyName ?? el.name).text)}];`);
        }
      }
      replace(parts.join(' '));
    } else if (ts.isVariableStatement(st)) {
      const parts: string[] = [];
      for (const d of st.declarationList.declarations) {
        boundNames(ts, d.name, names);
        const target = d.name.getText(sf);
        parts.push(`${target} = ${d.initializer ? d.initializer.getText(sf) : 'undefined'}`);
      }
      replace(`(${parts.join(', ')});`);
    } else if (ts.isFunctionDeclaration(st) && st.name) {
      names.push(st.name.text);
      hoisted.push(`__scope.${st.name.text} = ${st.name.text};`);
    } else if (ts.isClassDeclaration(st) && st.name) {
      names.push(st.name.text);
      edits.push({start, end: start, text: `${st.name.text} = `});
      edits.push({start: end, end, text: ';'});
    } else if (ts.isExportAssignment(st) || ts.isExportDeclaration(st)) {
      replace('');
    } else if (k === statements.length - 1 && ts.isExpressionStatement(st)) {
      const e = st.expression;
      replace(`return (${js.slice(e.getStart(sf), e.getEnd())});`);
    }
  });
  let body = js;
  for (const e of edits.sort((a, b) => b.start - a.start || b.end - a.end)) body = body.slice(0, e.start) + e.text + body.slice(e.end);
  // `with` keeps the cell's free names on the shared scope; everything stays on its original line
  body = `with (__scope) { ${hoisted.join(' ')}${body}\n}`;
  return {
    body,
    names: [...new Set(names)],
    lineOf: (l: number) => (map[l - 1] ?? map.slice(0, l).reverse().find(x => x !== undefined) ?? (l - 1)) + 1,
  };
}
