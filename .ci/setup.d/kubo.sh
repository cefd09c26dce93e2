#!/usr/bin/env bash
# Builds the real kubo (`ipfs`) that app/ipfs tests compare against, once, into a cached location.
# Idempotent: does nothing when the binary is there at the right version.
#
#   target:   $CUSTOS_KUBO_BIN, else $HOME/go/bin/ipfs (where the tests look)
#   version:  kubo v0.39.0 (app/ipfs/kubo-process.ts KUBO_VERSION)
#
# How and why it is built this way (not `go install`, Go 1.25 toolchain): .ci/go-module-build.sh.
set -euo pipefail

KUBO_VERSION=v0.39.0
target="${CUSTOS_KUBO_BIN:-${HOME}/go/bin/ipfs}"

if [ -x "$target" ] && [ "$("$target" version --number 2>/dev/null || true)" = "${KUBO_VERSION#v}" ]; then
  echo "kubo ${KUBO_VERSION} already at $target"
  exit 0
fi

bash "$(dirname "$0")/../go-module-build.sh" github.com/ipfs/kubo "$KUBO_VERSION" ./cmd/ipfs "$target" go1.25.4
echo "kubo $("$target" version --number) at $target"
