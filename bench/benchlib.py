"""Helpers the server benchmarks share (bench/server.py, bench/runners.py)."""
import json, os, re, socket, subprocess, sys, time
import urllib.request
from datetime import datetime, timezone

TOKEN = "glpat-bench000000000000000"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def api(url, method="GET", body=None, token=TOKEN):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read() or b"null")


def ms(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def git(work, *args):
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", HOME=work)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=work, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait(fn, what, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v is not None:
            return v
        time.sleep(0.02)
    sys.exit(f"{os.path.basename(sys.argv[0])}: timed out waiting for {what}")


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def commit(work, files, message):
    """Writes `files` (name -> text) in `work` and commits everything."""
    for name, text in files.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)


def first_job_start(proj, ref):
    """The `started_at` (ms) of the first job of `ref`'s newest pipeline, or None yet."""
    ps = api(f"{proj}/pipelines?ref={ref}")
    if not ps:
        return None
    jobs = api(f"{proj}/pipelines/{ps[0]['id']}/jobs")
    s = jobs[0].get("started_at") if jobs else None
    return ms(s) if s else None


def successful_pipeline(proj, ref, what, timeout=1200):
    """Waits for `ref`'s newest pipeline to finish; exits unless it succeeded."""
    def finished():
        ps = api(f"{proj}/pipelines?ref={ref}")
        if not ps:
            return None
        p = api(f"{proj}/pipelines/{ps[0]['id']}")
        return p if p.get("finished_at") else None
    p = wait(finished, what, timeout=timeout)
    if p["status"] != "success":
        sys.exit(f"{os.path.basename(sys.argv[0])}: {what} ended {p['status']}")
    return p


def receive_pack_starts(log_path):
    """When (ms) the server started on each `POST git-receive-pack`, from its request log
    (`GANTRY_LOG=tower_http=debug`)."""
    with open(log_path) as f:
        return [ms(re.match(r"(\S+Z)", line).group(1)[:23] + "Z") for line in f
                if "POST" in line and "git-receive-pack" in line and "started processing" in line]
