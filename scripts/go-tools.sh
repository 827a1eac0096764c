#!/usr/bin/env bash
# Builds the Go test tools into the git-ignored .cache/go-tools/bin:
#
# - oci-conformance.test: the OCI distribution-spec conformance suite
#   (github.com/opencontainers/distribution-spec/conformance, a `package main` whose only test,
#   TestLegacy, runs the whole suite), compiled with `go test -c` from the wrapper module
#   tests/oci/conformance (go.mod `tool` line pins the version);
# - registry: the CNCF distribution registry (github.com/distribution/distribution/v3/cmd/registry),
#   built from the wrapper module tests/oci/registry;
# - the Kubernetes test cluster (docs/k8s-testenv.md): kube-apiserver, kube-controller-manager,
#   kube-scheduler and kubectl (tests/k8s/kubernetes), etcd (tests/k8s/etcd), kwok
#   (tests/k8s/kwok), and helm for job scripts (tests/k8s/helm).
#
#   bash scripts/go-tools.sh           # build what is missing or out of date, print build times
#   bash scripts/go-tools.sh --force   # rebuild them all
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
# OUTPUTS (space-separated, default NAME) names every binary the command writes into bin/.
build() {
    local name="$1" dir="$2"
    shift 2
    local want have="" out missing=0
    want="$(stamp_of "$dir" "$@")"
    [ -f "$stamps/$name" ] && have="$(cat "$stamps/$name")"
    for out in ${OUTPUTS:-$name}; do
        [ -x "$bin/$out" ] || missing=1
    done
    if [ "$force" -eq 0 ] && [ "$missing" -eq 0 ] && [ "$want" = "$have" ]; then
        log "$name: up to date ($bin/${OUTPUTS:-$name})"
        return
    fi
    log "$name: building in ${dir#"$root"/} ..."
    local start end
    start="$(date +%s.%N)"
    rm -f "$stamps/$name"
    (cd "$dir" && go mod download && "$@")
    end="$(date +%s.%N)"
    echo "$want" >"$stamps/$name"
    log "$name: built in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s -> $bin/${OUTPUTS:-$name}"
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

# The Kubernetes test cluster (docs/k8s-testenv.md): kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl from one wrapper module (one build compiles their shared packages
# once), etcd and KWOK from their own, helm from its own (each keeps its dependency versions).
# The version variables are those upstream's release build stamps (`--version` prints them).
k8s_dir="$root/tests/k8s/kubernetes"
k8s_ver="$(module_version "$k8s_dir" k8s.io/kubernetes)"
k8s_minor="$(echo "$k8s_ver" | cut -d. -f2)"
k8s_ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ld="$k8s_ld -X $p.gitVersion=$k8s_ver -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor -X $p.gitTreeState=clean"
done
OUTPUTS="kube-apiserver kube-controller-manager kube-scheduler kubectl" \
    build kubernetes "$k8s_dir" \
    go build -tags selinux,notest -ldflags "$k8s_ld" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
build etcd "$root/tests/k8s/etcd" \
    go build -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
kwok_ver="$(module_version "$root/tests/k8s/kwok" sigs.k8s.io/kwok)"
build kwok "$root/tests/k8s/kwok" \
    go build -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_ver#v}" -o "$bin/kwok" \
    sigs.k8s.io/kwok/cmd/kwok
helm_ver="$(module_version "$root/tests/k8s/helm" helm.sh/helm/v4)"
build helm "$root/tests/k8s/helm" \
    go build -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_ver" -o "$bin/helm" \
    helm.sh/helm/v4/cmd/helm
