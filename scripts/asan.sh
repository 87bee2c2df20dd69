#!/usr/bin/env bash
# The addon under AddressSanitizer + LeakSanitizer + UBSan: builds it with cmake-js
# (-DWEBRTCBIN_SANITIZE=ON, into build-asan/), then runs the leak-prone workloads with the sanitizer
# runtimes preloaded into an ordinary node: 1,000 peer create/negotiate/close cycles and 1,000 viewer
# joins/leaves against one shared encoder. Fails on any ASan/UBSan error report, and on any leak whose
# allocation stack passes through our own sources (src-native/). Leaks wholly inside GStreamer, GLib
# or Node (one-off type registrations, caches) are counted and listed, not failed on.
#   scripts/asan.sh [--thorough] [CYCLES] [JOINS]     (defaults 1000 1000)
# --thorough unwinds every allocation with the slow unwinder, so leaks allocated inside GLib on our
# behalf (a missing g_object_unref) still show our frames; it is ~50x slower (1 s per cycle).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
unwind=1
if [ "${1:-}" = "--thorough" ]; then unwind=0; shift; fi
cycles="${1:-1000}"
joins="${2:-1000}"
logs="$(mktemp -d /tmp/webrtcbin-asan.XXXXXX)"

echo "== building the sanitizer build (build-asan/)"
npx cmake-js compile --out build-asan --CDWEBRTCBIN_SANITIZE=ON >"$logs/build.txt" 2>&1 || { tail -30 "$logs/build.txt"; exit 1; }

asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
run() {
  local name="$1"; shift
  echo "== $name"
  LD_PRELOAD="$asan:$ubsan" \
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=0:detect_odr_violation=0:fast_unwind_on_malloc=$unwind:malloc_context_size=40:log_path=$logs/$name" \
  UBSAN_OPTIONS="print_stacktrace=1:log_path=$logs/$name-ubsan" \
  WEBRTCBIN_ADDON=build-asan/Release/webrtcbin.node \
    node --import tsx "$@" | tail -1
}
run cycles test/process/fixtures/cycles.ts "$cycles"
run churn test/process/fixtures/churn.ts "$joins"

echo "== reports ($logs)"
errors=0
ours=0
for f in "$logs"/cycles.* "$logs"/churn.* "$logs"/*-ubsan.*; do
  [ -e "$f" ] || continue
  if grep -qE "ERROR: AddressSanitizer|runtime error:" "$f"; then
    echo "!! memory error in $f:"; grep -m5 -E "ERROR: AddressSanitizer|runtime error:" "$f"; errors=$((errors + 1))
  fi
  # One leak report per blank-line-separated block; ours if a frame is in src-native/.
  n=$(awk 'BEGIN{RS=""} /(Direct|Indirect) leak/ && /src-native\// {c++} END{print c+0}' "$f")
  total=$(awk 'BEGIN{RS=""} /(Direct|Indirect) leak/ {c++} END{print c+0}' "$f")
  summary=$(grep -h "SUMMARY: AddressSanitizer" "$f" || echo "no leaks")
  echo "$(basename "$f"): $total leak reports, $n through src-native/ — $summary"
  if [ "$n" -gt 0 ]; then
    awk 'BEGIN{RS=""} /(Direct|Indirect) leak/ && /src-native\// {print; print ""}' "$f" | head -60
    ours=$((ours + n))
  fi
done
if [ "$errors" -gt 0 ] || [ "$ours" -gt 0 ]; then
  echo "FAILED: $errors memory error report(s), $ours leak(s) through our sources"
  exit 1
fi
echo "OK: no memory errors, no leaks through our sources"
