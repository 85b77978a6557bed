// The values that cross the sandbox boundary, both ways, as JSON: plain data as itself, and tagged
// objects {$: tag, ...} for what JSON cannot say (undefined, NaN, ±Infinity, -0, BigInt, typed
// arrays, Map, Set, Date), for tensors (dtype + shape + the typed array, base64), for tf.Variables
// mirrored on both sides (an id; values travel separately, before and after every call), for
// objects that stay in the sandbox (a handle id: class instances, functions) and for errors.
// Plain objects that have a "$" key of their own are wrapped ({$: 'o', v}).
//
// Shared by the trusted side (grader/sandbox/client.mjs) and the sandbox (server.mjs); it has no
// state of its own: each side passes a context that creates tensors and looks up ids.

export const MAX_DEPTH = 64;

// taken before any student code runs (the sandbox loads this module first): a submission that
// patches JSON or Buffer garbles only its own answers, it cannot stall the channel
const stringify = JSON.stringify, parse = JSON.parse;
const BufferFrom = Buffer.from.bind(Buffer), BufferAlloc = Buffer.alloc.bind(Buffer), BufferConcat = Buffer.concat.bind(Buffer);

const TYPED = {
  Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint8Array, Uint16Array, Uint32Array, Uint8ClampedArray,
  BigInt64Array, BigUint64Array,
};

export function b64(ta) {
  return Buffer.from(ta.buffer, ta.byteOffset, ta.byteLength).toString('base64');
}

export function fromB64(s, type) {
  const Ctor = TYPED[type];
  if (!Ctor) throw new Error(`unknown typed array ${type}`);
  const buf = Buffer.from(String(s), 'base64');
  if (buf.length % Ctor.BYTES_PER_ELEMENT) throw new Error(`${type}: ${buf.length} bytes is not a whole number of elements`);
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new Ctor(ab);
}

function isPlainObject(v) {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

export function typedArrayName(v) {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return undefined;
  for (const [name, C] of Object.entries(TYPED)) if (v instanceof C) return name;
  return undefined;
}

export function tensorData(t) {
  const data = t.dataSync();
  return t.dtype === 'string' ? {strings: Array.from(data, (x) => (typeof x === 'string' ? x : Buffer.from(x).toString('utf8')))} : {data: b64(data), type: typedArrayName(data)};
}

/**
 * Encode a value. ctx: {tf, tensor(t) -> tag | undefined (variables, to mirror), object(v, path) -> tag
 * for anything that is not plain data (handles on the sandbox side; an error on the trusted side)}.
 */
export function encode(value, ctx, depth = 0, seen = new Set()) {
  if (depth > MAX_DEPTH) throw new Error(`the value is nested more than ${MAX_DEPTH} levels deep`);
  switch (typeof value) {
    case 'undefined': return {$: 'u'};
    case 'boolean': case 'string': return value;
    case 'number':
      if (Number.isNaN(value)) return {$: 'n', v: 'NaN'};
      if (value === Infinity) return {$: 'n', v: 'Infinity'};
      if (value === -Infinity) return {$: 'n', v: '-Infinity'};
      if (Object.is(value, -0)) return {$: 'n', v: '-0'};
      return value;
    case 'bigint': return {$: 'big', v: value.toString()};
    case 'symbol': throw new Error('a Symbol cannot cross the sandbox boundary');
    case 'function': return ctx.object(value);
    default: break;
  }
  if (value === null) return null;
  if (ctx.tf && value instanceof ctx.tf.Tensor) {
    const tag = ctx.tensor?.(value);
    if (tag) return tag;
    if (value.isDisposed) throw new Error('a disposed tensor cannot cross the sandbox boundary');
    return {$: 't', dtype: value.dtype, shape: value.shape.slice(), ...tensorData(value)};
  }
  const ta = typedArrayName(value);
  if (ta) return {$: 'ta', type: ta, data: b64(value)};
  if (value instanceof Error) return {$: 'e', name: String(value.name ?? 'Error'), message: String(value.message ?? '')};
  if (seen.has(value)) throw new Error('a circular structure cannot cross the sandbox boundary');
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const out = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = encode(value[i], ctx, depth + 1, seen);
      return out;
    }
    if (value instanceof Map) return {$: 'map', v: [...value].map(([k, v]) => [encode(k, ctx, depth + 1, seen), encode(v, ctx, depth + 1, seen)])};
    if (value instanceof Set) return {$: 'set', v: [...value].map((v) => encode(v, ctx, depth + 1, seen))};
    if (value instanceof Date) return {$: 'date', v: value.getTime()};
    if (!isPlainObject(value)) return ctx.object(value);
    const out = {};
    for (const k of Object.keys(value)) out[k] = encode(value[k], ctx, depth + 1, seen);
    return Object.prototype.hasOwnProperty.call(out, '$') ? {$: 'o', v: out} : out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Decode a value. ctx: {tf, variable(tag) -> tf.Variable, handle(tag) -> local stand-in, error(tag)}.
 * Never trusts the shape of its input: anything unexpected is an error, not a crash.
 */
export function decode(x, ctx, depth = 0) {
  if (depth > MAX_DEPTH) throw new Error(`the value is nested more than ${MAX_DEPTH} levels deep`);
  if (x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map((v) => decode(v, ctx, depth + 1));
  if (!Object.prototype.hasOwnProperty.call(x, '$')) return decodeObject(x, ctx, depth);
  switch (x.$) {
    case 'u': return undefined;
    case 'n': return x.v === '-0' ? -0 : Number(x.v);
    case 'big': return BigInt(String(x.v));
    case 'ta': return fromB64(x.data, x.type);
    case 'date': return new Date(Number(x.v));
    case 'map': return new Map((x.v ?? []).map(([k, v]) => [decode(k, ctx, depth + 1), decode(v, ctx, depth + 1)]));
    case 'set': return new Set((x.v ?? []).map((v) => decode(v, ctx, depth + 1)));
    case 'o': return decodeObject(x.v ?? {}, ctx, depth + 1);
    case 't': return makeTensor(ctx.tf, x);
    case 'v': return ctx.variable(x);
    case 'h': return ctx.handle(x);
    case 'e': return ctx.error ? ctx.error(x) : Object.assign(new Error(String(x.message ?? '')), {name: String(x.name ?? 'Error')});
    default: throw new Error(`unknown tag ${JSON.stringify(x.$)}`);
  }
}

function decodeObject(x, ctx, depth) {
  const out = {};
  for (const k of Object.keys(x)) {
    const v = decode(x[k], ctx, depth + 1);
    if (k === '__proto__') Object.defineProperty(out, k, {value: v, enumerable: true, writable: true, configurable: true});
    else out[k] = v;
  }
  return out;
}

export function tensorValues(x) {
  if (Array.isArray(x.strings)) return x.strings.map(String);
  return fromB64(x.data, x.type);
}

export function makeTensor(tf, x) {
  const shape = Array.isArray(x.shape) ? x.shape.map(Number) : [];
  if (!shape.every((n) => Number.isInteger(n) && n >= 0)) throw new Error(`bad tensor shape ${JSON.stringify(x.shape)}`);
  const dtype = ['float32', 'int32', 'bool', 'string'].includes(x.dtype) ? x.dtype : 'float32';
  return tf.tensor(tensorValues(x), shape, dtype);
}

/** Every tensor inside a value (depth-first, in key order), for gradients and disposal. */
export function tensorsIn(value, tf, out = [], depth = 0, seen = new Set()) {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return out;
  if (value instanceof tf.Tensor) { out.push(value); return out; }
  if (seen.has(value)) return out;
  seen.add(value);
  if (Array.isArray(value)) for (const v of value) tensorsIn(v, tf, out, depth + 1, seen);
  else if (value instanceof Map) for (const v of value.values()) tensorsIn(v, tf, out, depth + 1, seen);
  else if (isPlainObject(value)) for (const k of Object.keys(value)) tensorsIn(value[k], tf, out, depth + 1, seen);
  return out;
}

/** Replace the tensors inside a value, in tensorsIn order, by the given ones. */
export function replaceTensors(value, tf, repl, state = {i: 0}, depth = 0) {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (value instanceof tf.Tensor) return repl[state.i++];
  if (Array.isArray(value)) return value.map((v) => replaceTensors(v, tf, repl, state, depth + 1));
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, replaceTensors(v, tf, repl, state, depth + 1)]));
  if (isPlainObject(value)) {
    const out = {};
    for (const k of Object.keys(value)) out[k] = replaceTensors(value[k], tf, repl, state, depth + 1);
    return out;
  }
  return value;
}

/** Frames on a byte stream: 4-byte little-endian length + UTF-8 JSON. */
export function frame(obj) {
  const body = BufferFrom(stringify(obj), 'utf8');
  const head = BufferAlloc(4);
  head.writeUInt32LE(body.length, 0);
  return BufferConcat([head, body]);
}

/** A frame reader with a size cap: push(chunk) returns the complete messages; throws past the cap. */
export function frameReader(maxBytes) {
  let chunks = [], have = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      have += chunk.length;
      const out = [];
      for (;;) {
        if (have < 4) break;
        let buf = chunks.length === 1 ? chunks[0] : BufferConcat(chunks);
        chunks = [buf];
        const n = buf.readUInt32LE(0);
        if (n > maxBytes) throw new Error(`a message of ${n} bytes is larger than the limit of ${maxBytes} bytes`);
        if (have < 4 + n) break;
        const body = buf.subarray(4, 4 + n).toString('utf8');
        buf = buf.subarray(4 + n);
        chunks = buf.length ? [buf] : [];
        have = buf.length;
        out.push(parse(body));
      }
      return out;
    },
  };
}
