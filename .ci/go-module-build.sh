#!/usr/bin/env bash
# Builds one command of a Go module at an exact version from the module proxy's zip, for the test
# peers that .ci/setup.d/ scripts install (kubo, IPFS Cluster).
#
#   usage: go-module-build.sh MODULE VERSION PACKAGE TARGET TOOLCHAIN
#   e.g.   go-module-build.sh github.com/ipfs/kubo v0.39.0 ./cmd/ipfs ~/go/bin/ipfs go1.25.4
#
# Why not `go install MODULE/PACKAGE@VERSION`: that also asks the proxy for the module's version list
# (a deprecation check), which the proxy reachable here refuses (403). Downloading the module zip
# and building inside it is the same build (same go.mod/go.sum) without that lookup. TOOLCHAIN is
# fetched by `go` itself from the proxy (kubo and IPFS Cluster pull in cockroachdb/swiss via pebble,
# which does not build on Go ≥ 1.26).
set -euo pipefail
module="$1" version="$2" package="$3" target="$4" toolchain="$5"

command -v go >/dev/null || { echo "go-module-build.sh: Go is required to build $module" >&2; exit 1; }

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
src_dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "${module}@${version}" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src_dir" ] || { echo "go-module-build.sh: could not download ${module}@${version}" >&2; exit 1; }
cp -r "$src_dir" "$work/src"
chmod -R u+w "$work/src"

echo "building ${module}/${package#./} ${version} with ${toolchain} (a few minutes on 2 cores)…"
mkdir -p "$(dirname "$target")"
(cd "$work/src" && GOTOOLCHAIN="$toolchain" GOFLAGS=-buildvcs=false \
  go build -trimpath -o "$target.partial" "$package")
mv -f "$target.partial" "$target"
