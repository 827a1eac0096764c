#!/usr/bin/env bash
# The whole test suite: what CI runs (through .ci/run) and what a developer runs before pushing.
#
# Steps, each under a header, stopping at the first failure:
#   1. install the test peers (gitlab-ci-local under Node 22, rsync, hyperfine, Chromium, podman,
#      skopeo) into .cache/peers, and build the Go test tools (the OCI conformance suite, the
#      CNCF registry, and the Kubernetes test cluster's etcd, kube-apiserver,
#      kube-controller-manager, kube-scheduler, kwok, kubectl and helm: docs/k8s-testenv.md)
#      into .cache/go-tools
#   2. cargo fmt --check
#   3. cargo clippy, warnings denied
#   4. the release binary target/release/gantry
#   5. the test services (PostgreSQL, moto's S3) under .cache/services, unless already running;
#      stopped again when the script ends
#   6. cargo test --workspace, with GANTRY_GCL, GANTRY_BIN and the services' GANTRY_TEST_* exported
#      (the Kubernetes tests start their own clusters with scripts/k8s-cluster.sh)
#   7. the dashboard's browser tests (tests/browser: Playwright driving Debian's Chromium)
#   8. the conformance cases in ../shared/conformance against the release binary (lint, then run)
#   9. the OCI distribution-spec conformance suite against the release binary's registry
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="$root/../shared"

started=$SECONDS
step() {
    printf '\n==== %s (%ds elapsed)\n' "$*" "$((SECONDS - started))"
}
# Set when this run started the test services, so that it stops them (and only then).
services_started=
stop_services() {
    if [ -n "$services_started" ]; then
        services_started=
        bash scripts/services.sh stop
    fi
}
on_exit() {
    local status=$?
    stop_services || true
    [ $status -eq 0 ] || printf "\n==== FAILED (exit %d) after %ds\n" "$status" "$((SECONDS - started))" >&2
    exit "$status"
}
trap on_exit EXIT

step "1/9 test peers: bash scripts/install-peers.sh"
bash scripts/install-peers.sh
bash scripts/go-tools.sh
export GANTRY_GCL="$root/.cache/peers/bin/gitlab-ci-local"

step "2/9 format: cargo fmt --all --check"
cargo fmt --all --check

step "3/9 lints: cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "4/9 release binary: cargo build --release -p gantry-cli"
cargo build --release -p gantry-cli
export GANTRY_BIN="$root/target/release/gantry"
[ -x "$GANTRY_BIN" ] || { echo "test.sh: $GANTRY_BIN was not built" >&2; exit 1; }

step "5/9 test services: bash scripts/services.sh start (PostgreSQL, S3)"
if ! bash scripts/services.sh status >/dev/null 2>&1; then
    services_started=1
fi
# Through a variable: a failed start then stops the script (`eval "$(...)"` would not).
services_env="$(bash scripts/services.sh start)"
eval "$services_env"

step "6/9 tests: cargo test --workspace (GANTRY_GCL=$GANTRY_GCL GANTRY_BIN=$GANTRY_BIN GANTRY_TEST_POSTGRES_URL=$GANTRY_TEST_POSTGRES_URL GANTRY_TEST_S3_ENDPOINT=$GANTRY_TEST_S3_ENDPOINT)"
cargo test --workspace
stop_services

step "7/9 browser tests: node --test tests/browser (GANTRY_BIN=$GANTRY_BIN, Chromium at /usr/bin/chromium)"
node --test --test-concurrency=1 tests/browser/

step "8/9 conformance: python3 ../shared/conformance/run_cases.py plan, then run"
if [ -f "$shared/conformance/run_cases.py" ]; then
    python3 "$shared/conformance/run_cases.py" plan "$GANTRY_BIN" "$shared/conformance/cases"
    python3 "$shared/conformance/run_cases.py" run "$GANTRY_BIN" "$shared/conformance/cases"
elif [ "${CI:-}" = "true" ]; then
    echo "test.sh: $shared/conformance/run_cases.py is missing; CI must have shared/ beside the repository" >&2
    exit 1
else
    echo "test.sh: skipping conformance: no $shared/conformance (it lives beside the repository)"
fi

step "9/9 OCI conformance: bash scripts/oci-conformance.sh $GANTRY_BIN"
bash scripts/oci-conformance.sh "$GANTRY_BIN"

printf '\n==== all steps passed in %ds\n' "$((SECONDS - started))"
