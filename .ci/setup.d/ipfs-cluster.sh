#!/usr/bin/env bash
# Builds the real IPFS Cluster peer (`ipfs-cluster-service`) that app/ipfs/cluster tests replicate
# to, once, into a cached location. Idempotent: does nothing when the binary is there at the right
# version.
#
#   target:   $CUSTOS_CLUSTER_BIN, else $HOME/go/bin/ipfs-cluster-service (where the tests look)
#   version:  IPFS Cluster v1.1.5 (app/ipfs/cluster-process.ts CLUSTER_VERSION); the Go module
#             proxy here serves v1.1.5 and v1.0.8, not v1.1.4
#
# How and why it is built this way (not `go install`, Go 1.25 toolchain): .ci/go-module-build.sh.
set -euo pipefail

CLUSTER_VERSION=v1.1.5
target="${CUSTOS_CLUSTER_BIN:-${HOME}/go/bin/ipfs-cluster-service}"

if [ -x "$target" ] && "$target" --version 2>/dev/null | grep -q "${CLUSTER_VERSION#v}"; then
  echo "ipfs-cluster-service ${CLUSTER_VERSION} already at $target"
  exit 0
fi

bash "$(dirname "$0")/../go-module-build.sh" github.com/ipfs-cluster/ipfs-cluster "$CLUSTER_VERSION" \
  ./cmd/ipfs-cluster-service "$target" go1.25.4
echo "$("$target" --version) at $target"
