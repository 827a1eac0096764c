#!/usr/bin/env python3
"""gantry deploy's overhead over the cluster's own readiness time, for 1 and 20 Deployments,
side by side with the kubectl way (`kubectl apply` then `kubectl rollout status` per
Deployment), on the test cluster of scripts/k8s-cluster.sh (docs/k8s-testenv.md).

    python3 bench/deploy.py target/release/gantry [--rounds 5] [--sizes 1,20]

Each round deploys N new Deployments (2 replicas each) into a fresh namespace. A watch
(`kubectl get deployments -w -o json`, started before the deployment) records when it first
saw each Deployment and when each became ready (observed generation current, every replica
updated and available): the cluster's own readiness time is from the first Deployment seen
to the last one ready. Overhead = the command's wall time minus that: what the tool adds
(process start, discovery, dry run, applying, noticing readiness, exiting). The first round
of each kind is a warm-up and not counted. Writes bench/out/deploy.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GANTRY_K8S_BIN", os.path.join(ROOT, ".cache/go-tools/bin"))
KUBECTL = os.path.join(BIN, "kubectl")


def start_cluster(folder):
    proc = subprocess.Popen(
        ["bash", os.path.join(ROOT, "scripts/k8s-cluster.sh"), folder],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    kubeconfig = None
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("KUBECONFIG="):
            kubeconfig = line.split("=", 1)[1]
        if line == "ready":
            return proc, kubeconfig
    sys.exit("the test cluster did not start")


class Watch:
    """Records, per Deployment of a namespace, when it was first seen ready."""

    def __init__(self, env, ns):
        self.first = {}
        self.ready = {}
        self.proc = subprocess.Popen(
            [KUBECTL, "get", "deployments", "-n", ns, "-w", "-o", "json"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        decoder = json.JSONDecoder()
        buf = ""
        for chunk in iter(lambda: self.proc.stdout.readline(), ""):
            buf += chunk
            while True:
                buf = buf.lstrip()
                if not buf:
                    break
                try:
                    obj, end = decoder.raw_decode(buf)
                except ValueError:
                    break
                buf = buf[end:]
                self.seen(obj, time.monotonic())

    def seen(self, obj, at):
        items = obj.get("items", [obj])
        for d in items:
            name = d["metadata"]["name"]
            self.first.setdefault(name, at)
            spec, status = d.get("spec", {}), d.get("status", {})
            want = spec.get("replicas", 1)
            done = (
                status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
                and status.get("updatedReplicas", 0) == want
                and status.get("availableReplicas", 0) == want
                and status.get("replicas", 0) == want
            )
            if done and name not in self.ready:
                self.ready[name] = at

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def manifests(folder, n):
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"web{i}.yaml"), "w") as f:
            f.write(
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web{i}}}\n"
                "spec:\n  replicas: 2\n"
                f"  selector: {{matchLabels: {{app: web{i}}}}}\n"
                f"  template:\n    metadata: {{labels: {{app: web{i}}}}}\n"
                "    spec: {containers: [{name: app, image: registry.test/app:v1}]}\n"
            )


def one(tool, gantry, env, work, n, ns):
    folder = os.path.join(work, ns)
    manifests(folder, n)
    subprocess.run([KUBECTL, "create", "namespace", ns], env=env, check=True, capture_output=True)
    watch = Watch(env, ns)
    time.sleep(0.3)  # the watch is established before the deployment starts
    start = time.monotonic()
    if tool == "gantry":
        cmds = [[gantry, "deploy", "-f", folder, "-n", ns, "--timeout", "120s"]]
    else:
        cmds = [[KUBECTL, "apply", "-n", ns, "-f", folder]] + [
            [KUBECTL, "rollout", "status", "-n", ns, f"deployment/web{i}", "--timeout=120s"]
            for i in range(n)
        ]
    for cmd in cmds:
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    end = time.monotonic()
    deadline = time.monotonic() + 5
    while len(watch.ready) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    watch.stop()
    if len(watch.ready) < n:
        sys.exit(f"{tool}: the watch saw {len(watch.ready)} of {n} Deployments ready")
    # The cluster's own time: from the first Deployment it showed to the last one ready.
    ready = max(watch.ready.values()) - min(watch.first.values())
    return {"wall_s": end - start, "ready_s": ready, "overhead_s": (end - start) - ready}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gantry")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sizes", default="1,20")
    args = ap.parse_args()
    gantry = os.path.abspath(args.gantry)
    work = tempfile.mkdtemp(prefix="gantry-bench-deploy-")
    proc, kubeconfig = start_cluster(os.path.join(work, "cluster"))
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    results = {}
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            for tool in ("gantry", "kubectl"):
                runs = []
                for r in range(args.rounds + 1):
                    res = one(tool, gantry, env, work, n, f"{tool}-{n}-{r}")
                    if r > 0:  # the first round warms caches (discovery, page cache)
                        runs.append(res)
                results[f"{tool}-{n}"] = runs
                med = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
                print(
                    f"{n:>3} Deployments  {tool:<8} wall {med['wall_s']*1000:7.0f} ms  "
                    f"cluster ready {med['ready_s']*1000:7.0f} ms  overhead {med['overhead_s']*1000:6.0f} ms  "
                    f"(median of {len(runs)})"
                )
    finally:
        proc.stdin.close()
        proc.wait()
    os.makedirs(os.path.join(ROOT, "bench/out"), exist_ok=True)
    with open(os.path.join(ROOT, "bench/out/deploy.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
