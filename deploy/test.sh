#!/usr/bin/env bash
# Build smz and run its full test suite. Exits with ctest's status.
# Tests start their own MariaDB instances, so no running suite is needed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$REPO_ROOT/deploy/bootstrap.sh"
bash "$REPO_ROOT/deploy/build.sh"
exec ctest --test-dir "$REPO_ROOT/build" --output-on-failure --timeout 600
