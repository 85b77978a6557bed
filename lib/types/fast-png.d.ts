/**
 * The part of fast-png (ESM-only, types behind "exports") that the course uses. The node10 module
 * resolution of tsc and of tslab's compiler does not read "exports", so the types are restated
 * here; node_modules/fast-png/lib/index.d.ts is the full original.
 */
declare module 'fast-png' {
  export interface ImageData {
    width: number;
    height: number;
    data: Uint8Array | Uint8ClampedArray | Uint16Array;
    depth?: 1 | 2 | 4 | 8 | 16;
    channels?: number;
  }
  export interface DecodedPng {
    width: number;
    height: number;
    data: Uint8Array | Uint8ClampedArray | Uint16Array;
    depth: 1 | 2 | 4 | 8 | 16;
    channels: number;
  }
  export function encode(png: ImageData, options?: {zlib?: {level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}}): Uint8Array;
  export function decode(data: ArrayBufferLike | ArrayBufferView): DecodedPng;
}
