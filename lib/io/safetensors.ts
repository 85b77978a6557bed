/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written by hand:
 *   [8 bytes: N, u64 little-endian] [N bytes: JSON header, UTF-8, may end in spaces] [data bytes]
 * Header: { "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …,
 *           "__metadata__": {"<key>": "<string value>"} }   (offsets relative to the data start)
 * Values are little-endian, row-major. Files written here are readable by Python's `safetensors`
 * (`safetensors.torch.load_file`) and vice versa. Pure byte handling: no file I/O, no tfjs.
 * Written by hand on purpose, as teaching code: the format is 8 bytes, a JSON header and raw little-endian arrays.
 */

export interface SafetensorsTensor {
  dtype: string;       // dtype as stored in the file, e.g. 'F32', 'F16', 'BF16'
  shape: number[];
  data: Float32Array;  // always converted to float32
}

const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

const MAX_HEADER = 100_000_000; // the reference implementation's limit
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(msg: string): never {
  throw new Error(`safetensors: ${msg}`);
}

/** IEEE 754 half → number. */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;            // zero / subnormal
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function decode(dtype: string, bytes: Uint8Array, n: number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32': {
      new Uint8Array(out.buffer).set(bytes); // copy: aligned, independent of the input buffer
      if (!LITTLE_ENDIAN) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    case 'F64': for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); return out;
    case 'F16': for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true)); return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I64': for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true)); return out;
    case 'I32': for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true); return out;
    case 'I16': for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true); return out;
    case 'I8': for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); return out;
    case 'U8': case 'BOOL': for (let i = 0; i < n; i++) out[i] = bytes[i]!; return out;
    default: return fail(`unsupported dtype ${dtype}`);
  }
}

export interface SafetensorsEntry { dtype: string; shape: number[]; begin: number; end: number }

/**
 * Reads and checks the header only (names, dtypes, shapes, offsets against the buffer's length)
 * without decoding any tensor, so a caller can refuse a file before allocating its tensors.
 */
export function readSafetensorsHeader(buf: Uint8Array): {entries: Record<string, SafetensorsEntry>; metadata: Record<string, string>; dataStart: number} {
  if (buf.length < 8) fail(`file too short (${buf.length} bytes): truncated, or not a safetensors file`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER) fail(`header length ${hi * 2 ** 32 + lo} is implausible: corrupt, or not a safetensors file`);
  const n = lo;
  if (8 + n > buf.length) fail(`header says ${n} bytes but the file has only ${buf.length - 8} after the length: truncated file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message}): corrupt file`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object: corrupt file');
  const dataLength = buf.length - 8 - n;
  const metadata: Record<string, string> = {};
  const entries: Record<string, SafetensorsEntry> = {};
  const spans: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header as Record<string, any>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object') fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') fail(`__metadata__['${k}'] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const {dtype, shape, data_offsets: off} = (entry ?? {}) as {dtype?: unknown; shape?: unknown; data_offsets?: unknown};
    if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(off) || off.length !== 2) {
      fail(`tensor '${name}' needs dtype, shape and data_offsets [begin, end]`);
    }
    if (!(dtype in DTYPE_BYTES)) fail(`tensor '${name}' has unsupported dtype ${dtype} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const [begin, end] = off as number[];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin! < 0 || end! < begin!) fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end! - begin! !== count * DTYPE_BYTES[dtype]!) {
      fail(`tensor '${name}': ${dtype} [${shape}] needs ${count * DTYPE_BYTES[dtype]!} bytes but data_offsets span ${end! - begin!}: corrupt file`);
    }
    if (end! > dataLength) fail(`tensor '${name}' ends at byte ${end} of the data but only ${dataLength} are present: truncated file`);
    spans.push([begin!, end!, name]);
    entries[name] = {dtype, shape: shape as number[], begin: begin!, end: end!};
  }
  // the format requires the tensors to tile the data section exactly (no gaps, no overlaps)
  spans.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [b, e, name] of spans) {
    if (b !== pos) fail(`tensor '${name}' starts at data byte ${b}, expected ${pos} (overlap or gap): corrupt file`);
    pos = e;
  }
  if (pos !== dataLength) fail(`${dataLength - pos} unexpected bytes after the last tensor: corrupt file`);
  return {entries, metadata, dataStart: 8 + n};
}

/** Parses a whole .safetensors file. Throws a clear error for a truncated or corrupt buffer. */
export function parseSafetensors(buf: Uint8Array): {tensors: Record<string, SafetensorsTensor>; metadata: Record<string, string>} {
  const {entries, metadata, dataStart} = readSafetensorsHeader(buf);
  return {tensors: decodeSafetensors(buf, entries, dataStart), metadata};
}

/** Decodes the tensors a header describes (float32 copies). */
export function decodeSafetensors(buf: Uint8Array, entries: Record<string, SafetensorsEntry>, dataStart: number): Record<string, SafetensorsTensor> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, e] of Object.entries(entries)) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    tensors[name] = {dtype: e.dtype, shape: e.shape, data: decode(e.dtype, buf.subarray(dataStart + e.begin, dataStart + e.end), count)};
  }
  return tensors;
}

/** Writes float32 tensors (in the given order) and optional string metadata as a .safetensors file. */
export function serializeSafetensors(
  tensors: Record<string, {shape: number[]; data: Float32Array}>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') fail(`metadata['${k}'] must be a string, got ${typeof v}`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === '__metadata__') fail("a tensor cannot be named '__metadata__'");
    const {shape, data} = tensors[name]!;
    if (!(data instanceof Float32Array)) fail(`tensor '${name}': data must be a Float32Array`);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape [${shape}]`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) fail(`tensor '${name}': shape [${shape}] has ${count} elements but data has ${data.length}`);
    header[name] = {dtype: 'F32', shape, data_offsets: [offset, offset + 4 * count]};
    offset += 4 * count;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-byte aligned
  const out = new Uint8Array(8 + padded + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, padded, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const name of names) {
    const {data} = tensors[name]!;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    else for (let i = 0; i < data.length; i++) dv.setFloat32(pos + 4 * i, data[i]!, true);
    pos += data.byteLength;
  }
  return out;
}
