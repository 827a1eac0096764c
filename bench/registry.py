#!/usr/bin/env python3
"""Push and pull throughput of a 1 GiB image: gantry's registry against the CNCF distribution
registry (built by scripts/go-tools.sh), on the same machine, in the same run, with the same
client (skopeo) and the same image.

    python3 bench/registry.py target/release/gantry [--size-mib 1024] [--rounds 3]

The image is an OCI layout made once under bench/out/registry-image (four gzip layers of
random bytes, so no client recompresses or deduplicates anything). Each round pushes it to a
freshly started registry of each kind (`skopeo copy oci:... docker://...`) and pulls it back
(`docker://... dir:`), alternating which registry goes first; the best round counts. Both registries keep their data
in temporary directories on the same disk. Results go to bench/out/registry.json.
"""
import argparse, gzip, hashlib, json, os, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import TOKEN, api, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_image(size_mib):
    """An OCI layout with four layers of `size_mib / 4` MiB of random bytes, gzipped."""
    layout = os.path.join(OUT, f"registry-image-{size_mib}")
    if os.path.exists(os.path.join(layout, "index.json")):
        return layout
    shutil.rmtree(layout, ignore_errors=True)
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)
    layers = []
    for i in range(4):
        tmp = os.path.join(layout, f"layer{i}.tmp")
        raw = hashlib.sha256()
        with gzip.open(tmp, "wb", compresslevel=1) as z:
            for _ in range(size_mib // 4):
                chunk = os.urandom(1 << 20)
                raw.update(chunk)
                z.write(chunk)
        digest = sha256_file(tmp)
        os.rename(tmp, os.path.join(blobs, digest))
        layers.append((digest, os.path.getsize(os.path.join(blobs, digest)), raw.hexdigest()))
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{l[2]}" for l in layers]},
    }).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    open(os.path.join(blobs, config_digest), "wb").write(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": f"sha256:{config_digest}", "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": f"sha256:{d}", "size": s} for d, s, _ in layers],
    }).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    open(os.path.join(blobs, manifest_digest), "wb").write(manifest)
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": f"sha256:{manifest_digest}", "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "bench"}}]},
        open(os.path.join(layout, "index.json"), "w"))
    open(os.path.join(layout, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
    return layout


def wait_http(url):
    for _ in range(200):
        try:
            subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=True, timeout=2)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def skopeo(*args, creds=None):
    cmd = ["skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false"]
    if creds:
        cmd += ["--src-creds", creds, "--dest-creds", creds]
    start = time.monotonic()
    subprocess.run(cmd + list(args), check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("gantry")
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    layout = make_image(a.size_mib)
    image_bytes = sum(os.path.getsize(os.path.join(layout, "blobs", "sha256", f))
                      for f in os.listdir(os.path.join(layout, "blobs", "sha256")))
    distribution = os.path.join(ROOT, ".cache", "go-tools", "bin", "registry")
    if not os.path.exists(distribution):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "go-tools.sh")], check=True)
    runs = {name: {"push_s": [], "pull_s": []} for name in ("gantry", "distribution")}
    for r in range(a.rounds):
        # Fresh registries each round: a registry that has the blobs already is not pushed to.
        work = tempfile.mkdtemp(dir=os.environ.get("TMPDIR"))
        procs = []
        try:
            gport, dport = free_port(), free_port()
            procs.append(subprocess.Popen(
                [a.gantry, "server", "--listen", f"127.0.0.1:{gport}", "--data-dir", os.path.join(work, "gantry")],
                env=dict(os.environ, GANTRY_INITIAL_ROOT_TOKEN=TOKEN, GANTRY_LOG="warn"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                [distribution, "serve", os.path.join(ROOT, "tests", "oci", "registry-config.yml")],
                env=dict(os.environ, OTEL_TRACES_EXPORTER="none",
                         REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=os.path.join(work, "distribution"),
                         REGISTRY_HTTP_ADDR=f"127.0.0.1:{dport}"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{gport}/-/health")
            wait_http(f"http://127.0.0.1:{dport}/v2/")
            api(f"http://127.0.0.1:{gport}/api/v4/projects", "POST", {"name": "images", "namespace": "bench"})
            targets = {
                "gantry": (f"127.0.0.1:{gport}/bench/images", f"root:{TOKEN}"),
                "distribution": (f"127.0.0.1:{dport}/bench/images", None),
            }
            order = list(targets) if r % 2 == 0 else list(reversed(targets))
            for name in order:
                repo, creds = targets[name]
                dest = f"docker://{repo}:bench"
                runs[name]["push_s"].append(skopeo(f"oci:{layout}:bench", dest, creds=creds))
                pulled = os.path.join(work, f"pull-{name}")
                runs[name]["pull_s"].append(skopeo(dest, f"dir:{pulled}", creds=creds))
                shutil.rmtree(pulled)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
    mib = image_bytes / (1 << 20)
    result = {"image_mib": round(mib, 1), "rounds": a.rounds, "registries": {}}
    for name, r in runs.items():
        best_push, best_pull = min(r["push_s"]), min(r["pull_s"])
        result["registries"][name] = {
            "push_s": [round(x, 2) for x in r["push_s"]], "pull_s": [round(x, 2) for x in r["pull_s"]],
            "push_mib_s": round(mib / best_push, 1), "pull_mib_s": round(mib / best_pull, 1)}
    g, d = result["registries"]["gantry"], result["registries"]["distribution"]
    result["ratio_push"] = round(g["push_mib_s"] / d["push_mib_s"], 2)
    result["ratio_pull"] = round(g["pull_mib_s"] / d["pull_mib_s"], 2)
    json.dump(result, open(os.path.join(OUT, "registry.json"), "w"), indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
