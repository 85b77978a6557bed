#!/usr/bin/env bash
# Builds the optional native GEMM addon (lib/core/native/course_gemm.c → build/native/course_gemm.node)
# when a C compiler, Node's headers and OpenBLAS are present; otherwise says what is missing and
# exits 0 (the course then uses the pure wasm path). Debian: apt-get install gcc libopenblas-dev
# (Node's headers come with Debian's nodejs package or any official Node build: include/node).
set -u
cd "$(dirname "$0")/../.."
out=build/native/course_gemm.node
cc=$(command -v gcc || command -v cc || true)
nodeinc=""
for d in "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ]; then nodeinc=$d; break; fi
done
blasinc=""
for d in /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/include/openblas /usr/include; do
  if [ -f "$d/cblas.h" ]; then blasinc=$d; break; fi
done
missing=()
[ -n "$cc" ] || missing+=("a C compiler (gcc)")
[ -n "$nodeinc" ] || missing+=("Node's headers (node_api.h)")
[ -n "$blasinc" ] || missing+=("OpenBLAS headers (libopenblas-dev)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "native GEMM not built: missing ${missing[*]}; the pure wasm path is used"
  exit 0
fi
mkdir -p build/native
if "$cc" -O3 -march=native -fno-trapping-math -shared -fPIC -DNODE_GYP_MODULE_NAME=course_gemm -I"$nodeinc" -I"$blasinc" lib/core/native/course_gemm.c -lopenblas -o "$out.tmp"; then
  mv "$out.tmp" "$out"
  echo "native GEMM built: $out (OpenBLAS; enable with COURSE_NATIVE_GEMM=1)"
else
  rm -f "$out.tmp"
  echo "native GEMM build failed (see above); the pure wasm path is used"
fi
