#!/usr/bin/env bash
# Builds the course's native kernels (lib/core/native/course_gemm.c + course_conv.c → build/native/course_gemm.node),
# used by default by the wasm backend (lib/core/native-kernels.ts), when a C compiler, Node's
# headers and OpenBLAS are present; otherwise says what is missing and exits 0 (the course then
# uses the pure wasm path and says so). Debian: apt-get install gcc libopenblas-dev (npm run setup
# does that). Node's headers come with Debian's/NodeSource's nodejs package or any official build.
# Prints one line at the end: what happened.
set -u
cd "$(dirname "$0")/../../.."
out=build/native/course_gemm.node
src="lib/core/native/course_gemm.c lib/core/native/course_conv.c"
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
  echo "native kernels not built: missing ${missing[*]}; the pure wasm path is used"
  exit 0
fi
mkdir -p build/native
# the sources' hash goes into the addon; lib/core/native-kernels.ts refuses a build older than its sources
hash=$(cat $src | sha256sum | cut -c1-16)
# -march=native: built on the machine that runs it (npm run setup); -fno-trapping-math lets gcc
# vectorise the float→int step of exp (it changes no result).
if "$cc" -O3 -march=native -fno-trapping-math -fopenmp-simd -shared -fPIC -DNODE_GYP_MODULE_NAME=course_gemm -DCOURSE_SRC_HASH="\"$hash\"" -I"$nodeinc" -I"$blasinc" $src -lopenblas -lm -o "$out.tmp"; then
  mv "$out.tmp" "$out"
  echo "native kernels built: $out (OpenBLAS; used by default, COURSE_NATIVE=0 turns them off)"
else
  rm -f "$out.tmp"
  echo "native kernels build failed (see above); the pure wasm path is used"
fi
