#!/usr/bin/env python3
"""Benchmarks `gantry server` on SQLite: push-to-first-job-start latency, trivial jobs per
second, and idle memory.

usage: python3 bench/server.py GANTRY_BIN [--pushes N] [--jobs N] [--stages N] [--concurrency N]

It starts the server on a free loopback port with a fresh temporary data directory and a known
root token, creates a project, and then:
  1. latency: N times (default 30), commits a change and pushes a new branch with a one-job
     pipeline; latency = the job's `started_at` (server clock) minus the time just before
     `git push` started (same machine clock). Also reported from the end of `git push`, and
     from the moment the server started on the push's `POST git-receive-pack` request (the
     request log of the server, `GANTRY_LOG=tower_http=debug`).
  2. throughput: pushes a pipeline of JOBS (default 300) `script: [true]` jobs in STAGES stages
     (default 1) and divides JOBS by the time from the pipeline's `created_at` to its
     `finished_at`.
  3. idle memory: VmRSS of the server process after it has been idle for 2 s, before the runs
     above, and 2 s and SETTLE s (default 30) after them.
Writes bench/out/server.json and prints a summary.
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (TOKEN, api, commit, first_job_start, free_port, git, ms, pct,  # noqa: E402
                      receive_pack_starts, rss_kb, successful_pipeline, wait)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gantry")
    ap.add_argument("--pushes", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--stages", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--settle", type=int, default=30)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="gantry-bench-server-")
    work = tempfile.mkdtemp(prefix="gantry-bench-work-")
    port = free_port()
    log_path = os.path.join(work, "..", os.path.basename(work) + ".server.log")
    log_file = open(log_path, "w")
    server = subprocess.Popen(
        [a.gantry, "server", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
         "--concurrency", str(a.concurrency)],
        env=dict(os.environ, GANTRY_INITIAL_ROOT_TOKEN=TOKEN, GANTRY_LOG="warn,tower_http=debug",
                 NO_COLOR="1"),
        stdout=subprocess.PIPE, stderr=log_file, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"listening on (\S+)", line)
        if not m:
            sys.exit(f"bench/server.py: the server did not start: {line!r}")
        base = m.group(1)
        time.sleep(2)
        idle_before = rss_kb(server.pid)
        api(f"{base}/api/v4/projects", "POST", {"name": "bench", "namespace": "bench"})
        proj = f"{base}/api/v4/projects/bench%2Fbench"
        remote = f"http://root:{TOKEN}@127.0.0.1:{port}/bench/bench.git"
        git(work, "init", "-q", "-b", "main")
        with open(os.path.join(work, ".gitlab-ci.yml"), "w") as f:
            f.write("job:\n  script: ['true']\n")

        latencies, after_push, starts = [], [], []
        for i in range(a.pushes):
            commit(work, {"n.txt": str(i)}, f"c{i}")
            branch = f"b{i}"
            t0 = time.time() * 1000
            git(work, "push", "-q", remote, f"HEAD:refs/heads/{branch}")
            t1 = time.time() * 1000
            s = wait(lambda: first_job_start(proj, branch), f"the job of {branch} to start")
            latencies.append(s - t0)
            after_push.append(s - t1)
            starts.append(s)

        lines = [f"stages: [{', '.join(f's{k}' for k in range(a.stages))}]"]
        for j in range(a.jobs):
            lines.append(f"job-{j:04d}: {{stage: s{j * a.stages // a.jobs}, script: ['true']}}")
        commit(work, {".gitlab-ci.yml": "\n".join(lines) + "\n"}, "many jobs")
        git(work, "push", "-q", remote, "HEAD:refs/heads/many")
        p = successful_pipeline(proj, "many", "the many-jobs pipeline")
        seconds = (ms(p["finished_at"]) - ms(p["created_at"])) / 1000
        time.sleep(2)
        idle_after = rss_kb(server.pid)
        time.sleep(max(0, a.settle - 2))
        idle_settled = rss_kb(server.pid)
        log_file.flush()
        receive = receive_pack_starts(log_path)
        # One request per push: the latency pushes, then the many-jobs one.
        if len(receive) != a.pushes + 1:
            sys.exit(f"bench/server.py: {len(receive)} receive-pack requests logged, "
                     f"expected {a.pushes + 1}")
        from_receive = [s - r for s, r in zip(starts, receive)]
    finally:
        log_file.close()
        if os.path.exists(log_path):
            os.remove(log_path)
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "pushes": a.pushes, "concurrency": a.concurrency,
        "push_to_job_start_ms": {"p50": pct(latencies, 0.5), "p90": pct(latencies, 0.9),
                                  "max": max(latencies), "all": latencies},
        "push_end_to_job_start_ms": {"p50": pct(after_push, 0.5), "p90": pct(after_push, 0.9)},
        "receive_pack_request_to_job_start_ms": {"p50": pct(from_receive, 0.5),
                                                 "p90": pct(from_receive, 0.9),
                                                 "max": max(from_receive)},
        "throughput": {"jobs": a.jobs, "stages": a.stages, "seconds": seconds,
                       "jobs_per_second": a.jobs / seconds},
        "idle_rss_mb": {"at_start": idle_before / 1024, "after_runs": idle_after / 1024,
                        f"after_runs_{a.settle}s": idle_settled / 1024},
    }
    os.makedirs("bench/out", exist_ok=True)
    with open("bench/out/server.json", "w") as f:
        json.dump(result, f, indent=2)
    print(f"push -> first job start: p50 {result['push_to_job_start_ms']['p50']:.0f} ms, "
          f"p90 {result['push_to_job_start_ms']['p90']:.0f} ms ({a.pushes} pushes); "
          f"from the end of git push: p50 {result['push_end_to_job_start_ms']['p50']:.0f} ms; "
          f"from the server receiving the push request: p50 "
          f"{result['receive_pack_request_to_job_start_ms']['p50']:.0f} ms, "
          f"p90 {result['receive_pack_request_to_job_start_ms']['p90']:.0f} ms")
    print(f"throughput: {a.jobs} trivial jobs in {a.stages} stage(s) in {seconds:.2f} s = "
          f"{a.jobs / seconds:.0f} jobs/s (concurrency {a.concurrency})")
    print(f"idle RSS: {idle_before / 1024:.1f} MB at start, {idle_after / 1024:.1f} MB 2 s after the runs, "
          f"{idle_settled / 1024:.1f} MB {a.settle} s after them")


if __name__ == "__main__":
    main()
