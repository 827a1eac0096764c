#!/usr/bin/env bash
# The whole test suite: what CI runs (through .ci/run) and what a developer runs before pushing.
#
# Steps, each under a header, stopping at the first failure:
#   1. install the test peers (gitlab-ci-local under Node 22, rsync, hyperfine) into .cache/peers
#   2. cargo fmt --check
#   3. cargo clippy, warnings denied
#   4. the release binary target/release/gantry
#   5. cargo test --workspace, with GANTRY_GCL and GANTRY_BIN exported for the integration tests
#   6. the conformance cases in ../shared/conformance against the release binary (lint, then run)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="$root/../shared"

started=$SECONDS
step() {
    printf '\n==== %s (%ds elapsed)\n' "$*" "$((SECONDS - started))"
}
trap 'status=$?; [ $status -eq 0 ] || printf "\n==== FAILED (exit %d) after %ds\n" "$status" "$((SECONDS - started))" >&2' EXIT

step "1/6 test peers: bash scripts/install-peers.sh"
bash scripts/install-peers.sh
export GANTRY_GCL="$root/.cache/peers/bin/gitlab-ci-local"

step "2/6 format: cargo fmt --all --check"
cargo fmt --all --check

step "3/6 lints: cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "4/6 release binary: cargo build --release -p gantry-cli"
cargo build --release -p gantry-cli
export GANTRY_BIN="$root/target/release/gantry"
[ -x "$GANTRY_BIN" ] || { echo "test.sh: $GANTRY_BIN was not built" >&2; exit 1; }

step "5/6 tests: cargo test --workspace (GANTRY_GCL=$GANTRY_GCL GANTRY_BIN=$GANTRY_BIN)"
cargo test --workspace

step "6/6 conformance: python3 ../shared/conformance/run_cases.py plan, then run"
if [ -f "$shared/conformance/run_cases.py" ]; then
    python3 "$shared/conformance/run_cases.py" plan "$GANTRY_BIN" "$shared/conformance/cases"
    python3 "$shared/conformance/run_cases.py" run "$GANTRY_BIN" "$shared/conformance/cases"
elif [ "${CI:-}" = "true" ]; then
    echo "test.sh: $shared/conformance/run_cases.py is missing; CI must have shared/ beside the repository" >&2
    exit 1
else
    echo "test.sh: skipping conformance: no $shared/conformance (it lives beside the repository)"
fi

printf '\n==== all steps passed in %ds\n' "$((SECONDS - started))"
