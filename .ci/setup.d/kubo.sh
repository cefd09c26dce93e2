#!/usr/bin/env bash
# Builds the real kubo (`ipfs`) that app/ipfs tests compare against, once, into a cached location.
# Idempotent: does nothing when the binary is there at the right version.
#
#   target:   $CUSTOS_KUBO_BIN, else $HOME/go/bin/ipfs (where the tests look)
#   version:  kubo v0.39.0 (app/ipfs/kubo-process.ts KUBO_VERSION)
#
# Why not plain `go install github.com/ipfs/kubo/cmd/ipfs@v0.39.0`: `go install pkg@version` also
# asks the module proxy for kubo's version list (deprecation check), which the proxy reachable here
# refuses (403), so it fails; building kubo's own module from the proxy's zip is the same build
# (same go.mod/go.sum) without that lookup. Toolchain: kubo 0.39 declares `go 1.25`, and one of its
# dependencies (cockroachdb/swiss, via pebble) does not build on Go ≥ 1.26, so the build runs with
# GOTOOLCHAIN=go1.25.4, which `go` itself fetches from the module proxy.
set -euo pipefail

KUBO_VERSION=v0.39.0
KUBO_GOTOOLCHAIN=go1.25.4
target="${CUSTOS_KUBO_BIN:-${HOME}/go/bin/ipfs}"

if [ -x "$target" ] && [ "$("$target" version --number 2>/dev/null || true)" = "${KUBO_VERSION#v}" ]; then
  echo "kubo ${KUBO_VERSION} already at $target"
  exit 0
fi

command -v go >/dev/null || { echo "kubo.sh: Go is required (https://go.dev/dl) to build kubo" >&2; exit 1; }

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
src_dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/ipfs/kubo@${KUBO_VERSION}" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src_dir" ] || { echo "kubo.sh: could not download github.com/ipfs/kubo@${KUBO_VERSION}" >&2; exit 1; }
cp -r "$src_dir" "$work/kubo"
chmod -R u+w "$work/kubo"

echo "building kubo ${KUBO_VERSION} with ${KUBO_GOTOOLCHAIN} (a few minutes on 2 cores)…"
mkdir -p "$(dirname "$target")"
(cd "$work/kubo" && GOTOOLCHAIN="$KUBO_GOTOOLCHAIN" GOFLAGS=-buildvcs=false \
  go build -trimpath -o "$target.partial" ./cmd/ipfs)
mv -f "$target.partial" "$target"
echo "kubo $("$target" version --number) at $target"
