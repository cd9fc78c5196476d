#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer, UBSan) in
# <repo>/build-fuzz and runs each for a bounded time from the seed corpus in
# tests/fuzz/corpus/<target>/. Exits non-zero if any target finds a crash,
# a leak, undefined behaviour or a timeout; the reproducer is kept in
# build-fuzz/artifacts/<target>/ (turn it into a regression test and add it
# to the seed corpus).
#
#   tests/fuzz/run.sh                 # 20 s per target (CI: deploy/test.sh)
#   tests/fuzz/run.sh --seconds 600   # longer, by hand
#   tests/fuzz/run.sh --only token_fuzzer --seconds 3600
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$REPO_ROOT/build-fuzz"
seconds=20
only=""
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--only TARGET]" >&2; exit 2 ;;
  esac
done

TARGETS=(csv_import_fuzzer dates_fuzzer http_path_fuzzer http_request_fuzzer query_params_fuzzer
         recurrence_fuzzer token_fuzzer validators_fuzzer)
[[ -n "$only" ]] && TARGETS=("$only")

cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DSMZ_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${TARGETS[@]}"

status=0
for target in "${TARGETS[@]}"; do
  # Work on a copy: what a run discovers stays out of the repository.
  work="$BUILD_DIR/corpus/$target"
  artifacts="$BUILD_DIR/artifacts/$target"
  mkdir -p "$work" "$artifacts"
  cp -n "$REPO_ROOT/tests/fuzz/corpus/$target/"* "$work/" 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$BUILD_DIR/tests/fuzz/$target" "$work" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$BUILD_DIR/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; see $BUILD_DIR/$target.log and $artifacts/" >&2
    tail -n 40 "$BUILD_DIR/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" \
      "$BUILD_DIR/$target.log" | sed "s/^/fuzz: $target /"
  fi
done
exit "$status"
