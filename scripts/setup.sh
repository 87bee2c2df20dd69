#!/usr/bin/env bash
# Everything `npm test` / `npm start` need on a fresh Debian 12 machine, done once and skipped after:
# Debian packages from rootfs/, npm dependencies, the native addon, the TypeScript build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash rootfs/install-packages.sh "$@"
# dist/.setup-built: written after a TypeScript/viewer build; anything newer means build again.
stamp=dist/.setup-built
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # JOBS: node-gyp compiles the addon on both cores (the install script runs it serially otherwise).
  JOBS=2 npm ci --no-audit --no-fund
  # npm ci ran the package's `prepare` (tsc, the viewer declarations and bundles) just now.
  mkdir -p dist && touch "$stamp"
fi
# npm ci builds the addon through the install script; a changed native source rebuilds it here.
if [ ! -f build/Release/webrtcbin.node ] || [ -n "$(find src-native binding.gyp -newer build/Release/webrtcbin.node -print -quit)" ]; then
  npx node-gyp rebuild -j 2
fi
# The TypeScript build and the viewer only when a source is newer than the last build (each run of
# the three was ~30 s of a pretest that otherwise does nothing on a set-up machine).
if [ ! -f "$stamp" ] || [ ! -f dist/lib/index.js ] || [ ! -f dist/viewer/viewer.js ] ||
  [ -n "$(find lib examples tsconfig.json scripts/build-viewer.mjs package-lock.json -newer "$stamp" -print -quit)" ]; then
  npx tsc -p tsconfig.json
  npx tsc -p lib/viewer/tsconfig.json
  node scripts/build-viewer.mjs
  touch "$stamp"
fi
