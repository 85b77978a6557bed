import {readFileSync} from 'fs';
import {describe, expect, it} from 'vitest';
import {f16ToF32, parseSafetensors, serializeSafetensors} from '../../lib/io/safetensors';

const golden = JSON.parse(readFileSync('test/golden/optim-safetensors.json', 'utf8'));
const pyFile = new Uint8Array(Buffer.from(golden.base64, 'base64'));

function header(buf: Uint8Array): Record<string, any> {
  const n = new DataView(buf.buffer, buf.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
}
/** Builds a file from a header object and raw data bytes (for corrupt-file tests). */
function build(h: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips float32 tensors, shapes (incl. scalar and empty) and metadata', () => {
    const tensors = {
      'blocks.0.attn.qkv.weight': {shape: [2, 3], data: new Float32Array([1, -2, 3.5, 1e-30, -0, 7])},
      cls_token: {shape: [1, 1, 2], data: new Float32Array([Infinity, -Infinity])},
      scalar: {shape: [], data: new Float32Array([42])},
      empty: {shape: [0, 4], data: new Float32Array(0)},
    };
    const buf = serializeSafetensors(tensors, {format: 'pt', note: 'ünïcode ✓'});
    const r = parseSafetensors(buf);
    expect(r.metadata).toEqual({format: 'pt', note: 'ünïcode ✓'});
    expect(Object.keys(r.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [n, t] of Object.entries(tensors)) {
      expect(r.tensors[n]!.dtype).toBe('F32');
      expect(r.tensors[n]!.shape).toEqual(t.shape);
      expect(Array.from(r.tensors[n]!.data)).toEqual(Array.from(t.data));
    }
  });
  it('writes the spec layout: u64 LE header length, 8-byte aligned data, F32 offsets in order', () => {
    const buf = serializeSafetensors({a: {shape: [3], data: new Float32Array([1, 2, 3])}, b: {shape: [1], data: new Float32Array([4])}});
    const n = new DataView(buf.buffer).getUint32(0, true);
    expect(new DataView(buf.buffer).getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const h = header(buf);
    expect(h.a).toEqual({dtype: 'F32', shape: [3], data_offsets: [0, 12]});
    expect(h.b).toEqual({dtype: 'F32', shape: [1], data_offsets: [12, 16]});
    expect(buf.length).toBe(8 + n + 16);
    expect(new DataView(buf.buffer).getFloat32(8 + n + 12, true)).toBe(4);
  });
  it('reads a file written by hand in Python (F32, F16, BF16, F64, I64, I32, scalar; unaligned data)', () => {
    const r = parseSafetensors(pyFile);
    expect(r.metadata).toEqual(golden.metadata);
    for (const [n, g] of Object.entries(golden.tensors as Record<string, {dtype: string; shape: number[]; values: number[]}>)) {
      const t = r.tensors[n]!;
      expect(t.dtype, n).toBe(g.dtype);
      expect(t.shape, n).toEqual(g.shape);
      // expected values are exact float32 numbers (F64 and I64 rounded to float32 in Python)
      expect(Array.from(t.data), n).toEqual(g.values.map((v) => Math.fround(v)));
    }
  });
  it('decodes IEEE half precision specials', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });
  it('says "truncated" for a file cut anywhere', () => {
    for (const len of [0, 5, 8, 20, pyFile.length - 50, pyFile.length - 1]) {
      expect(() => parseSafetensors(pyFile.subarray(0, len)), `cut at ${len}`).toThrow(/truncated/);
    }
  });
  it('names the problem in a corrupt header or data section', () => {
    const garbage = new Uint8Array(64).fill(0xff);
    expect(() => parseSafetensors(garbage)).toThrow(/header length .* implausible/);
    const badJson = build({}, new Uint8Array(0));
    badJson[8] = 0x5b; // '[' ... not JSON anymore
    expect(() => parseSafetensors(badJson)).toThrow(/not valid UTF-8 JSON/);
    const four = new Uint8Array(8);
    expect(() => parseSafetensors(build({a: {dtype: 'F32', shape: [3], data_offsets: [0, 8]}}, four)))
      .toThrow(/tensor 'a': F32 \[3\] needs 12 bytes but data_offsets span 8/);
    expect(() => parseSafetensors(build({a: {dtype: 'X9', shape: [1], data_offsets: [0, 4]}}, four))).toThrow(/unsupported dtype X9/);
    expect(() => parseSafetensors(build({a: {dtype: 'F32', shape: [1], data_offsets: [4, 8]}}, four)))
      .toThrow(/starts at data byte 4, expected 0/);
    expect(() => parseSafetensors(build({a: {dtype: 'F32', shape: [1], data_offsets: [0, 4]}}, four))).toThrow(/4 unexpected bytes after the last tensor/);
    expect(() => parseSafetensors(build({a: {dtype: 'F32', shape: [1]}}, four))).toThrow(/needs dtype, shape and data_offsets/);
    expect(() => parseSafetensors(build({__metadata__: {k: 1}}, new Uint8Array(0)))).toThrow(/__metadata__\['k'\] is not a string/);
  });
  it('rejects inconsistent input to the writer', () => {
    expect(() => serializeSafetensors({a: {shape: [2, 2], data: new Float32Array(3)}})).toThrow(/shape \[2,2\] has 4 elements but data has 3/);
    expect(() => serializeSafetensors({a: {shape: [1], data: new Float32Array(1)}}, {k: 5 as unknown as string})).toThrow(/metadata\['k'\] must be a string/);
  });
});
