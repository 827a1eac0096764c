#!/usr/bin/env bash
# Benchmarks `gantry run` against gitlab-ci-local (shell executor, --shell-isolation) on trivial
# pipelines: per-job overhead = wall time of the whole pipeline / number of jobs.
#
# usage: bash bench/run.sh [GANTRY_BIN]
#
# For each shape JOBSxSTAGES in SHAPES (default "50x5 100x5 500x5 500x1") bench/make_pipeline.py
# writes a git repository with JOBS `script: [true]` jobs spread over STAGES stages. Both tools
# run it with the same concurrency (CONCURRENCY, default 2: the machine's cores), each under
# hyperfine (-N, no shell) in this same script run:
#   gantry run --concurrency N --data-dir DIR                      (DIR removed before each run)
#   gitlab-ci-local --shell-isolation --no-color --concurrency N   (.gitlab-ci-local removed before each run)
# gantry gets GANTRY_RUNS runs (default 5) after a warmup. gitlab-ci-local gets one sanity
# run limited to GITLAB_CI_LOCAL_TIMEOUT seconds (default 600; a shape it cannot finish in that
# time is not measured, and the summary says so), then GITLAB_CI_LOCAL_RUNS runs (default 2;
# 1 when the sanity run took over a minute).
# Results: bench/out/run-gantry-<shape>.json, bench/out/run-gcl-<shape>.json (hyperfine exports)
# and bench/out/run.json (every result and the summary).
# (Not GCL_*: gitlab-ci-local reads every GCL_<option> environment variable as an option.)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
gantry="${1:-$root/target/release/gantry}"
gcl="$root/.cache/peers/bin/gitlab-ci-local"
out="$root/bench/out"
shapes="${SHAPES:-50x5 100x5 500x5 500x1}"
concurrency="${CONCURRENCY:-2}"
gantry_runs="${GANTRY_RUNS:-5}"
gcl_runs="${GITLAB_CI_LOCAL_RUNS:-2}"
gcl_timeout="${GITLAB_CI_LOCAL_TIMEOUT:-600}"

[ -x "$gcl" ] && command -v hyperfine >/dev/null && command -v rsync >/dev/null \
    || bash scripts/install-peers.sh
if [ $# -eq 0 ]; then
    cargo build --release -p gantry-cli
fi
[ -x "$gantry" ] || { echo "bench/run.sh: no gantry binary at $gantry" >&2; exit 1; }
gantry="$(cd "$(dirname "$gantry")" && pwd)/$(basename "$gantry")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/run-*.json "$out/run.json"
echo "machine: $(nproc) cores, $(uname -sr); $("$gcl" --version | head -n 1 | sed 's/^/gitlab-ci-local /'), hyperfine $(hyperfine --version | cut -d' ' -f2)"

for shape in $shapes; do
    n="${shape%x*}"
    stages="${shape#*x}"
    repo="$work/p$shape"
    data="$work/gantry-data-$shape"
    python3 bench/make_pipeline.py "$repo" "$n" "$stages"
    gantry_cmd="$gantry run --concurrency $concurrency --data-dir $data"
    gcl_cmd="$gcl --shell-isolation --no-color --concurrency $concurrency --home $work/gcl-home"

    echo "== $shape: sanity run of each tool"
    (cd "$repo" && $gantry_cmd --report "$work/report-$shape.json" >"$work/gantry-$shape.log" 2>&1) || {
        tail -n 20 "$work/gantry-$shape.log" >&2
        echo "bench/run.sh: gantry run failed on $shape" >&2
        exit 1
    }
    passed="$(python3 -c 'import json,sys; print(sum(j["status"] == "success" for j in json.load(open(sys.argv[1]))["jobs"]))' "$work/report-$shape.json")"
    echo "gantry run: $passed/$n jobs passed"
    [ "$passed" -eq "$n" ] || { echo "bench/run.sh: gantry did not pass every job" >&2; exit 1; }

    started=$SECONDS
    set +e
    (cd "$repo" && timeout -k 10 "$gcl_timeout" $gcl_cmd >"$work/gcl-$shape.log" 2>&1)
    gcl_rc=$?
    set -e
    gcl_secs=$((SECONDS - started))
    rm -rf "$repo/.gitlab-ci-local"
    if [ "$gcl_rc" -eq 124 ] || [ "$gcl_rc" -eq 137 ]; then
        echo "gitlab-ci-local: stopped after ${gcl_timeout}s (GITLAB_CI_LOCAL_TIMEOUT); not measured on $shape"
        gcl_ok=0
    else
        gcl_passed="$(grep -c '^ PASS ' "$work/gcl-$shape.log" || true)"
        echo "gitlab-ci-local: exit $gcl_rc, $gcl_passed/$n jobs passed, ${gcl_secs}s"
        if [ "$gcl_rc" -ne 0 ] || [ "$gcl_passed" -ne "$n" ]; then
            tail -n 20 "$work/gcl-$shape.log" >&2
            echo "bench/run.sh: gitlab-ci-local did not pass every job" >&2
            exit 1
        fi
        gcl_ok=1
        runs="$gcl_runs"
        [ "$gcl_secs" -le 60 ] || runs=1
    fi

    echo "== $shape: hyperfine gantry run ($gantry_runs runs)"
    (cd "$repo" && hyperfine -N --warmup 1 --runs "$gantry_runs" --prepare "rm -rf $data" \
        --command-name "gantry run $shape" --export-json "$out/run-gantry-$shape.json" "$gantry_cmd")
    if [ "$gcl_ok" -eq 1 ]; then
        echo "== $shape: hyperfine gitlab-ci-local ($runs runs)"
        (cd "$repo" && hyperfine -N --runs "$runs" --prepare "rm -rf $repo/.gitlab-ci-local" \
            --command-name "gitlab-ci-local $shape" --export-json "$out/run-gcl-$shape.json" \
            "timeout -k 10 $gcl_timeout $gcl_cmd")
    fi
done

python3 - "$out" "$shapes" "$concurrency" "$gcl_timeout" <<'PY'
import json, os, sys
out, shapes, concurrency, timeout = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path))["results"][0] if os.path.exists(path) else None
rows, results = [], []
for shape in shapes:
    jobs, stages = (int(x) for x in shape.split("x"))
    g, c = load(f"run-gantry-{shape}.json"), load(f"run-gcl-{shape}.json")
    results += [r for r in (g, c) if r]
    rows.append({
        "shape": shape, "jobs": jobs, "stages": stages,
        "gantry_mean_s": g["mean"], "gantry_stddev_s": g["stddev"], "gantry_runs": len(g["times"]),
        "gantry_per_job_ms": g["mean"] / jobs * 1000,
        "gcl_mean_s": c["mean"] if c else None, "gcl_stddev_s": c["stddev"] if c else None,
        "gcl_runs": len(c["times"]) if c else 0,
        "gcl_per_job_ms": c["mean"] / jobs * 1000 if c else None,
        "ratio": c["mean"] / g["mean"] if c else None,
    })
json.dump({"results": results, "summary": {"concurrency": int(concurrency), "rows": rows}},
          open(os.path.join(out, "run.json"), "w"), indent=2)
print(f"\nconcurrency {concurrency}; per job = mean wall time of the pipeline / jobs")
print(f"{'jobs x stages':>13}  {'gantry mean':>14}  {'gantry/job':>10}  {'gcl mean':>16}  {'gcl/job':>10}  {'gcl/gantry':>10}")
for r in rows:
    gantry = f"{r['gantry_mean_s']:.3f} s ({r['gantry_runs']})"
    gcl = f"{r['gcl_mean_s']:.2f} s ({r['gcl_runs']})" if r["gcl_mean_s"] else f"> {timeout} s"
    gcl_job = f"{r['gcl_per_job_ms']:.1f} ms" if r["gcl_per_job_ms"] else "-"
    ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
    print(f"{r['shape']:>13}  {gantry:>14}  {r['gantry_per_job_ms']:>7.1f} ms  {gcl:>16}  {gcl_job:>10}  {ratio:>10}")
print("(n) = runs; > T s: gitlab-ci-local did not finish its sanity run within GITLAB_CI_LOCAL_TIMEOUT")
for a in rows:
    for b in rows:
        if a["stages"] == b["stages"] and a["jobs"] < b["jobs"]:
            for tool, key in (("gantry", "gantry_mean_s"), ("gitlab-ci-local", "gcl_mean_s")):
                if a[key] and b[key]:
                    ms = (b[key] - a[key]) / (b["jobs"] - a["jobs"]) * 1000
                    print(f"{tool} marginal cost per job, {a['shape']} -> {b['shape']}: {ms:.1f} ms")
PY
