#!/usr/bin/env python3
"""Benchmarks `gantry server` with runners over the GitLab runner protocol.

usage: python3 bench/runners.py GANTRY_BIN [--pushes N] [--jobs N] [--pollers N] [--probes N]

The server runs no job itself (`--concurrency 0`): every job goes to a runner. Then:
  1. latency with an idle polling runner: one `gantry runner run` (concurrency 2) sits in its
     long poll; N times (default 20) a commit with a one-job pipeline is pushed to a new
     branch; latency = the job's `started_at` (set when the runner confirms the job) minus the
     time just before `git push` started, and minus the moment the server started on the
     push's `POST git-receive-pack` request (its request log).
  2. jobs per second with two runners: a second `gantry runner run` (concurrency 2) joins, and
     a pipeline of JOBS (default 300) `script: [true]` jobs in one stage runs on both;
     JOBS / (pipeline `finished_at` - `created_at`), and how many jobs each runner ran.
  3. POLLERS (default 200) runners, each a thread holding a long poll (`last_update` = the
     server's tick) without a pause between polls, for the whole phase; meanwhile a prober
     makes PROBES (default 400) requests one after another, alternating a poll that is
     answered at once (no `last_update`) and `GET /api/v4/projects/:id`, and records each
     latency (p50, p99, max). Then one job is pushed and the time until one held poller gets
     it is recorded. The server's RSS is read with all polls held.
Writes bench/out/runners.json and prints a summary. Every process it starts is stopped at
the end; the pollers stop after the phase.
"""
import argparse, json, os, re, shutil, signal, subprocess, sys, tempfile, threading, time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (TOKEN, api, commit, first_job_start, free_port, git, ms, pct,  # noqa: E402
                      receive_pack_starts, rss_kb, successful_pipeline, wait)


class Poller(threading.Thread):
    """A runner holding long polls on its own connection until `stop` is set."""

    def __init__(self, port, token, stop):
        super().__init__(daemon=True)
        self.port, self.token, self.stop = port, token, stop
        self.tick = None
        self.early = 0      # polls answered 204 before the hold ended (should be none)
        self.jobs = []      # (time got, job id)
        self.errors = 0
        self.holding = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        while not self.stop.is_set():
            body = {"token": self.token, "info": {"features": {"two_phase_job_commit": True}}}
            if self.tick is not None:
                body["last_update"] = self.tick
                self.holding.set()
            t0 = time.time()
            try:
                conn.request("POST", "/api/v4/jobs/request", json.dumps(body),
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
            except Exception:
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                time.sleep(0.1)
                continue
            if r.status == 201:
                self.jobs.append((time.time() * 1000, json.loads(data)["id"]))
            elif r.status == 204:
                held = self.tick is not None
                self.tick = r.getheader("X-GitLab-Last-Update")
                if held and time.time() - t0 < 1.0 and not self.stop.is_set():
                    self.early += 1
            else:
                self.errors += 1
                time.sleep(0.1)
        conn.close()


def main():
    # SIGTERM ends the run through the cleanup below, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench/runners.py: terminated"))
    ap = argparse.ArgumentParser()
    ap.add_argument("gantry")
    ap.add_argument("--pushes", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--pollers", type=int, default=200)
    ap.add_argument("--probes", type=int, default=400)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="gantry-bench-runners-")
    work = os.path.join(data, "work")
    os.makedirs(work)
    port = free_port()
    log_path = os.path.join(data, "server.log")
    log_file = open(log_path, "w")
    procs = []
    server = subprocess.Popen(
        [a.gantry, "server", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(data, "srv"),
         "--concurrency", "0", "--runner-poll-timeout", "20"],
        env=dict(os.environ, GANTRY_INITIAL_ROOT_TOKEN=TOKEN, GANTRY_LOG="warn,tower_http=debug",
                 NO_COLOR="1"),
        stdout=subprocess.PIPE, stderr=log_file, text=True)
    procs.append(server)
    stop = threading.Event()
    pollers = []
    try:
        line = server.stdout.readline()
        m = re.search(r"listening on (\S+)", line)
        if not m:
            sys.exit(f"bench/runners.py: the server did not start: {line!r}")
        base = m.group(1)
        project = api(f"{base}/api/v4/projects", "POST", {"name": "bench", "namespace": "bench"})
        proj = f"{base}/api/v4/projects/bench%2Fbench"
        remote = f"http://root:{TOKEN}@127.0.0.1:{port}/bench/bench.git"

        def start_runner(name):
            token = subprocess.run(
                [a.gantry, "runner", "create", "--url", base, "--description", name],
                env=dict(os.environ, GANTRY_TOKEN=TOKEN), check=True, capture_output=True,
                text=True).stdout.strip()
            config = os.path.join(data, f"{name}.toml")
            subprocess.run([a.gantry, "runner", "register", "--url", base, "--token", token,
                            "--name", name, "--config", config,
                            "--builds-dir", os.path.join(data, f"{name}-builds")],
                           check=True, capture_output=True)
            p = subprocess.Popen([a.gantry, "runner", "run", "--concurrency", "2", "--config", config],
                                 env=dict(os.environ, GANTRY_LOG="warn"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(p)
            return p

        start_runner("first")
        time.sleep(2)  # its first polls are answered; then it holds one
        git(work, "init", "-q", "-b", "main")
        with open(os.path.join(work, ".gitlab-ci.yml"), "w") as f:
            f.write("job:\n  script: ['true']\n")
        latencies, starts = [], []
        for i in range(a.pushes):
            commit(work, {"n.txt": str(i)}, f"c{i}")
            branch = f"b{i}"
            t0 = time.time() * 1000
            git(work, "push", "-q", remote, f"HEAD:refs/heads/{branch}")
            s = wait(lambda: first_job_start(proj, branch), f"the job of {branch} to start")
            latencies.append(s - t0)
            starts.append(s)
            time.sleep(0.3)  # the runner is back in its long poll
        log_file.flush()
        receive = receive_pack_starts(log_path)
        from_receive = [s - r for s, r in zip(starts, receive)]

        start_runner("second")
        time.sleep(2)
        lines = [f"job-{j:04d}: {{script: ['true']}}" for j in range(a.jobs)]
        commit(work, {".gitlab-ci.yml": "\n".join(lines) + "\n"}, "many jobs")
        git(work, "push", "-q", remote, "HEAD:refs/heads/many")
        p = successful_pipeline(proj, "many", "the many-jobs pipeline")
        seconds = (ms(p["finished_at"]) - ms(p["created_at"])) / 1000
        per_runner = {}
        page = 1
        while True:
            jobs = api(f"{proj}/pipelines/{p['id']}/jobs?per_page=100&page={page}")
            for j in jobs:
                name = (j.get("runner") or {}).get("description", "?")
                per_runner[name] = per_runner.get(name, 0) + 1
            if len(jobs) < 100:
                break
            page += 1
        for proc in procs[1:]:
            proc.terminate()
        for proc in procs[1:]:
            proc.wait(30)

        # Many runners holding long polls.
        tokens = [api(f"{base}/api/v4/user/runners", "POST",
                      {"runner_type": "instance_type", "description": f"poller-{i}", "tag_list": ["poll"],
                       "run_untagged": False})["token"] for i in range(a.pollers)]
        pollers = [Poller(port, t, stop) for t in tokens]
        for t in pollers:
            t.start()
        for t in pollers:
            if not t.holding.wait(60):
                sys.exit("bench/runners.py: a poller never got to hold a poll")
        time.sleep(1)
        rss_held = rss_kb(server.pid)
        probe_token = tokens[0]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        poll_ms, api_ms = [], []
        for i in range(a.probes):
            t0 = time.perf_counter()
            if i % 2 == 0:
                conn.request("POST", "/api/v4/jobs/request", json.dumps({"token": probe_token}),
                             {"Content-Type": "application/json"})
            else:
                conn.request("GET", f"/api/v4/projects/{project['id']}", headers={"PRIVATE-TOKEN": TOKEN})
            r = conn.getresponse()
            r.read()
            (poll_ms if i % 2 == 0 else api_ms).append((time.perf_counter() - t0) * 1000)
            if r.status not in (200, 204):
                sys.exit(f"bench/runners.py: a probe got {r.status}")
        conn.close()
        probes = poll_ms + api_ms
        commit(work, {".gitlab-ci.yml": "polled:\n  tags: [poll]\n  script: ['true']\n"}, "a job for the pollers")
        t0 = time.time() * 1000
        git(work, "push", "-q", remote, "HEAD:refs/heads/polled")
        got = wait(lambda: next((j for t in pollers for j in t.jobs), None), "a poller to get the job", 60)
        wake_ms = got[0] - t0
        stop.set()
        early = sum(t.early for t in pollers)
        errors = sum(t.errors for t in pollers)
    finally:
        stop.set()
        log_file.close()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(data, ignore_errors=True)

    result = {
        "idle_runner": {"pushes": a.pushes,
                        "push_to_job_start_ms": {"p50": pct(latencies, 0.5), "p90": pct(latencies, 0.9),
                                                 "max": max(latencies)},
                        "receive_pack_request_to_job_start_ms": {"p50": pct(from_receive, 0.5),
                                                                 "p90": pct(from_receive, 0.9)}},
        "two_runners": {"jobs": a.jobs, "seconds": seconds, "jobs_per_second": a.jobs / seconds,
                        "jobs_per_runner": per_runner},
        "held_polls": {"pollers": a.pollers, "probes": a.probes,
                       "probe_ms": {"p50": pct(probes, 0.5), "p99": pct(probes, 0.99), "max": max(probes)},
                       "immediate_poll_ms": {"p50": pct(poll_ms, 0.5), "p99": pct(poll_ms, 0.99)},
                       "api_get_ms": {"p50": pct(api_ms, 0.5), "p99": pct(api_ms, 0.99)},
                       "push_to_a_poller_getting_the_job_ms": wake_ms,
                       "polls_answered_early": early, "poll_errors": errors,
                       "server_rss_mb": rss_held / 1024},
    }
    os.makedirs("bench/out", exist_ok=True)
    with open("bench/out/runners.json", "w") as f:
        json.dump(result, f, indent=2)
    r1, r2, r3 = result["idle_runner"], result["two_runners"], result["held_polls"]
    print(f"idle runner: push -> job start p50 {r1['push_to_job_start_ms']['p50']:.0f} ms, "
          f"p90 {r1['push_to_job_start_ms']['p90']:.0f} ms; from the server receiving the push: "
          f"p50 {r1['receive_pack_request_to_job_start_ms']['p50']:.0f} ms ({a.pushes} pushes)")
    print(f"two runners: {a.jobs} trivial jobs in {seconds:.2f} s = {a.jobs / seconds:.0f} jobs/s; "
          f"per runner {per_runner}")
    print(f"{a.pollers} held polls: probes p50 {r3['probe_ms']['p50']:.1f} ms, p99 {r3['probe_ms']['p99']:.1f} ms, "
          f"max {r3['probe_ms']['max']:.1f} ms; push -> a poller has the job {wake_ms:.0f} ms; "
          f"early answers {early}, errors {errors}; server RSS {rss_held / 1024:.1f} MB")


if __name__ == "__main__":
    main()
