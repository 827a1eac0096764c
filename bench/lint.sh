#!/usr/bin/env bash
# Benchmarks `gantry lint` against `gitlab-ci-local --list` on the GitLab corpus project.
#
# usage: bash bench/lint.sh [GANTRY_BIN]
#
# Both tools read the same prepared copy of ../shared/corpus/gitlab (see bench/prepare_tree.py:
# non-local includes dropped, one line re-indented for gitlab-ci-local's YAML parser, and the stubs
# in bench/stubs/gitlab.yml appended), which is a git repository with one commit on `main`.
# gitlab-ci-local takes over a minute per run, so the two tools run in two hyperfine
# invocations with their own run counts; the ratio is of the two means.
# Results: bench/out/lint-gantry.json, bench/out/lint-gcl.json and bench/out/lint.json (both).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
corpus="${GANTRY_CORPUS:-$root/../shared/corpus}/gitlab"
gantry="${1:-$root/target/release/gantry}"
gcl="$root/.cache/peers/bin/gitlab-ci-local"
out="$root/bench/out"
gantry_runs="${BENCH_GANTRY_RUNS:-10}"
gcl_runs="${BENCH_GCL_RUNS:-3}"

[ -d "$corpus" ] || { echo "bench/lint.sh: no corpus at $corpus" >&2; exit 1; }
[ -x "$gcl" ] && command -v hyperfine >/dev/null || bash scripts/install-peers.sh
if [ $# -eq 0 ]; then
    cargo build --release -p gantry-cli
fi
[ -x "$gantry" ] || { echo "bench/lint.sh: no gantry binary at $gantry" >&2; exit 1; }
gantry="$(cd "$(dirname "$gantry")" && pwd)/$(basename "$gantry")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tree="$work/gitlab"
python3 bench/prepare_tree.py "$corpus" "$tree" bench/stubs/gitlab.yml
mkdir -p "$out"

# FORCE_GITLAB_CI is the tree's own switch for "create the pipeline": without it the workflow
# rules create none for a push to `main`, and gantry would stop before planning any job.
gantry_cmd="$gantry lint --json --var FORCE_GITLAB_CI=true"
# Schema validation is off because gitlab-ci-local's schema rejects `trigger: include: artifact`
# (valid in GitLab, used 6 times in the tree); it makes gitlab-ci-local do less work, not more.
gcl_cmd="$gcl --list --json-schema-validation=false --variable FORCE_GITLAB_CI=true"

echo "== sanity: one run of each"
set +e
(cd "$tree" && $gantry_cmd >"$work/gantry.json" 2>"$work/gantry.err")
gantry_rc=$?
(cd "$tree" && $gcl_cmd >"$work/gcl.txt" 2>"$work/gcl.err")
gcl_rc=$?
set -e
gantry_jobs="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$work/gantry.json" 2>/dev/null || echo '?')"
# `--list` prints a header line and one line per job.
gcl_jobs="$(grep -c -v -e '^name ' -e 'WARN' "$work/gcl.txt" || true)"
echo "gantry lint --json: exit $gantry_rc, $gantry_jobs jobs"
echo "gitlab-ci-local --list: exit $gcl_rc, $gcl_jobs jobs"
if [ "$gcl_rc" -ne 0 ]; then
    tail -n 20 "$work/gcl.err" >&2
    echo "bench/lint.sh: gitlab-ci-local failed on the prepared tree" >&2
    exit 1
fi
# Exit code 1 only means the configuration has errors; 2 means gantry could not run.
if [ "$gantry_rc" -gt 1 ]; then
    tail -n 20 "$work/gantry.err" >&2
    echo "bench/lint.sh: gantry lint failed on the prepared tree" >&2
    exit 1
fi

echo "== hyperfine: gantry lint ($gantry_runs runs)"
(cd "$tree" && hyperfine --warmup 2 --runs "$gantry_runs" -i -N \
    --command-name "gantry lint" --export-json "$out/lint-gantry.json" "$gantry_cmd")
echo "== hyperfine: gitlab-ci-local --list ($gcl_runs runs)"
(cd "$tree" && hyperfine --warmup 1 --runs "$gcl_runs" -N \
    --command-name "gitlab-ci-local --list" --export-json "$out/lint-gcl.json" "$gcl_cmd")

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
results = []
for name in ("lint-gantry.json", "lint-gcl.json"):
    results += json.load(open(os.path.join(out, name)))["results"]
json.dump({"results": results}, open(os.path.join(out, "lint.json"), "w"), indent=2)
by = {r["command"]: r for r in results}
g, c = by["gantry lint"], by["gitlab-ci-local --list"]
for r in (g, c):
    print(f"{r['command']:24} mean {r['mean'] * 1000:10.1f} ms  ± {(r['stddev'] or 0) * 1000:8.1f} ms  (min {r['min'] * 1000:.1f}, max {r['max'] * 1000:.1f}, {len(r['times'])} runs)")
print(f"ratio: gitlab-ci-local takes {c['mean'] / g['mean']:.1f}x as long as gantry lint")
PY
