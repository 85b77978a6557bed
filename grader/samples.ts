/**
 * Sample submissions, described instead of copied so they follow the reference as lib/ evolves:
 * `assignments/<id>/samples/<name>/sample.json` says, per SOLUTION region, whether the sample has
 * the reference code, the starter stub or its own code (a file beside sample.json), what to put
 * at the top or bottom of an exercise file, which extra files it smuggles in, and the score it
 * must get (`expect`: per exercise "all", "none" or the list of test names that pass).
 */
import {zipSync} from 'fflate';
import * as fs from 'fs';
import * as path from 'path';
import {findRegions, stubRegions} from './regions';
import {AssignmentSpec, LoadedAssignment, regionOf} from './spec';

export interface SampleSpec {
  description: string;
  base: 'reference' | 'starter';
  regions?: Record<string, string>;
  prepend?: Record<string, string>;
  append?: Record<string, string>;
  /** extra files in the submission: path -> `file:<name>` beside sample.json */
  extra?: Record<string, string>;
  /** deliver as a zip with everything under one top folder */
  zip?: boolean;
  /** in the zip, the sample's files go under this folder (inside the top folder) */
  zipPrefix?: string;
  /** more copies of the exercise files in the zip: folder -> 'starter' | 'reference' */
  zipAlso?: Record<string, 'starter' | 'reference'>;
  /** text replacements in a file, after the regions: file -> [from, to][] */
  replace?: Record<string, [string, string][]>;
  /** how a file is saved: utf16le-bom, utf8-bom-crlf (default UTF-8) */
  encoding?: Record<string, 'utf16le-bom' | 'utf8-bom-crlf'>;
  /** text that must appear in at least one failing test's output, per exercise */
  expectOutputAny?: Record<string, string>;
  /** regexes that must match one of the teacher's review flags */
  expectFlags?: string[];
  /** regexes that must match one of the notes */
  expectNotes?: string[];
  expect: Record<string, 'all' | 'none' | string[]>;
  /** exercise -> how its failing tests must fail (timeout, crash, import, assertion) */
  expectKinds?: Record<string, string>;
  /** text that must appear in the failing tests' output, per exercise */
  expectOutput?: Record<string, string>;
}

export function listSamples(a: LoadedAssignment): string[] {
  const d = path.join(a.dir, 'samples');
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d).filter((n) => fs.existsSync(path.join(d, n, 'sample.json'))).sort();
}

export function loadSample(a: LoadedAssignment, name: string): SampleSpec {
  return JSON.parse(fs.readFileSync(path.join(a.dir, 'samples', name, 'sample.json'), 'utf8')) as SampleSpec;
}

function content(a: LoadedAssignment, name: string, ref: string): string {
  if (!ref.startsWith('file:')) throw new Error(`sample ${name}: "${ref}" must be reference, starter or file:<name>`);
  return fs.readFileSync(path.join(a.dir, 'samples', name, ref.slice(5)), 'utf8');
}

/** The submission files of a sample: course path -> text. */
export function sampleFiles(a: LoadedAssignment, name: string, override?: Partial<SampleSpec>): Map<string, string> {
  const s = {...loadSample(a, name), ...override};
  const files = new Map<string, string>();
  const regionExercise = new Map<string, string>();
  for (const e of a.spec.exercises) regionExercise.set(`${e.file}#${regionOf(e)}`, e.name);
  for (const file of [...new Set(a.spec.exercises.map((e) => e.file))]) {
    const abs = path.join(a.root, file);
    if (!fs.existsSync(abs)) continue;
    const ref = fs.readFileSync(abs, 'utf8');
    // first put sample code into its regions, then keep or stub the others
    let text = ref;
    const own = new Map<string, string>();
    for (const r of findRegions(ref, file)) {
      const choice = s.regions?.[r.id] ?? s.base;
      if (choice.startsWith('file:')) own.set(r.id, content(a, name, choice));
    }
    if (own.size) {
      const lines = text.split('\n');
      for (const r of findRegions(text, file).reverse()) {
        const code = own.get(r.id);
        if (code === undefined) continue;
        lines.splice(r.begin + 1, r.end - r.begin - 1, ...code.replace(/\n$/, '').split('\n').map((l) => (l ? r.indent + l : l)));
      }
      text = lines.join('\n');
    }
    text = stubRegions(text, {
      action: (id) => (own.has(id) || (s.regions?.[id] ?? s.base) === 'reference' ? 'keep' : 'stub'),
      exercise: (id) => ({name: regionExercise.get(`${file}#${id}`) ?? id}),
    }, file);
    if (s.prepend?.[file]) text = `${content(a, name, s.prepend[file]!)}\n${text}`;
    if (s.append?.[file]) text = `${text}\n${content(a, name, s.append[file]!)}`;
    for (const [from, to] of s.replace?.[file] ?? []) {
      if (!text.includes(from)) throw new Error(`sample ${name}: "${from}" is not in ${file}`);
      text = text.split(from).join(to);
    }
    files.set(file, text);
  }
  for (const [p, ref] of Object.entries(s.extra ?? {})) files.set(p, content(a, name, ref));
  return files;
}

/** Write a sample submission: a folder, or `<out>.zip` when the sample says zip. Returns its path. */
export function buildSample(a: LoadedAssignment, name: string, out: string): string {
  const s = loadSample(a, name);
  const files = sampleFiles(a, name);
  const bytes = (p: string, t: string): Uint8Array => {
    const enc = s.encoding?.[p];
    if (enc === 'utf16le-bom') return new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]));
    if (enc === 'utf8-bom-crlf') return new Uint8Array(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t.replace(/\r?\n/g, '\r\n'), 'utf8')]));
    return new TextEncoder().encode(t);
  };
  if (s.zip) {
    const entries: Record<string, Uint8Array> = {};
    for (const [p, t] of files) entries[`${name}/${s.zipPrefix ?? ''}${p}`] = bytes(p, t);
    for (const [prefix, base] of Object.entries(s.zipAlso ?? {})) {
      for (const [p, t] of sampleFiles(a, name, {base, regions: {}, prepend: {}, append: {}, replace: {}, extra: {}})) entries[`${name}/${prefix}${p}`] = new TextEncoder().encode(t);
    }
    const zip = out.endsWith('.zip') ? out : `${out}.zip`;
    fs.mkdirSync(path.dirname(zip), {recursive: true});
    fs.writeFileSync(zip, zipSync(entries));
    return zip;
  }
  for (const [p, t] of files) {
    fs.mkdirSync(path.dirname(path.join(out, p)), {recursive: true});
    fs.writeFileSync(path.join(out, p), bytes(p, t));
  }
  return out;
}

/** The score a sample must get, and which tests must pass. */
export function expectedScore(spec: AssignmentSpec, s: SampleSpec, unavailable: string[] = []): {score: number; passing: Set<string>} {
  const passing = new Set<string>();
  let score = 0;
  for (const e of spec.exercises) {
    if (unavailable.includes(e.name)) continue;
    const want = s.expect[e.name] ?? 'none';
    for (const t of e.tests) {
      const pass = want === 'all' || (Array.isArray(want) && want.includes(t.name));
      if (pass) { passing.add(`${e.name} > ${t.name}`); score += t.points; }
    }
  }
  return {score, passing};
}
