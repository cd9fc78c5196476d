#!/usr/bin/env bash
# Build smz and run its full test suite: every CTest test (unit tests and
# integration tests that start their own MariaDB and servers), then each
# libFuzzer target briefly (tests/fuzz/run.sh, 20 s each; see FUZZING in
# PERFORMANCE.md for longer runs). Exits non-zero if anything fails.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$REPO_ROOT/deploy/bootstrap.sh"
bash "$REPO_ROOT/deploy/build.sh"
status=0
ctest --test-dir "$REPO_ROOT/build" --output-on-failure --timeout 600 ||
  status=$?
bash "$REPO_ROOT/tests/fuzz/run.sh" --seconds "${SMZ_FUZZ_SECONDS:-20}" ||
  status=1
exit "$status"
