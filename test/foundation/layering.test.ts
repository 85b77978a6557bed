/**
 * The house rules of ARCHITECTURE.md, checked on the real import graph (TypeScript's own import
 * scanner): lib/ layers import only lower layers, lib/ imports nothing outside lib/, and lib code
 * that a browser bundle may include touches no Node-only module or global outside NODE_ONLY.
 */
import {readdirSync, readFileSync} from 'node:fs';
import {builtinModules} from 'node:module';
import {dirname, join, posix, relative, resolve} from 'node:path';
import ts from 'typescript';
import {describe, expect, it} from 'vitest';

const ROOT = resolve(__dirname, '../..');

/** Layer of each lib/ folder (or root file), lowest first; a module imports only from lower layers or its own folder. */
export const LIB_LAYERS: Record<string, number> = {
  core: 0, types: 0, 'mode.ts': 0, 'esm.cjs': 0, 'esm.d.cts': 0, 'progress.ts': 0,
  optim: 1, data: 1, eval: 1, 'backend.ts': 1,
  attention: 2, io: 2,
  seq2seq: 3,
  transformer: 4,
  vit: 5, cnn: 5,
  train: 6,
  viz: 7,
};

/** lib files that may use Node (fs, zlib, child processes, process.env, Buffer…): everything else must run in a browser bundle. */
export const NODE_ONLY = new Set([
  'lib/backend.ts',            // picks the Node backend: process.env, require() of the wasm backend and the native addon
  'lib/mode.ts',               // COURSE_MODE from the environment
  'lib/core/native-kernels.ts', // loads and self-checks the OpenBLAS N-API addon
  'lib/core/wasm-threads.ts',  // worker threads for the wasm backend
  'lib/data/archive.ts',       // tar.gz reading and hashing of files
  'lib/data/download.ts',      // HTTP download to a file
  'lib/data/cifar.ts',         // reads CIFAR-10 from disk
  'lib/io/checkpoint.ts',      // training state on disk
  'lib/io/results-file.ts',    // results files of long measurements, with a lock file
  'lib/train/vit-trainer.ts',  // trains from disk data, saves checkpoints
  'lib/train/data-parallel.ts', // starts the gradient worker as a child process
  'lib/train/grad-worker.ts',  // the child process of data-parallel training (IPC with its parent)
  'lib/train/training-log.ts', // reads a run's metrics.jsonl from disk
  'lib/train/run-state.ts',    // a measurement run's state on disk, to resume it
]);

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const NODE_GLOBALS = new Set(['process', 'Buffer', '__dirname', '__filename', 'require']);
const OUTSIDE_LIB = ['display', 'site', 'scripts', 'grader', 'test', 'chapters', 'assignments'];

export interface Violation { file: string; imports: string; why: string }

/** Repo-relative path a relative import points at, trying the extensions tsc would. */
function resolveRelative(files: Map<string, string>, from: string, spec: string): string {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  for (const c of [base, `${base}.ts`, `${base}/index.ts`, `${base}.d.ts`]) if (files.has(c)) return c;
  return base;
}

function layerKey(path: string): string {
  const rest = path.slice('lib/'.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest;
}

const parsed = new Map<string, ts.SourceFile>();
function parse(file: string, source: string): ts.SourceFile {
  const key = `${file}\0${source}`;
  let sf = parsed.get(key);
  if (!sf) parsed.set(key, (sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true)));
  return sf;
}

interface Import { spec: string; typeOnly: boolean }

/** Every module a file names: import/export … from, import '…', require('…'), import('…'), /// <reference path>. */
function importsOf(sf: ts.SourceFile): Import[] {
  const out: Import[] = sf.referencedFiles.map((r) => ({spec: r.fileName, typeOnly: true}));
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause, named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({spec: n.moduleSpecifier.text, typeOnly});
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({spec: n.moduleSpecifier.text, typeOnly: n.isTypeOnly});
    } else if (ts.isCallExpression(n) && n.arguments.length >= 1 && ts.isStringLiteralLike(n.arguments[0]!)
      && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      out.push({spec: (n.arguments[0] as ts.StringLiteralLike).text, typeOnly: false});
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) {
      out.push({spec: n.moduleReference.expression.text, typeOnly: n.isTypeOnly});
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Node globals used as values (not as property names: globalThis.process is allowed). */
function nodeGlobals(sf: ts.SourceFile): string[] {
  const found = new Set<string>();
  const visit = (n: ts.Node) => {
    if (ts.isIdentifier(n) && NODE_GLOBALS.has(n.text)) {
      const p = n.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n)
        || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isImportSpecifier(p) || ts.isParameter(p);
      if (!isName && !ts.isTypeReferenceNode(p) && !ts.isQualifiedName(p)) found.add(n.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return [...found].sort();
}

/** All rule violations among `files` (repo-relative path → source). */
export function checkLayering(files: Map<string, string>, nodeOnly: Set<string> = NODE_ONLY): Violation[] {
  const out: Violation[] = [];
  for (const [file, source] of files) {
    if (!file.startsWith('lib/')) continue;
    const key = layerKey(file), layer = LIB_LAYERS[key];
    if (layer === undefined) { out.push({file, imports: '', why: `lib/${key} has no layer: add it to LIB_LAYERS and ARCHITECTURE.md`}); continue; }
    const browser = !nodeOnly.has(file) && !file.endsWith('.d.ts') && !file.endsWith('.d.cts');
    const sf = parse(file, source);
    for (const {spec, typeOnly} of importsOf(sf)) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(files, file, spec);
        if (!target.startsWith('lib/')) {
          const top = target.split('/')[0]!;
          out.push({file, imports: spec, why: `lib/ imports ${OUTSIDE_LIB.includes(top) ? `${top}/` : `${target} outside lib/`}`});
          continue;
        }
        const tkey = layerKey(target), tlayer = LIB_LAYERS[tkey];
        if (tkey !== key && (tlayer === undefined || tlayer >= layer)) {
          out.push({file, imports: spec, why: `lib/${key} (layer ${layer}) imports lib/${tkey} (layer ${tlayer ?? '?'}), which is not below it`});
        }
        if (browser && !typeOnly && nodeOnly.has(target)) out.push({file, imports: spec, why: `browser-safe lib code imports the Node-only ${target}`});
      } else if (browser && !typeOnly && NODE_BUILTINS.has(spec)) {
        out.push({file, imports: spec, why: `browser-safe lib code imports the Node module '${spec}'`});
      }
    }
    if (browser) for (const g of nodeGlobals(sf)) out.push({file, imports: g, why: `browser-safe lib code uses the Node global ${g}`});
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'native' || e.name === 'node_modules' ? [] : walk(p);
    return /\.(ts|cts|cjs)$/.test(e.name) ? [p] : [];
  });
}

const libFiles = new Map(walk(join(ROOT, 'lib')).map((p) => [relative(ROOT, p).split('\\').join('/'), readFileSync(p, 'utf8')]));

describe('layering of lib/', () => {
  it('the real lib/: no lower layer imports a higher one, nothing outside lib/ is imported, browser-safe code stays off Node', () => {
    expect(libFiles.size).toBeGreaterThan(40);
    expect(checkLayering(libFiles)).toEqual([]);
  });

  it('every Node-only file named in NODE_ONLY exists and really uses Node (the list stays honest)', () => {
    for (const f of NODE_ONLY) {
      expect(libFiles.has(f), f).toBe(true);
      const without = checkLayering(libFiles, new Set([...NODE_ONLY].filter((x) => x !== f)));
      expect(without.some((v) => v.file === f), `${f} would pass as browser code: drop it from NODE_ONLY`).toBe(true);
    }
  });

  it('catches an upward import, an import of display/, scripts/ or grader/, a Node module and a Node global', () => {
    const files = new Map([
      ...libFiles,
      ['lib/core/up.ts', "import {vitForward} from '../vit/model';\nexport const f = vitForward;\n"],
      ['lib/attention/sideways.ts', "import type {AdamW} from '../io/checkpoint';\n"], // erased: only the layering counts
      ['lib/eval/req.ts', "const fs = require('fs');\nexport const load = () => import('../io/checkpoint');\n"],
      ['lib/optim/show.ts', "import {showChart} from '../../display/show';\nimport {x} from '../../scripts/cli-util';\nimport {y} from '../../grader/run';\n"],
      ['lib/vit/fs.ts', "import {readFileSync} from 'node:fs';\nimport * as zlib from 'zlib';\nimport {loadCifar10} from '../data/cifar';\n"],
      ['lib/viz/env.ts', "export const dir = __dirname + process.env.HOME;\nexport const ok = globalThis.process?.env;\n"],
      ['lib/newfolder/x.ts', 'export const x = 1;\n'],
    ]);
    const v = checkLayering(files).map((x) => `${x.file} ${x.imports}: ${x.why}`);
    expect(v).toEqual([
      "lib/core/up.ts ../vit/model: lib/core (layer 0) imports lib/vit (layer 5), which is not below it",
      "lib/attention/sideways.ts ../io/checkpoint: lib/attention (layer 2) imports lib/io (layer 2), which is not below it",
      "lib/eval/req.ts fs: browser-safe lib code imports the Node module 'fs'",
      "lib/eval/req.ts ../io/checkpoint: lib/eval (layer 1) imports lib/io (layer 2), which is not below it",
      'lib/eval/req.ts ../io/checkpoint: browser-safe lib code imports the Node-only lib/io/checkpoint.ts',
      'lib/eval/req.ts require: browser-safe lib code uses the Node global require',
      'lib/optim/show.ts ../../display/show: lib/ imports display/',
      'lib/optim/show.ts ../../scripts/cli-util: lib/ imports scripts/',
      'lib/optim/show.ts ../../grader/run: lib/ imports grader/',
      "lib/vit/fs.ts node:fs: browser-safe lib code imports the Node module 'node:fs'",
      "lib/vit/fs.ts zlib: browser-safe lib code imports the Node module 'zlib'",
      'lib/vit/fs.ts ../data/cifar: browser-safe lib code imports the Node-only lib/data/cifar.ts',
      'lib/viz/env.ts __dirname: browser-safe lib code uses the Node global __dirname',
      'lib/viz/env.ts process: browser-safe lib code uses the Node global process',
      'lib/newfolder/x.ts : lib/newfolder has no layer: add it to LIB_LAYERS and ARCHITECTURE.md',
    ]);
  });
});

describe('top-level folders', () => {
  const ROOT_DIRS: Record<string, string[]> = {
    // folder: top-level folders it may import (besides itself and npm packages)
    display: ['lib'],
    site: ['lib', 'grader'],   // grader/regions.ts: the one parser of solution regions (teacher-safe site build)
    grader: ['lib'],
    lib: [],
  };
  it('display/ and grader/ import only lib/, site/ lib/ and grader/ (scripts/ and test/ sit on top and may import anything)', () => {
    const bad: string[] = [];
    for (const [dir, allowed] of Object.entries(ROOT_DIRS)) {
      for (const p of walk(join(ROOT, dir))) {
        for (const f of ts.preProcessFile(readFileSync(p, 'utf8'), true, true).importedFiles) {
          if (!f.fileName.startsWith('.')) continue;
          const top = relative(ROOT, resolve(dirname(p), f.fileName)).split(/[\\/]/)[0]!;
          if (top !== dir && !allowed.includes(top)) bad.push(`${relative(ROOT, p)} imports ${f.fileName}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
