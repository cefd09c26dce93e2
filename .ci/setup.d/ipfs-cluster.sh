#!/usr/bin/env bash
# Builds the real IPFS Cluster peer (`ipfs-cluster-service`) that app/ipfs/cluster tests replicate
# to, once, into a cached location. Idempotent: does nothing when the binary is there at the right
# version.
#
#   target:   $CUSTOS_CLUSTER_BIN, else $HOME/go/bin/ipfs-cluster-service (where the tests look)
#   version:  IPFS Cluster v1.1.5 (app/ipfs/cluster-process.ts CLUSTER_VERSION)
#
# Built from the module zip for the same reasons as kubo.sh (`go install pkg@version` asks the proxy
# for a version list it refuses), with the same toolchain (its pebble → cockroachdb/swiss dependency
# does not build on Go ≥ 1.26). The Go module proxy here serves v1.1.5 and v1.0.8, not v1.1.4.
set -euo pipefail

CLUSTER_VERSION=v1.1.5
CLUSTER_GOTOOLCHAIN=go1.25.4
target="${CUSTOS_CLUSTER_BIN:-${HOME}/go/bin/ipfs-cluster-service}"

if [ -x "$target" ] && "$target" --version 2>/dev/null | grep -q "${CLUSTER_VERSION#v}"; then
  echo "ipfs-cluster-service ${CLUSTER_VERSION} already at $target"
  exit 0
fi

command -v go >/dev/null || { echo "ipfs-cluster.sh: Go is required to build IPFS Cluster" >&2; exit 1; }

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
src_dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/ipfs-cluster/ipfs-cluster@${CLUSTER_VERSION}" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src_dir" ] || { echo "ipfs-cluster.sh: could not download github.com/ipfs-cluster/ipfs-cluster@${CLUSTER_VERSION}" >&2; exit 1; }
cp -r "$src_dir" "$work/cluster"
chmod -R u+w "$work/cluster"

echo "building ipfs-cluster-service ${CLUSTER_VERSION} with ${CLUSTER_GOTOOLCHAIN} (a few minutes on 2 cores)…"
mkdir -p "$(dirname "$target")"
(cd "$work/cluster" && GOTOOLCHAIN="$CLUSTER_GOTOOLCHAIN" GOFLAGS=-buildvcs=false \
  go build -trimpath -o "$target.partial" ./cmd/ipfs-cluster-service)
mv -f "$target.partial" "$target"
echo "$("$target" --version) at $target"
