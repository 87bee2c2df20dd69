#!/usr/bin/env bash
# Everything `npm test` / `npm start` need on a fresh Debian 12 machine, done once and skipped after:
# Debian packages from rootfs/, npm dependencies, the native addon, the TypeScript build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash rootfs/install-packages.sh "$@"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # JOBS: node-gyp compiles the addon on both cores (the install script runs it serially otherwise).
  JOBS=2 npm ci --no-audit --no-fund
fi
# npm ci builds the addon through the install script; a changed native source rebuilds it here.
if [ ! -f build/Release/webrtcbin.node ] || [ -n "$(find src-native binding.gyp -newer build/Release/webrtcbin.node -print -quit)" ]; then
  npx node-gyp rebuild -j 2
fi
npx tsc -p tsconfig.json
npx tsc -p lib/viewer/tsconfig.json
node scripts/build-viewer.mjs
