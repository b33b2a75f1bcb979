#!/usr/bin/env bash
# Bench-only peers (users of tessera need none of this): installs OpenBLAS from Debian's
# packages and builds bench/native, the small addon that gives bench/run.mjs OpenBLAS sgemm
# and the memory-bandwidth probe. onnxruntime-node comes with `npm install` (devDependency).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null; then
    echo "bench:setup: no apt-get here; install OpenBLAS (with cblas.h) yourself, then run this again" >&2
  else
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q libopenblas-dev
  fi
fi

npx cmake-js compile --directory bench/native --out bench/native/build
node -e "require('./bench/native/build/Release/bench_peers.node')" && echo "bench:setup: bench/native/build/Release/bench_peers.node is built"
node -e "require('onnxruntime-node')" 2>/dev/null && echo "bench:setup: onnxruntime-node loads" \
  || echo "bench:setup: onnxruntime-node does not load; npm install brings it (the bench runs without it)"
