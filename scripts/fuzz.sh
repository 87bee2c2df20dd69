#!/usr/bin/env bash
# Coverage-guided fuzzing of the native entry points (fuzz/, docs/reliability.md "Coverage-guided
# fuzzing"). Installs clang + libFuzzer if missing, builds the harnesses into fuzz/build (not build/: node-gyp rebuild deletes it), then runs
# each target for SECONDS over the seed corpus (fuzz/corpus/<target>) with fuzz/sdp.dict.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS=0: build only. Default 60, all targets.
# Env: FUZZ_SKIP_GUARD=description[,answer] leaves out wrtc::CheckDescription [and CheckRemoteAnswer]
#      (shows what the guard stops);
#      FUZZ_WORK=dir keeps the grown corpus and crash files there (default fuzz/build/work).
# Prints per target: executions, exec/s, cov/ft (libFuzzer), GStreamer debug sites reached, crashes.
# Exit status 1 if any target crashed (or leaked past the RSS limit, or hung).
# Runs longer than 5 minutes use libFuzzer's fork mode (-fork=1: the fuzzing runs in child processes
# of at most 300 s each): webrtcnice 1.22 keeps the ICE agent (sockets, a thread) of every session
# that was given a .local candidate, so one process runs out of file descriptors after ~2,000 such
# sessions (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(sdp_answer_fuzzer sdp_offer_fuzzer candidate_fuzzer)

if ! command -v clang++ >/dev/null || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "fuzz.sh: installing clang and libclang-rt-14-dev" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-14-dev >&2
fi

BUILD=fuzz/build
CC=clang CXX=clang++ cmake -S fuzz -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j 2 >/dev/null
[ "$SECONDS_PER_TARGET" -gt 0 ] || exit 0

WORK="${FUZZ_WORK:-$BUILD/work}"
if [ -n "${FUZZ_SKIP_GUARD:-}" ]; then export WEBRTCBIN_FUZZ_SKIP_GUARD="$FUZZ_SKIP_GUARD"; fi
FORK=()
if [ "$SECONDS_PER_TARGET" -gt 300 ]; then FORK=(-fork=1); fi
failed=0
printf '%-18s %10s %7s %6s %6s %10s %7s\n' target executions exec/s cov ft gst-sites crashes
for target in "${TARGETS[@]}"; do
  name="${target%_fuzzer}"
  mkdir -p "$WORK/$name/corpus" "$WORK/$name/crashes"
  log="$WORK/$name/fuzz.log"
  status=0
  # -timeout: a webrtcbin promise that never settles is a finding too.
  "$BUILD/$target" "${FORK[@]}" -max_total_time="$SECONDS_PER_TARGET" -dict=fuzz/sdp.dict -max_len=8192 -timeout=20 \
    -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$WORK/$name/crashes/" \
    "$WORK/$name/corpus" "fuzz/corpus/$name" >"$log" 2>&1 || status=$?
  # The last status line: "#N ... cov: C ft: F ..." (one process) or "#N: cov: C ft: F ..." (fork mode).
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  executions=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  per_second=$(( ${executions:-0} / SECONDS_PER_TARGET ))
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  sites=$(sed -n 's/^#gst-debug-sites: *//p' "$log" | tail -1)
  if [ ${#FORK[@]} -gt 0 ]; then
    # Fork mode's children print their own count; replay the grown corpus once for the whole run's.
    sites=$("$BUILD/$target" -runs=0 "$WORK/$name/corpus" "fuzz/corpus/$name" 2>&1 | sed -n 's/^#gst-debug-sites: *//p' | tail -1)
  fi
  crashes=$(find "$WORK/$name/crashes" -type f | wc -l)
  printf '%-18s %10s %7s %6s %6s %10s %7s\n' "$name" "${executions:-?}" "${per_second:-?}" "${cov:-?}" \
    "${ft:-?}" "${sites:-?}" "$crashes"
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    echo "  $name: exit status $status; crash files in $WORK/$name/crashes/, log $log" >&2
    grep -m1 -E 'ERROR: |ERROR \*\*|SUMMARY: ' "$log" >&2 || true
  fi
done
exit "$failed"
