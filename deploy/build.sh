#!/usr/bin/env bash
# Configure and build smz into <repo>/build.
#
# Configure runs every time: it is fast when the cache is up to date and it
# picks up CMakeLists.txt edits and a changed SMZ_BUILD_TYPE without us having
# to track staleness ourselves.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$REPO_ROOT/build"

cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${SMZ_BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$BUILD_DIR" -j"$(nproc)"
