#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite (pull, push, content discovery, content
# management, upload cancel; sha256 and sha512) against a gantry server started here on a
# loopback port with a temporary data directory, through the Docker token flow as root.
#
#   bash scripts/oci-conformance.sh [GANTRY_BIN]     # default target/release/gantry
#
# The suite is built by scripts/go-tools.sh into .cache/go-tools/bin. Its report (results.yaml,
# junit.xml, report.html) goes to bench/out/oci-conformance/. Exits non-zero when any test fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/target/release/gantry}"
suite="$root/.cache/go-tools/bin/oci-conformance.test"
[ -x "$bin" ] || { echo "oci-conformance: no gantry binary at $bin" >&2; exit 1; }
[ -x "$suite" ] || bash "$root/scripts/go-tools.sh"

work="$(mktemp -d)"
token="glpat-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 20)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
server_pid=
cleanup() {
    # The server ends by SIGTERM: its exit status is not this script's.
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

GANTRY_INITIAL_ROOT_TOKEN="$token" GANTRY_LOG=warn "$bin" server --listen "127.0.0.1:$port" \
    --data-dir "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fs "$url/-/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$url/-/health" >/dev/null || { cat "$work/server.log" >&2; echo "oci-conformance: the server did not start" >&2; exit 1; }
for name in repo1 repo2; do
    curl -fs -o /dev/null -X POST -H "PRIVATE-TOKEN: $token" -H 'content-type: application/json' \
        -d "{\"name\":\"$name\",\"namespace\":\"conformance\"}" "$url/api/v4/projects"
done

results="$root/bench/out/oci-conformance"
mkdir -p "$results"
status=0
(cd "$work" && env OCI_REGISTRY="127.0.0.1:$port" OCI_TLS=disabled \
    OCI_REPO1=conformance/repo1 OCI_REPO2=conformance/repo2 OCI_USERNAME=root OCI_PASSWORD="$token" \
    OCI_API_PULL=true OCI_API_PUSH=true OCI_API_TAGS_LIST=true OCI_API_REFERRER=true \
    OCI_API_TAGS_DELETE=true OCI_API_MANIFESTS_DELETE=true OCI_API_BLOBS_DELETE=true \
    OCI_API_BLOBS_UPLOAD_CANCEL=true OCI_RESULTS_DIR="$results" OCI_LOG=warn \
    "$suite" -test.v >"$work/out.txt" 2>&1) || status=$?
pass="$(grep -cE ': Pass$' "$work/out.txt" || true)"
fail="$(grep -cE ': FAIL$' "$work/out.txt" || true)"
skip="$(grep -cE ': Skip$' "$work/out.txt" || true)"
echo "oci-conformance: $pass passed, $fail failed, $skip skipped (report in bench/out/oci-conformance/)"
if [ "$status" -ne 0 ] || [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
    grep -E 'failed test|: FAIL$' "$work/out.txt" | head -40 >&2
    echo "oci-conformance: FAILED (suite exit $status)" >&2
    exit 1
fi
