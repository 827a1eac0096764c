#!/usr/bin/env bash
# Builds the Go test tools of the OCI registry tests into the git-ignored .cache/go-tools/bin:
#
# - oci-conformance.test: the OCI distribution-spec conformance suite
#   (github.com/opencontainers/distribution-spec/conformance, a `package main` whose only test,
#   TestLegacy, runs the whole suite), compiled with `go test -c` from the wrapper module
#   tests/oci/conformance (go.mod `tool` line pins the version);
# - registry: the CNCF distribution registry (github.com/distribution/distribution/v3/cmd/registry),
#   built from the wrapper module tests/oci/registry.
#
#   bash scripts/go-tools.sh           # build what is missing or out of date, print build times
#   bash scripts/go-tools.sh --force   # rebuild both
#
# Idempotent: a tool is rebuilt only when its binary is missing or when the sha256 of its wrapper
# go.mod + go.sum (plus the Go version and the build command) differs from the stamp written by the last
# build (.cache/go-tools/stamps/NAME). GOPATH, GOMODCACHE and GOCACHE all live under
# .cache/go-tools, so a clone that has that folder builds offline from it. The module cache is
# written with -modcacherw so `rm -rf .cache/go-tools` works. GOTOOLCHAIN=local: the machine's Go
# (>= 1.26.0, which distribution v3.1.2 requires) is used, never a downloaded one.
# Prints only progress; the binaries' paths are .cache/go-tools/bin/{oci-conformance.test,registry}.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.cache/go-tools"
bin="$tools/bin"
stamps="$tools/stamps"

export GOPATH="$tools/gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOCACHE="$tools/gocache"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -modcacherw -buildvcs=false -trimpath"
export CGO_ENABLED=0
unset GOWORK GOBIN

log() { printf 'go-tools: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

force=0
case "${1:-}" in
    "") ;;
    --force) force=1 ;;
    *) die "usage: bash scripts/go-tools.sh [--force]" ;;
esac

command -v go >/dev/null || die "go is not installed"
mkdir -p "$bin" "$stamps"

# stamp_of WRAPPER_DIR COMMAND...: hash of what decides the binary's content.
stamp_of() {
    local dir="$1"
    shift
    { cat "$dir/go.mod" "$dir/go.sum"; go env GOVERSION; echo "$GOFLAGS CGO_ENABLED=$CGO_ENABLED $*"; } |
        sha256sum | cut -d' ' -f1
}

# module_version WRAPPER_DIR MODULE: the version that the wrapper's go.mod requires.
module_version() {
    (cd "$1" && go list -m -f '{{.Version}}' "$2")
}

# build NAME WRAPPER_DIR COMMAND...: run COMMAND in WRAPPER_DIR unless bin/NAME is up to date.
build() {
    local name="$1" dir="$2"
    shift 2
    local want have=""
    want="$(stamp_of "$dir" "$@")"
    [ -f "$stamps/$name" ] && have="$(cat "$stamps/$name")"
    if [ "$force" -eq 0 ] && [ -x "$bin/$name" ] && [ "$want" = "$have" ]; then
        log "$name: up to date ($bin/$name)"
        return
    fi
    log "$name: building in ${dir#"$root"/} ..."
    local start end
    start="$(date +%s.%N)"
    rm -f "$stamps/$name"
    (cd "$dir" && go mod download && "$@")
    end="$(date +%s.%N)"
    echo "$want" >"$stamps/$name"
    log "$name: built in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s -> $bin/$name"
}

conf_dir="$root/tests/oci/conformance"
conf_pkg=github.com/opencontainers/distribution-spec/conformance
reg_dir="$root/tests/oci/registry"
reg_pkg=github.com/distribution/distribution/v3/cmd/registry

conf_ver="$(module_version "$conf_dir" "$conf_pkg")"
reg_ver="$(module_version "$reg_dir" github.com/distribution/distribution/v3)"

# The suite is a main package; `go test -c` on it yields a test binary whose TestLegacy runs
# mainRun(true). -X fills the "commit" shown in its report (a module has no VCS info); in a test
# binary the package under test keeps its import path, so the symbol is $conf_pkg.Version.
build oci-conformance.test "$conf_dir" \
    go test -c -o "$bin/oci-conformance.test" -ldflags "-X $conf_pkg.Version=$conf_ver" "$conf_pkg"
# -X .../version.version is what `registry --version` prints.
build registry "$reg_dir" \
    go build -o "$bin/registry" \
    -ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=$reg_ver" "$reg_pkg"
